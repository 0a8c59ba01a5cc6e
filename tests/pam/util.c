/* Small helpers shared by the tests in tests/pam. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define TU_NOPENFD 32

char *
tu_mkdtemp(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char buf[4096];
	char *p;

	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	tu_fmt(buf, sizeof(buf), "%s/ft-%s-XXXXXX", base, tag);
	if (mkdtemp(buf) == NULL) {
		printf("Bail out! mkdtemp %s: %s\n", buf, strerror(errno));
		exit(1);
	}
	p = strdup(buf);
	if (p == NULL) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	return p;
}

static int
rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) == 0 ? 0 : 0;
	(void)unlink(path);
	return 0;
}

static int
chmod_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)ftw;
	/* Make every directory enterable again so the walk can remove it. */
	if (type == FTW_D || type == FTW_DNR)
		(void)chmod(path, (sb->st_mode & 07777) | 0700);
	return 0;
}

void
tu_rmrf(const char *path)
{
	if (path == NULL)
		return;
	(void)chmod(path, 0700);
	(void)nftw(path, chmod_one, TU_NOPENFD, FTW_PHYS);
	(void)nftw(path, rm_one, TU_NOPENFD, FTW_PHYS | FTW_DEPTH);
}

int
tu_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	const char *p = data;
	ssize_t n;
	int fd;

	fd = open(
	    path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			(void)close(fd);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fchmod(fd, mode) != 0) {
		(void)close(fd);
		return -1;
	}
	return close(fd);
}

void
tu_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		printf("Bail out! string too long\n");
		exit(1);
	}
}

int
tu_count_prefix(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	(void)closedir(d);
	return n;
}
