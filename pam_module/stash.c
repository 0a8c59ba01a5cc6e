/* The single-prompt stack in two instances, the way pam_faillock splits its
 * work around the password module:
 *
 *   auth required                 pam_flowtotp.so split
 *   auth [success=ok default=die] pam_unix.so use_first_pass
 *   auth required                 pam_flowtotp.so use_stashed
 *
 * The `split` instance asks once, keeps the code at the end of the answer
 * in pam_set_data and hands the password on in PAM_AUTHTOK; it checks,
 * consumes and counts nothing, and returns PAM_IGNORE (it has proved
 * nothing, so no control flag can make it grant a login).  The password
 * line stops the stack when the password is wrong, so the `use_stashed`
 * instance, which checks the stashed code without prompting, runs only
 * after the password was verified: a wrong password can neither use up a
 * code nor count a failure.  A module cannot see earlier results, so this
 * rests on the control flag of the password line.
 *
 * sshd keeps one PAM handle across keyboard-interactive retries: the split
 * instance drops any earlier stash before it asks, and use_stashed drops
 * the stash as soon as it has taken it, so a code is never checked twice
 * and never outlives its answer. */
#include <config.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "backup.h"
#include "module.h"
#include "otp.h"
#include "wipe.h"

/* Our key in the handle's module data; another module cannot guess a
 * structure behind it, and we trust only what this file put there. */
#define STASH_KEY "flowtotp_stashed_code"
#define STASH_CODE_MAX                                                         \
	(FT_BACKUP_SHOWN_BUFSZ > FT_CODE_BUFSZ ? FT_BACKUP_SHOWN_BUFSZ         \
					       : FT_CODE_BUFSZ)
#define STASH_USER_MAX 256U

struct stash {
	char user[STASH_USER_MAX]; /* the answer belongs to this user only */
	char code[STASH_CODE_MAX]; /* "" when the answer held no code */
	size_t len;
};

static void
stash_cleanup(pam_handle_t *pamh, void *data, int error_status)
{
	(void)pamh;
	(void)error_status;
	if (data != NULL) {
		ft_wipe(data, sizeof(struct stash));
		free(data);
	}
}

void
ftpam_stash_clear(pam_handle_t *pamh)
{
	/* Replacing the data runs stash_cleanup on the old one (wipes it). */
	(void)pam_set_data(pamh, STASH_KEY, NULL, NULL);
}

/* Keep code [off, off+len) of the answer for the use_stashed instance. */
static enum ftpam_reason
stash_put(struct ftpam_login *lg, const struct ftpam_answer *a, size_t len)
{
	struct stash *s;

	if (strlen(lg->user) >= sizeof(s->user))
		return FTPAM_NO_SECRET; /* no such user can exist */
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return FTPAM_NO_MEMORY;
	memcpy(s->user, lg->user, strlen(lg->user) + 1U);
	if (len > 0 &&
	    !ftpam_answer_copy(a, a->len - len, len, s->code, sizeof(s->code)))
		len = 0; /* cannot happen: the candidates fit by construction */
	s->len = len;
	if (pam_set_data(lg->pamh, STASH_KEY, s, stash_cleanup) !=
	    PAM_SUCCESS) {
		stash_cleanup(lg->pamh, s, 0);
		return FTPAM_NO_MEMORY;
	}
	return FTPAM_OK;
}

int
ftpam_split(struct ftpam_login *lg)
{
	struct ftpam_answer a;
	size_t len = 0;
	enum ftpam_reason r;
	int rc;

	ftpam_stash_clear(lg->pamh);
	rc = ftpam_answer_prompt(lg, &a);
	if (rc != PAM_SUCCESS) {
		ftpam_answer_free(&a);
		ftpam_set_detail(
		    lg, FTPAM_CONV_ERROR, "no answer (conversation failed)");
		return PAM_AUTH_ERR;
	}
	/* Not required (nullok, require=), enroll=login or grace_days=, and
	 * no secret, or exempt: the next instance will not check a code (it
	 * skips, enrols, lets in for the grace or denies), so the whole
	 * answer is the password. */
	if (!lg->policy.exempt &&
	    !(lg->sstate == FTPAM_SECRET_MISSING &&
		(!lg->policy.required || lg->cfg.enroll == FT_ENROLL_LOGIN ||
		    lg->cfg.grace_days > 0)))
		len = ftpam_answer_split_len(&a);
	r = stash_put(lg, &a, len);
	if (r == FTPAM_OK)
		ftpam_answer_forward(lg, &a, len);
	ftpam_answer_free(&a);
	if (r != FTPAM_OK) {
		ftpam_set_detail(lg, r, "split: cannot keep the code");
		return PAM_AUTH_ERR;
	}
	lg->stashed = true;
	ftpam_debug(lg, "split: password handed on, %s kept for use_stashed",
	    len > 0 ? "the code" : "no code");
	return PAM_IGNORE;
}

int
ftpam_stash_take(struct ftpam_login *lg, struct ftpam_answer *a)
{
	const void *data = NULL;
	const struct stash *s;
	int got = 0;

	memset(a, 0, sizeof(*a));
	if (pam_get_data(lg->pamh, STASH_KEY, &data) != PAM_SUCCESS ||
	    data == NULL)
		return 0;
	s = data;
	if (strcmp(s->user, lg->user) == 0) {
		a->text = strdup(s->code);
		got = a->text != NULL ? 1 : -1;
	}
	/* Taken (or not ours): gone, whatever the check says next. */
	ftpam_stash_clear(lg->pamh);
	if (got == 1)
		ftpam_answer_set_code(lg, a);
	return got;
}

/* The role words are pam.d arguments only: in flowtotp.conf they would
 * give every instance the same role. */
void
ftpam_role_from_args(int argc, const char **argv, enum ftpam_role *role,
    const char **rest, int *nrest)
{
	int i;

	*role = FTPAM_ROLE_ALONE;
	*nrest = 0;
	for (i = 0; i < argc; i++) {
		if (argv[i] != NULL && strcmp(argv[i], "split") == 0)
			*role = FTPAM_ROLE_SPLIT;
		else if (argv[i] != NULL && strcmp(argv[i], "use_stashed") == 0)
			*role = FTPAM_ROLE_STASHED;
		else
			rest[(*nrest)++] = argv[i];
	}
}
