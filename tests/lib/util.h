/* The helpers every C test program shares (tests/lib/libtestutil.la): temp
 * dirs, files and paths.  The syslog capture is tests/lib/syslogcap.c, a
 * plain source of the programs that need it (it must be linked into the
 * executable itself to override libc's syslog()).  Including this also
 * gives tap.h.  Every helper fails the test (TAP "Bail out!") rather than
 * carry on with a half-made fixture, unless it says it returns -1. */
#ifndef FLOWTOTP_TESTS_LIB_UTIL_H
#define FLOWTOTP_TESTS_LIB_UTIL_H

/* The files tests use these through this header (it was header-only with
 * them before it became a library). */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

/* The program's private temp dir (tdir_make), resolved so no symlink is on
 * its path, removed at exit by the process that made it. */
extern char tdir[PATH_MAX];

/* Make tdir: under $TMPDIR (or /tmp), mode 0755 so that a dropped uid can
 * reach it. */
void tdir_make(void);
/* tdir/name, in one of a few rotating static buffers. */
const char *tpath(const char *name);
/* Replace path (unlinked first) with data and mode. */
void write_file(const char *path, const void *data, size_t len, mode_t mode);
void write_str(const char *path, const char *s, mode_t mode);
/* NULL-safe strstr test. */
bool contains(const char *hay, const char *needle);

/* mkdtemp under $TMPDIR (or /tmp); returns a malloc'd path. */
char *tu_mkdtemp(const char *tag);
/* rm -rf (does not follow symlinks; makes directories enterable first). */
void tu_rmrf(const char *path);
/* Write a file with mode (creating or truncating; does not follow a final
 * symlink); returns 0 or -1. */
int tu_write_file(const char *path, const void *data, size_t len, mode_t mode);
/* printf into a buffer the caller provides; bails out if it does not fit. */
/* A setup call that must succeed (returns 0); otherwise bail out. */
#define MUST(x)                                                                \
	do {                                                                   \
		if ((x) != 0)                                                  \
			bail_out("%s: %s", #x, strerror(errno));               \
	} while (0)

/* Run this program again (argv, with the environment set up for it) and
 * wait: its exit status, after removing the directory root.  For tests
 * whose libraries (nss_wrapper) must be preloaded from the start.  Runs
 * argv[0] when it is a path, so that valgrind --trace-children follows. */
int tu_reexec(char *const argv[], const char *root);

void tu_fmt(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The whole file (up to len - 1 bytes) as a string; "" if it cannot be
 * opened. */
void tu_read_text(const char *path, char *buf, size_t len);
/* Run argv (looked up in PATH when argv[0] has no '/') with its stdout,
 * and with_stderr its stderr too, in out (up to outlen - 1 bytes): its
 * exit status, or -1 if it did not exit. */
int tu_run(char *const argv[], bool with_stderr, char *out, size_t outlen);

/* A TOTP secret as the tests write it, and its code at time t from
 * oathtool ($OATHTOOL, else oathtool in PATH), an implementation
 * independent of ours. */
struct tu_totp {
	const char *key;  /* base32, unpadded */
	const char *algo; /* SHA1 SHA256 SHA512 */
	unsigned digits;
	unsigned period;
};
void tu_totp_code(const struct tu_totp *s, long t, char *out, size_t outlen);
/* Is oathtool there (it answers --version)? */
bool tu_have_oathtool(void);
/* Count directory entries whose name starts with prefix; -1 on error. */
int tu_count_prefix(const char *dir, const char *prefix);

#endif
