/* Small helpers shared by the tests in tests/pam. */
#ifndef FLOWTOTP_TESTS_PAM_UTIL_H
#define FLOWTOTP_TESTS_PAM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* mkdtemp under $TMPDIR (or /tmp); exits on failure.  Returns a malloc'd
 * path. */
char *tu_mkdtemp(const char *tag);
/* rm -rf (does not follow symlinks). */
void tu_rmrf(const char *path);
/* Write a file with mode (creating or truncating; does not follow a final
 * symlink); returns 0 or -1. */
int tu_write_file(const char *path, const void *data, size_t len, mode_t mode);
/* printf into a static-size buffer the caller provides; exits if it does
 * not fit (tests only). */
void tu_fmt(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Count directory entries whose name starts with prefix. */
int tu_count_prefix(const char *dir, const char *prefix);

#endif
