/* A strdup() that test_pam can make fail (failstrdup.c). */
#ifndef FLOWTOTP_TESTS_PAM_FAILSTRDUP_H
#define FLOWTOTP_TESTS_PAM_FAILSTRDUP_H

/* While set, a strdup() of exactly this string called from the module
 * under test (pam_flowtotp_test.so) returns NULL with errno ENOMEM. */
void fs_arm(const char *s);
/* Back to libc's behaviour for every call. */
void fs_disarm(void);
/* How many calls failed since the last fs_arm(). */
unsigned fs_failures(void);

#endif
