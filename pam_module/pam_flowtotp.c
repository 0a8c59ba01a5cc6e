/* pam_flowtotp: ask for a TOTP (or backup) code after the password.
 * The only symbols this module exports; the work is in login.c. */
#include <config.h>

#include <security/pam_modules.h>

#include "module.h"

PAM_EXTERN int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return ftpam_authenticate(pamh, flags, argc, argv);
}

/* The code proves who the user is; there are no credentials to set. */
PAM_EXTERN int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}
