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
		execv(strchr(argv[0], '/') != NULL ? argv[0] : "/proc/self/exe",
		    argv);
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

void
tu_read_text(const char *path, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	buf[0] = '\0';
	if (fd < 0)
		return;
	while (got + 1 < len && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	(void)close(fd);
}

int
tu_run(char *const argv[], bool with_stderr, char *out, size_t outlen)
{
	int pfd[2], st = 0;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	MUST(pipe(pfd));
	pid = fork();
	if (pid < 0)
		bail_out("fork");
	if (pid == 0) {
		(void)dup2(pfd[1], STDOUT_FILENO);
		if (with_stderr)
			(void)dup2(pfd[1], STDERR_FILENO);
		(void)close(pfd[0]);
		(void)close(pfd[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	(void)close(pfd[1]);
	while (got + 1 < outlen &&
	    (n = read(pfd[0], out + got, outlen - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	(void)close(pfd[0]);
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static const char *
oathtool(void)
{
	const char *o = getenv("OATHTOOL");

	return o != NULL && o[0] != '\0' ? o : "oathtool";
}

void
tu_totp_code(const struct tu_totp *s, long t, char *out, size_t outlen)
{
	char prog[PATH_MAX], mode[32], digits[32], step[32], now[32];
	char key[256], dash_b[] = "-b";
	char *argv[] = {prog, mode, digits, step, now, dash_b, key, NULL};

	tu_fmt(prog, sizeof(prog), "%s", oathtool());
	tu_fmt(mode, sizeof(mode), "--totp=%s", s->algo);
	tu_fmt(digits, sizeof(digits), "--digits=%u", s->digits);
	tu_fmt(step, sizeof(step), "--time-step-size=%us", s->period);
	tu_fmt(now, sizeof(now), "--now=@%ld", t);
	tu_fmt(key, sizeof(key), "%s", s->key);
	if (tu_run(argv, false, out, outlen) != 0)
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	if (strlen(out) != s->digits)
		bail_out("oathtool failed for %s/%u/%u", s->algo, s->digits,
		    s->period);
}

bool
tu_have_oathtool(void)
{
	char prog[PATH_MAX], out[64], version[] = "--version";
	char *argv[] = {prog, version, NULL};

	tu_fmt(prog, sizeof(prog), "%s", oathtool());
	return tu_run(argv, false, out, sizeof(out)) == 0;
}
