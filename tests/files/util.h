/* Helpers shared by the tests/files programs: a private temp directory
 * (resolved, so no symlink is on its path) removed at exit, and small file
 * utilities.  Header-only like tap.h. */
#ifndef FLOWTOTP_TESTS_FILES_UTIL_H
#define FLOWTOTP_TESTS_FILES_UTIL_H

#include <sys/stat.h>
#include <sys/types.h>

#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

static char tdir[PATH_MAX];
static pid_t tdir_owner;

static void
tdir_cleanup(void)
{
	char cmd[PATH_MAX + 32];

	if (tdir[0] == '\0' || getpid() != tdir_owner)
		return;
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", tdir);
}

/* mkdtemp under /tmp, realpath'd; world-searchable so that a dropped uid
 * could reach it. */
static void
tdir_make(void)
{
	char tmpl[] = "/tmp/ft-files-XXXXXX";

	if (mkdtemp(tmpl) == NULL || realpath(tmpl, tdir) == NULL)
		bail_out("mkdtemp: cannot make a temp dir");
	if (chmod(tdir, 0755) != 0)
		bail_out("chmod temp dir");
	tdir_owner = getpid();
	atexit(tdir_cleanup);
}

/* tdir/name into buf (static rotating buffers). */
static const char *
tpath(const char *name)
{
	static char bufs[8][PATH_MAX];
	static unsigned n;
	char *b = bufs[n++ % 8U];

	if ((size_t)snprintf(b, PATH_MAX, "%.2048s/%.1024s", tdir, name) >=
	    PATH_MAX)
		bail_out("path too long");
	return b;
}

static void
write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd;

	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1 || write(fd, data, len) != (ssize_t)len ||
	    fchmod(fd, mode) != 0 || close(fd) != 0)
		bail_out("write_file %s", path);
}

static void
write_str(const char *path, const char *s, mode_t mode)
{
	write_file(path, s, strlen(s), mode);
}

static bool
contains(const char *hay, const char *needle)
{
	return hay != NULL && needle != NULL && strstr(hay, needle) != NULL;
}

#endif
