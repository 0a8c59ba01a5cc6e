/* Getting the user's answer: from the conversation (echo off) or from
 * PAM_AUTHTOK (try_first_pass/use_first_pass), and, for password+code
 * answers (forward_pass, PAM_AUTHTOK), finding the code at the end and
 * handing the password part on to the next module. */
#include <config.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "backup.h"
#include "module.h"
#include "otp.h"
#include "wipe.h"

/* "xxxx-xxxx-xxxx": a backup code as totp-enroll shows it. */
#define BACKUP_SHOWN_LEN (FT_BACKUP_CHARS + 2U)
#define BACKUP_DASH1 4U
#define BACKUP_DASH2 9U

static unsigned
code_digits(const struct ftpam_login *lg)
{
	return lg->sstate == FTPAM_SECRET_OK ? lg->secret.digits
					     : FT_DIGITS_DEFAULT;
}

bool
ftpam_answer_copy(const struct ftpam_answer *a, size_t off, size_t len,
    char *buf, size_t buflen)
{
	if (len >= buflen || off > a->len || len > a->len - off)
		return false;
	memcpy(buf, a->text + off, len);
	buf[len] = '\0';
	return true;
}

static bool
all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool
suffix_is_backup(const struct ftpam_answer *a, size_t n)
{
	char buf[BACKUP_SHOWN_LEN + 1];
	const char *s;
	bool yes;

	if (a->len < n)
		return false;
	s = a->text + a->len - n;
	/* The grouped form must have its dashes where totp-enroll puts them,
	 * so a dash or space at the end of a password is not taken for one. */
	if (n == BACKUP_SHOWN_LEN &&
	    (s[BACKUP_DASH1] != '-' || s[BACKUP_DASH2] != '-'))
		return false;
	if (!ftpam_answer_copy(a, a->len - n, n, buf, sizeof(buf)))
		return false;
	yes = ft_backup_looks_like(buf);
	ft_wipe(buf, sizeof(buf));
	return yes;
}

/* Where could the code be?  A plain answer is the code itself; a split
 * answer ends with it: `digits` digits (TOTP) or a backup code, grouped or
 * not. */
static void
find_candidates(const struct ftpam_login *lg, struct ftpam_answer *a)
{
	unsigned digits = code_digits(lg);

	a->totp_off = a->totp_len = 0;
	a->backup_off = a->backup_len = 0;
	if (!a->split) {
		a->totp_len = a->len;
		if (ft_backup_looks_like(a->text))
			a->backup_len = a->len;
		return;
	}
	if (a->len >= digits && all_digits(a->text + a->len - digits, digits)) {
		a->totp_off = a->len - digits;
		a->totp_len = digits;
	}
	if (suffix_is_backup(a, BACKUP_SHOWN_LEN)) {
		a->backup_off = a->len - BACKUP_SHOWN_LEN;
		a->backup_len = BACKUP_SHOWN_LEN;
	} else if (suffix_is_backup(a, FT_BACKUP_CHARS)) {
		a->backup_off = a->len - FT_BACKUP_CHARS;
		a->backup_len = FT_BACKUP_CHARS;
	}
}

int
ftpam_answer_from_authtok(struct ftpam_login *lg, struct ftpam_answer *a)
{
	const void *item = NULL;

	memset(a, 0, sizeof(*a));
	if (pam_get_item(lg->pamh, PAM_AUTHTOK, &item) != PAM_SUCCESS ||
	    item == NULL)
		return 0;
	a->text = strdup(item);
	if (a->text == NULL)
		return -1;
	a->len = strlen(a->text);
	a->from_authtok = true;
	a->split = true;
	find_candidates(lg, a);
	return a->totp_len > 0 || a->backup_len > 0 ? 1 : 0;
}

int
ftpam_answer_prompt(struct ftpam_login *lg, struct ftpam_answer *a)
{
	const char *prompt = lg->cfg.prompt;
	char *resp = NULL;
	int rc;

	memset(a, 0, sizeof(*a));
	if (lg->role == FTPAM_ROLE_SPLIT &&
	    strcmp(prompt, FT_PROMPT_DEFAULT) == 0)
		prompt = FTPAM_FORWARD_PROMPT;
	rc = pam_prompt(lg->pamh, PAM_PROMPT_ECHO_OFF, &resp, "%s", prompt);
	if (rc != PAM_SUCCESS || resp == NULL) {
		ft_wipe_free_str(resp);
		/* A conversation that "succeeds" with no response answered
		 * nothing: a conversation error all the same. */
		return rc != PAM_SUCCESS ? rc : PAM_CONV_ERR;
	}
	a->text = resp;
	a->len = strlen(resp);
	a->split = lg->role == FTPAM_ROLE_SPLIT;
	find_candidates(lg, a);
	return PAM_SUCCESS;
}

/* Is this prompted answer the password a module before us took
 * (PAM_AUTHTOK)?  A client that answers every prompt with the password
 * (sshd's password method under KbdInteractiveAuthentication no, IMAP,
 * Samba) made no code attempt: counted as failures, its logins would lock
 * the user out.  Constant time: the other side is the password. */
bool
ftpam_answer_is_authtok(
    const struct ftpam_login *lg, const struct ftpam_answer *a)
{
	const void *item = NULL;
	size_t n;

	if (a->split || a->text == NULL)
		return false;
	if (pam_get_item(lg->pamh, PAM_AUTHTOK, &item) != PAM_SUCCESS ||
	    item == NULL)
		return false;
	n = strlen(item);
	return n > 0 && n == a->len && CRYPTO_memcmp(item, a->text, n) == 0;
}

size_t
ftpam_answer_split_len(const struct ftpam_answer *a)
{
	/* Where the password ends must be decided before any code is checked.
	 * The grouped backup form cannot end in digits (its last dash is 5
	 * from the end), so it goes first; then the TOTP digits; then an
	 * ungrouped backup code. */
	if (a->backup_len == BACKUP_SHOWN_LEN)
		return a->backup_len;
	if (a->totp_len > 0)
		return a->totp_len;
	return a->backup_len;
}

void
ftpam_answer_set_code(const struct ftpam_login *lg, struct ftpam_answer *a)
{
	a->len = strlen(a->text);
	a->from_authtok = false;
	a->split = false;
	find_candidates(lg, a);
}

void
ftpam_answer_forward(
    struct ftpam_login *lg, const struct ftpam_answer *a, size_t code_len)
{
	size_t plen;
	char saved;

	if (!a->split || a->text == NULL)
		return;
	plen = a->len - (code_len <= a->len ? code_len : a->len);
	if (plen == 0) {
		/* Nothing but a code: do not leave it for the next module. */
		if (a->from_authtok)
			(void)pam_set_item(lg->pamh, PAM_AUTHTOK, NULL);
		return;
	}
	saved = a->text[plen];
	a->text[plen] = '\0';
	(void)pam_set_item(lg->pamh, PAM_AUTHTOK, a->text);
	a->text[plen] = saved;
}

void
ftpam_answer_free(struct ftpam_answer *a)
{
	if (a->text != NULL)
		ft_wipe_free(a->text, a->len);
	memset(a, 0, sizeof(*a));
}
