/* The helpers every C test program shares: see util.h. */
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
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

/* File descriptors nftw may keep open: deeper trees are still walked. */
#define TU_NOPENFD 32
/* tpath() results stay valid for this many later calls. */
#define TU_NPATHS 8U
/* Mode of tdir: others may search it (tests that drop to another uid). */
#define TU_TDIR_MODE 0755

char tdir[PATH_MAX];
static pid_t tdir_owner;

char *
tu_mkdtemp(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char buf[4096];
	char *p;

	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	tu_fmt(buf, sizeof(buf), "%s/ft-%s-XXXXXX", base, tag);
	if (mkdtemp(buf) == NULL)
		bail_out("mkdtemp %s: %s", buf, strerror(errno));
	p = strdup(buf);
	if (p == NULL)
		bail_out("out of memory");
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
	if (n < 0 || (size_t)n >= len)
		bail_out("string too long");
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

static void
tdir_cleanup(void)
{
	/* A forked child exits too: only the maker removes the dir. */
	if (tdir[0] != '\0' && getpid() == tdir_owner)
		tu_rmrf(tdir);
}

void
tdir_make(void)
{
	char *made = tu_mkdtemp("files");

	if (realpath(made, tdir) == NULL)
		bail_out("realpath %s: %s", made, strerror(errno));
	free(made);
	if (chmod(tdir, TU_TDIR_MODE) != 0)
		bail_out("chmod %s: %s", tdir, strerror(errno));
	tdir_owner = getpid();
	if (atexit(tdir_cleanup) != 0)
		bail_out("atexit");
}

const char *
tpath(const char *name)
{
	static char bufs[TU_NPATHS][PATH_MAX];
	static unsigned n;
	char *b = bufs[n++ % TU_NPATHS];

	tu_fmt(b, PATH_MAX, "%s/%s", tdir, name);
	return b;
}

void
write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	/* Unlinked first so that a link or a file of another owner left
	 * there by the previous case is replaced, not written through. */
	if (unlink(path) != 0 && errno != ENOENT)
		bail_out("unlink %s: %s", path, strerror(errno));
	if (tu_write_file(path, data, len, mode) != 0)
		bail_out("write_file %s: %s", path, strerror(errno));
}

void
write_str(const char *path, const char *s, mode_t mode)
{
	write_file(path, s, strlen(s), mode);
}

bool
contains(const char *hay, const char *needle)
{
	return hay != NULL && needle != NULL && strstr(hay, needle) != NULL;
}

int
tu_reexec(char *const argv[], const char *root)
{
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		bail_out("fork");
	if (pid == 0) {
		execv("/proc/self/exe", argv);
		printf("Bail out! re-exec: %s\n", strerror(errno));
		_exit(1);
	}
	if (waitpid(pid, &st, 0) < 0)
		st = 1;
	tu_rmrf(root);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	printf("Bail out! test process died (signal %d)\n",
	    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return 1;
}
