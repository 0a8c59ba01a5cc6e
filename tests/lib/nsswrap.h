/* Users from nss_wrapper for a test program that runs itself again with
 * the wrapper preloaded (tests/lib/libtestutil.la): the passwd and group
 * files under the test's root, the preload, the libraries' directory. */
#ifndef FLOWTOTP_TESTS_LIB_NSSWRAP_H
#define FLOWTOTP_TESTS_LIB_NSSWRAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The directory libc was loaded from (the multiarch lib dir) in d1, and
 * the same under /usr in d2 (they differ where /lib is not /usr/lib). */
void tu_lib_dirs(char *d1, size_t n1, char *d2, size_t n2);
/* name in one of those directories; false (out "") if in neither. */
bool tu_find_lib(const char *name, char *out, size_t outlen);

/* LD_PRELOAD = [first:]libnss_wrapper.so[:what was there] for the run
 * again; skips the whole test (after removing root) where nss_wrapper is
 * not installed (Debian libnss-wrapper). */
void tu_nss_preload(const char *root, const char *first);

/* root/passwd and root/group (with "ftgroup", our gid), homes under
 * root/home (made here, 0755), and NSS_WRAPPER_PASSWD/GROUP set. */
struct tu_users {
	char root[4096];
	FILE *pw;
	FILE *gr;
};
void tu_users_begin(struct tu_users *u, const char *root);
/* A user with our gid when uid is ours, else gid = uid (with a group
 * entry); the home root/home/NAME made with home_mode (owned by the user)
 * unless home_mode is negative (a home that does not exist). */
void tu_users_add(
    struct tu_users *u, const char *name, unsigned long uid, int home_mode);
void tu_users_end(struct tu_users *u);

#endif
