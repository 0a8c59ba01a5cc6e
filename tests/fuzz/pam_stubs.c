/* Fuzz-only fakes for the libpam calls pam_flowtotp makes, so the whole
 * pam_sm_authenticate runs in-process without libpam, a PAM service file
 * or a real user (fuzz_pam.c).  Linked instead of libpam; never installed.
 *
 * The handle holds the items the module reads and writes, the scripted
 * answer the conversation returns, and the log lines pam_syslog would
 * send (formatted for real, so format bugs show up under ASan). */
#include <config.h>

#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <security/pam_modutil.h>

#include "pam_stubs.h"
#include "clock.h"

time_t
ft_now(void)
{
	return fuzz_now;
}

const char *
ft_boot_id_file(void)
{
	return "/proc/sys/kernel/random/boot_id";
}

time_t fuzz_now;

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

int
pam_get_item(const pam_handle_t *pamh, int type, const void **item)
{
	switch (type) {
	case PAM_SERVICE: *item = pamh->service; return PAM_SUCCESS;
	case PAM_USER: *item = pamh->user; return PAM_SUCCESS;
	case PAM_RHOST: *item = pamh->rhost; return PAM_SUCCESS;
	case PAM_AUTHTOK: *item = pamh->authtok; return PAM_SUCCESS;
	default: *item = NULL; return PAM_BAD_ITEM;
	}
}

int
pam_set_item(pam_handle_t *pamh, int type, const void *item)
{
	if (type != PAM_AUTHTOK)
		return PAM_BAD_ITEM;
	if (pamh->authtok != NULL) {
		memset(pamh->authtok, 0, strlen(pamh->authtok));
		free(pamh->authtok);
	}
	pamh->authtok = dup_or_null(item);
	pamh->authtok_sets++;
	return item != NULL && pamh->authtok == NULL ? PAM_BUF_ERR
						     : PAM_SUCCESS;
}

int
pam_set_data(pam_handle_t *pamh, const char *name, void *data,
    void (*cleanup)(pam_handle_t *, void *, int))
{
	if (pamh->data_name != NULL && strcmp(pamh->data_name, name) != 0)
		return PAM_BUF_ERR; /* one slot is all the module needs */
	if (pamh->data_cleanup != NULL)
		pamh->data_cleanup(pamh, pamh->data, PAM_DATA_REPLACE);
	if (pamh->data_name == NULL && (pamh->data_name = strdup(name)) == NULL)
		return PAM_BUF_ERR;
	pamh->data = data;
	pamh->data_cleanup = cleanup;
	return PAM_SUCCESS;
}

int
pam_get_data(const pam_handle_t *pamh, const char *name, const void **data)
{
	if (pamh->data_name == NULL || strcmp(pamh->data_name, name) != 0 ||
	    pamh->data == NULL)
		return PAM_NO_MODULE_DATA;
	*data = pamh->data;
	return PAM_SUCCESS;
}

void
fuzz_pam_end_data(pam_handle_t *pamh)
{
	if (pamh->data_cleanup != NULL)
		pamh->data_cleanup(pamh, pamh->data, PAM_SUCCESS);
	free(pamh->data_name);
	pamh->data_name = NULL;
	pamh->data = NULL;
	pamh->data_cleanup = NULL;
}

/* The fuzzed handle has no PAM environment (no SSH_AUTH_INFO_0). */
const char *
pam_getenv(pam_handle_t *pamh, const char *name)
{
	(void)pamh;
	(void)name;
	return NULL;
}

int
pam_get_user(pam_handle_t *pamh, const char **user, const char *prompt)
{
	(void)prompt;
	if (pamh->user == NULL)
		return PAM_USER_UNKNOWN;
	*user = pamh->user;
	return PAM_SUCCESS;
}

int
pam_prompt(pam_handle_t *pamh, int style, char **response, const char *fmt, ...)
{
	char buf[FUZZ_LOG_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pamh->prompts++;
	if (style != PAM_PROMPT_ECHO_OFF)
		abort(); /* the code is a secret: never echoed */
	if (pamh->conv_fails || pamh->answer == NULL)
		return PAM_CONV_ERR;
	*response = strdup(pamh->answer);
	return *response != NULL ? PAM_SUCCESS : PAM_BUF_ERR;
}

/* The module names a conversation's error in its log line; the text does
 * not matter here, only that it is a string. */
const char *
pam_strerror(pam_handle_t *pamh, int errnum)
{
	(void)pamh;
	return errnum == PAM_CONV_ERR ? "Conversation error" : "PAM error";
}

void
pam_vsyslog(
    const pam_handle_t *pamh, int priority, const char *fmt, va_list args)
{
	pam_handle_t *h = (pam_handle_t *)(uintptr_t)pamh;
	char line[FUZZ_LOG_MAX];

	(void)priority;
	(void)vsnprintf(line, sizeof(line), fmt, args);
	if (strncmp(line, "flowtotp: service=", 18) == 0) {
		h->outcomes++;
		(void)snprintf(h->last, sizeof(h->last), "%s", line);
	}
	if (h->check_line != NULL)
		h->check_line(h, line);
}

void
pam_syslog(const pam_handle_t *pamh, int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pam_vsyslog(pamh, priority, fmt, ap);
	va_end(ap);
}

struct passwd *
pam_modutil_getpwnam(pam_handle_t *pamh, const char *user)
{
	if (pamh->pw == NULL || strcmp(user, pamh->pw->pw_name) != 0)
		return NULL;
	return pamh->pw;
}

int
pam_modutil_drop_priv(
    pam_handle_t *pamh, struct pam_modutil_privs *p, const struct passwd *pw)
{
	(void)p;
	(void)pw;
	if (pamh->dropped)
		abort(); /* dropped twice without regaining */
	pamh->dropped = 1;
	return 0;
}

int
pam_modutil_regain_priv(pam_handle_t *pamh, struct pam_modutil_privs *p)
{
	(void)p;
	if (!pamh->dropped)
		abort(); /* regained without dropping */
	pamh->dropped = 0;
	return 0;
}
