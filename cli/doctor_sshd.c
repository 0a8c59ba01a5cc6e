/* totp-enroll doctor: what sshd will really do, from its effective settings
 * (sshd -T), for root and for one ordinary user, since Match blocks only
 * show with -C user=...,host=...,addr=... */
#include <config.h>

#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "doctor.h"
#include "rc.h"

#define SSHD_BIN "/usr/sbin/sshd"
#define SSHD_SERVICE "sshd"
#define SSHD_ARGV_MAX 10U
#define SETTING_MAX 256U
#define ORDINARY_UID_MIN 1000U	/* Debian's first ordinary uid ... */
#define ORDINARY_UID_MAX 59999U /* ... and last (adduser.conf) */
#define PLACE_MAX 160U

static const struct doc_kind k_unknown = {"sshd-unknown", DOC_INFO,
    "run the doctor where sshd -T works (as root, sshd installed) to have "
    "sshd's settings checked"};
static const struct doc_kind k_unused = {"sshd-no-flowtotp", DOC_INFO, ""};
static const struct doc_kind k_usepam = {"sshd-usepam", DOC_ERROR,
    "set \"UsePAM yes\": without it sshd never runs the PAM stack, so "
    "pam_flowtotp never asks for a code"};
static const struct doc_kind k_kbdint = {"sshd-kbdint-off", DOC_ERROR,
    "set \"KbdInteractiveAuthentication yes\": otherwise sshd's password "
    "method answers every PAM prompt, the code prompt too, with the "
    "password, and every login of an enrolled user fails as bad_code"};
static const struct doc_kind k_nokey = {"sshd-authmethods-no-key", DOC_WARN,
    "keep publickey in AuthenticationMethods (\"publickey,keyboard-"
    "interactive keyboard-interactive\"), or set keyboard-interactive in a "
    "Match block for the users who need it: as it is, key logins are "
    "refused"};
static const struct doc_kind k_keyonly = {"sshd-key-skips-code", DOC_WARN,
    "set \"AuthenticationMethods publickey,keyboard-interactive\": the PAM "
    "stack has no password check, and with \"any\" a key alone logs in "
    "without a code"};
static const struct doc_kind k_pwauth = {"sshd-password-method", DOC_INFO,
    "set \"PasswordAuthentication no\": a client that uses the password "
    "method gets every PAM prompt answered with the password"};

struct sshd_settings {
	char usepam[SETTING_MAX], kbdint[SETTING_MAX];
	char methods[SETTING_MAX], password[SETTING_MAX];
};

static bool
yes(const char *v)
{
	return strcasecmp(v, "yes") == 0;
}

/* An ordinary account to evaluate Match blocks for. */
static void
ordinary_user(const struct doc_root *root, char *out, size_t outlen)
{
	struct passwd *pw;

	(void)snprintf(out, outlen, "%s", root->ordinary_user);
	if (out[0] != '\0')
		return;
	setpwent();
	/* totp-enroll is single-threaded: getpwent is fine here. */
	// cppcheck-suppress getpwentCalled
	while ((pw = getpwent()) != NULL)
		if (pw->pw_uid >= ORDINARY_UID_MIN &&
		    pw->pw_uid <= ORDINARY_UID_MAX) {
			(void)snprintf(out, outlen, "%s", pw->pw_name);
			break;
		}
	endpwent();
}

static int
sshd_t(const struct doc_root *root, const char *user, struct sshd_settings *s)
{
	static char out[DOC_OUT_MAX];
	char match[CLI_NAME_MAX + PLACE_MAX];
	const char *argv[SSHD_ARGV_MAX];
	size_t n = 0;
	int rc;

	(void)snprintf(match, sizeof(match),
	    "user=%s,host=localhost,addr=127.0.0.1", user);
	argv[n++] = SSHD_BIN;
	argv[n++] = "-T";
	if (root->sshd_config[0] != '\0') {
		argv[n++] = "-f";
		argv[n++] = root->sshd_config;
	}
	if (root->sshd_hostkey[0] != '\0') {
		argv[n++] = "-h";
		argv[n++] = root->sshd_hostkey;
	}
	argv[n++] = "-C";
	argv[n++] = match;
	argv[n] = NULL;
	if ((rc = doc_run(argv, out, sizeof(out))) != FT_OK)
		return rc;
	if (!doc_value(out, "usepam", ' ', s->usepam, sizeof(s->usepam)) ||
	    !doc_value(out, "kbdinteractiveauthentication", ' ', s->kbdint,
		sizeof(s->kbdint)) ||
	    !doc_value(out, "authenticationmethods", ' ', s->methods,
		sizeof(s->methods)) ||
	    !doc_value(out, "passwordauthentication", ' ', s->password,
		sizeof(s->password)))
		return FT_ERR_PARSE;
	return FT_OK;
}

/* Does some method list let a key in (alone or with a second step)? */
static bool
key_allowed(const char *methods)
{
	return strcmp(methods, "any") == 0 ||
	    strstr(methods, "publickey") != NULL;
}

/* The settings for one user against the sshd PAM stack.  key_stack: the
 * stack asks no password, so the key is the first factor. */
static void
check_user(const struct doc_root *root, const char *user, bool key_stack,
    struct doc_report *rep)
{
	struct sshd_settings s;
	char place[CLI_NAME_MAX + PLACE_MAX];
	struct doc_where w = {place, 0};
	int rc;

	(void)snprintf(place, sizeof(place), "sshd -T -C user=%s", user);
	if ((rc = sshd_t(root, user, &s)) != FT_OK) {
		doc_add(
		    rep, &k_unknown, &w, "sshd -T failed (%s)", ft_rc_str(rc));
		return;
	}
	if (!yes(s.usepam))
		doc_add(rep, &k_usepam, &w, "UsePAM %s for %s", s.usepam, user);
	if (!yes(s.kbdint))
		doc_add(rep, &k_kbdint, &w,
		    "KbdInteractiveAuthentication %s for %s", s.kbdint, user);
	if (!key_allowed(s.methods))
		doc_add(rep, &k_nokey, &w,
		    "AuthenticationMethods %s for %s: no method list has "
		    "publickey",
		    s.methods, user);
	if (key_stack && strcmp(s.methods, "any") == 0)
		doc_add(rep, &k_keyonly, &w,
		    "AuthenticationMethods any for %s with a PAM stack that "
		    "asks only the code",
		    user);
	if (!key_stack && yes(s.password) && yes(s.kbdint))
		doc_add(rep, &k_pwauth, &w, "PasswordAuthentication yes for %s",
		    user);
}

/* Does the stack ask for a password before (or around) pam_flowtotp? */
static bool
asks_password(const struct doc_stack *st)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		if (doc_is_password(&st->e[i]))
			return true;
	return false;
}

void
doc_check_sshd(const struct doc_root *root, struct doc_report *rep)
{
	char user[CLI_NAME_MAX];
	struct doc_stack st = {NULL, 0, 0};
	struct doc_where w = {root->pamd, 0};
	bool key_stack;
	int rc;

	rc = doc_stack_load(root, SSHD_SERVICE, &st, rep);
	if (rc == FT_ERR_NOMEM)
		rep->oom = true;
	if (rc != FT_OK || doc_stack_flowtotp(&st) >= st.n) {
		doc_add(rep, &k_unused, &w,
		    "the sshd PAM service does not use pam_flowtotp: ssh "
		    "logins are not asked for a code");
		goto out;
	}
	key_stack = !asks_password(&st);
	check_user(root, "root", key_stack, rep);
	ordinary_user(root, user, sizeof(user));
	if (user[0] != '\0' && strcmp(user, "root") != 0)
		check_user(root, user, key_stack, rep);
out:
	doc_stack_free(&st);
}
