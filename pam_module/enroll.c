/* enroll=login: a user without a secret enrols in the login itself.
 *
 * Offered only when the strict rule says "not enrolled" (the store is there
 * and the user's file is absent: an outage never counts) and only after a
 * first factor this module can see (first_factor_seen).  The dialogue:
 *
 *   1. a PAM_TEXT_INFO with the QR code of the otpauth URI (UTF-8 half
 *      blocks, no escape codes, starting on a line of its own), the secret
 *      grouped for manual entry and the URI;
 *   2. a prompt for a code from the app, whose text repeats the secret and
 *      the URI for clients that drop info messages;
 *   3. the code is checked like a login's (ft_totp_match, window=), then
 *      recorded as used in the state, so it cannot be replayed;
 *   4. fresh backup codes, stored only as hashes, and the secret are
 *      written to the root store (atomic, mode 0600, root);
 *   5. a last prompt shows the backup codes once; then the login goes on.
 *
 * Nothing is written before step 3 succeeds: a wrong code (or none) saves
 * nothing, denies the login, and the next login offers enrolment again.
 * libqrencode is loaded with dlopen here and closed before the code is
 * asked for, so an ordinary login never maps it. */
#include <config.h>

#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "backup.h"
#include "base32.h"
#include "clock.h"
#include "module.h"
#include "otp.h"
#include "qr.h"
#include "random.h"
#include "rc.h"
#include "secretseal.h"
#include "secretstore.h"
#include "state.h"
#include "uri.h"
#include "wipe.h"

#define ERRLEN FTPAM_DETAIL_MAX
#define B32_BUFSZ 64U	  /* base32 of FT_KEY_DEFAULT bytes + NUL */
#define GROUP 4U	  /* the secret is shown in groups of four */
#define GROUPED_BUFSZ 80U /* B32_BUFSZ with a space every GROUP */
#define HOST_BUFSZ 256U	  /* gethostname */
#define LABEL_BUFSZ 512U  /* issuer, account */
#define CODES_TEXT_BUFSZ (FT_BACKUP_MAX * (FT_BACKUP_SHOWN_BUFSZ + 4U) + 512U)
#define ROOT_ID 0
/* OpenSSH puts the methods that succeeded before keyboard-interactive here,
 * one per line: "publickey ssh-ed25519 AAAA...". */
#define SSH_AUTH_INFO "SSH_AUTH_INFO_0"
#define SSH_PUBLICKEY "publickey "
#define SSHD_SERVICE "sshd"

struct enrol {
	uint8_t key[FT_KEY_DEFAULT];
	char b32[B32_BUFSZ];
	char grouped[GROUPED_BUFSZ];
	char *uri;
	char *qr;
	size_t qrlen;
	char host[HOST_BUFSZ];
	char issuer[LABEL_BUFSZ];
	char account[LABEL_BUFSZ];
	struct ft_secret s;
	char codes[FT_BACKUP_MAX][FT_BACKUP_SHOWN_BUFSZ];
	uint64_t step;
};

/* ---- the first factor ---- */

/* sshd, or a private sshd named sshd-SOMETHING (sshd names its PAM service
 * after its program name). */
static bool
sshd_service(const char *service)
{
	size_t n = strlen(SSHD_SERVICE);

	return service != NULL && strncmp(service, SSHD_SERVICE, n) == 0 &&
	    (service[n] == '\0' || service[n] == '-');
}

/* Does SSH_AUTH_INFO_0 say sshd verified a key in this connection? */
static bool
ssh_key_verified(const struct ftpam_login *lg)
{
	const char *info, *line;

	if (!sshd_service(lg->service))
		return false;
	info = pam_getenv(lg->pamh, SSH_AUTH_INFO);
	for (line = info; line != NULL && *line != '\0';) {
		if (strncmp(line, SSH_PUBLICKEY, strlen(SSH_PUBLICKEY)) == 0)
			return true;
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
	return false;
}

/* That the password was right this module cannot see: only the stack can
 * guarantee it, by stopping on a wrong one before this line
 * (pam_flowtotp(8), STACKS). */
bool
ftpam_first_factor_seen(const struct ftpam_login *lg)
{
	const void *tok = NULL;

	if (ssh_key_verified(lg))
		return true;
	return pam_get_item(lg->pamh, PAM_AUTHTOK, &tok) == PAM_SUCCESS &&
	    tok != NULL && ((const char *)tok)[0] != '\0';
}

/* ---- the new secret ---- */

static void
make_names(const struct ftpam_login *lg, struct enrol *e)
{
	if (gethostname(e->host, sizeof(e->host) - 1U) != 0)
		(void)snprintf(e->host, sizeof(e->host), "localhost");
	e->host[sizeof(e->host) - 1U] = '\0';
	/* The same labels as totp-enroll: the host is in the account unless
	 * it already is the issuer. */
	(void)snprintf(e->issuer, sizeof(e->issuer), "%s",
	    lg->cfg.issuer[0] != '\0' ? lg->cfg.issuer : e->host);
	if (strcmp(e->issuer, e->host) == 0)
		(void)snprintf(e->account, sizeof(e->account), "%s", lg->user);
	else
		(void)snprintf(
		    e->account, sizeof(e->account), "%s@%s", lg->user, e->host);
}

static void
group_secret(struct enrol *e)
{
	size_t i, o = 0;

	for (i = 0; e->b32[i] != '\0' && o + 2U < sizeof(e->grouped); i++) {
		if (i > 0 && i % GROUP == 0)
			e->grouped[o++] = ' ';
		e->grouped[o++] = e->b32[i];
	}
	e->grouped[o] = '\0';
}

static bool
make_secret(struct ftpam_login *lg, struct enrol *e)
{
	const struct ft_totp_params p = {.algo = FT_ALGO_SHA1,
	    .digits = FT_DIGITS_DEFAULT,
	    .period = FT_PERIOD_DEFAULT};
	int rc;

	make_names(lg, e);
	if ((rc = ft_random_bytes(e->key, sizeof(e->key))) != FT_OK ||
	    (rc = ft_base32_encode(e->key, sizeof(e->key), false, e->b32,
		 sizeof(e->b32))) != FT_OK ||
	    (rc = ft_otpauth_uri(e->issuer, e->account, e->b32, &p, &e->uri)) !=
		FT_OK) {
		ftpam_set_detail(lg, FTPAM_CRYPTO_ERROR, ft_rc_str(rc));
		return false;
	}
	group_secret(e);
	memcpy(e->s.key, e->key, sizeof(e->key));
	e->s.keylen = sizeof(e->key);
	e->s.algo = p.algo;
	e->s.digits = p.digits;
	e->s.period = p.period;
	e->s.created = (int64_t)ft_now();
	return true;
}

/* POSIX guarantees a function's address survives the trip through the
 * void * dlsym returns; ISO C has no cast for it, so copy the bytes. */
_Static_assert(sizeof(void *) == sizeof(ft_qr_encode_fn) &&
	sizeof(void *) == sizeof(ft_qr_free_fn),
    "function pointers are the size of void *");

static int
render_with(void *h, struct enrol *e)
{
	struct ft_qr_lib lib = {NULL, NULL};
	void *enc = dlsym(h, "QRcode_encodeString8bit");
	void *fre = dlsym(h, "QRcode_free");

	if (enc == NULL || fre == NULL)
		return FT_ERR_UNSUPPORTED;
	memcpy(&lib.encode, &enc, sizeof(enc));
	memcpy(&lib.free, &fre, sizeof(fre));
	return ft_qr_render(&lib, e->uri, FT_QR_STYLE_UTF8, &e->qr, &e->qrlen);
}

/* The QR code, with libqrencode loaded for this drawing only. */
static bool
draw_qr(struct ftpam_login *lg, struct enrol *e)
{
	char what[ERRLEN];
	void *h;
	int rc;

	h = dlopen(FT_QR_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		(void)snprintf(what, sizeof(what),
		    "enroll=login: cannot load %s: %s", FT_QR_SONAME,
		    dlerror());
		ftpam_set_detail(lg, FTPAM_CONFIG_ERROR, what);
		return false;
	}
	rc = render_with(h, e);
	if (dlclose(h) != 0)
		ftpam_debug(lg, "dlclose %s: %s", FT_QR_SONAME, dlerror());
	if (rc != FT_OK) {
		(void)snprintf(what, sizeof(what),
		    "enroll=login: cannot draw the QR code: %s", ft_rc_str(rc));
		ftpam_set_detail(lg, FTPAM_CONFIG_ERROR, what);
		return false;
	}
	return true;
}

/* ---- the dialogue ---- */

static bool
show_qr(struct ftpam_login *lg, const struct enrol *e)
{
	int rc;

	/* The first line takes whatever the client puts before a message
	 * (OpenSSH: "(user@host) "), so the QR code starts a line. */
	rc = pam_info(lg->pamh,
	    "Two-factor enrolment for %s: scan this QR code with your "
	    "authenticator app\n%s\nSecret for manual entry: %s\n"
	    "Account: %s  Issuer: %s  (SHA1, %u digits, every %u seconds)\n"
	    "URI: %s\n",
	    lg->user, e->qr, e->grouped, e->account, e->issuer, e->s.digits,
	    e->s.period, e->uri);
	if (rc != PAM_SUCCESS) {
		ftpam_set_detail(lg, FTPAM_CONV_ERROR,
		    "enrolment: the QR code could not be shown");
		return false;
	}
	return true;
}

/* The code from the app, in *resp (ours: wipe and free).  The prompt
 * repeats the secret and the URI: some clients drop info messages. */
static bool
ask_code(struct ftpam_login *lg, const struct enrol *e, char **resp)
{
	int rc;

	*resp = NULL;
	rc = pam_prompt(lg->pamh, PAM_PROMPT_ECHO_ON, resp,
	    "Secret for manual entry: %s\nURI: %s\n" FTPAM_ENROLL_PROMPT,
	    e->grouped, e->uri);
	if (rc != PAM_SUCCESS || *resp == NULL) {
		ftpam_set_detail(lg, FTPAM_CONV_ERROR,
		    "enrolment: no code given (conversation failed); nothing "
		    "was saved");
		return false;
	}
	return true;
}

/* 1 the code matched (e->step set), 0 not (reason set), -1 error. */
static int
check_confirmation(struct ftpam_login *lg, struct enrol *e, const char *code)
{
	struct ft_totp_params p;
	int off = 0, m;

	ft_secret_totp_params(&e->s, lg->cfg.window, &p);
	m = ft_totp_match(&p, ft_now(), code, &off, &e->step);
	if (m < 0) {
		ftpam_set_detail(lg, FTPAM_CRYPTO_ERROR, ft_rc_str(m));
		return -1;
	}
	if (m == 0) {
		ftpam_set_detail(lg, FTPAM_BAD_CODE,
		    "enrolment: the code from the app did not match; nothing "
		    "was saved");
		return 0;
	}
	ftpam_debug(lg, "enrolment code matched at step offset %+d", off);
	return 1;
}

/* A client that answers every prompt with the password (as at the login
 * code prompt, pam_flowtotp(8) password_as_code) made no attempt at the
 * confirmation either: refused unchecked, and nothing is saved. */
static bool
confirmation_is_password(struct ftpam_login *lg, char *code)
{
	const struct ftpam_answer a = {.text = code, .len = strlen(code)};

	if (!ftpam_answer_is_authtok(lg, &a))
		return false;
	ftpam_set_detail(lg, FTPAM_PASSWORD_AS_CODE,
	    "enrolment: the answer is the password: not checked; nothing was "
	    "saved");
	return true;
}

/* Record the confirmation code as used, as a login would: it cannot then
 * log in a second time. */
static bool
record_used(struct ftpam_login *lg, const struct enrol *e)
{
	struct ft_state_login l = {
	    .user = lg->user, .now = ft_now(), .step = e->step};
	char err[ERRLEN];
	int rc = FT_OK;

	err[0] = '\0';
	if (lg->state == NULL)
		rc = ft_state_open(
		    &lg->cfg, FT_STATE_LAZY, &lg->state, err, sizeof(err));
	if (rc == FT_OK)
		rc = ft_state_record_success(lg->state, &l, err, sizeof(err));
	if (rc != FT_OK) {
		ftpam_set_detail(lg, FTPAM_CACHE_ERROR, err);
		return false;
	}
	if (l.verdict != FT_STATE_ACCEPTED) {
		ftpam_set_detail(lg, FTPAM_REPLAY,
		    "enrolment: this code was already used; nothing was saved");
		return false;
	}
	return true;
}

/* ---- saving ---- */

static bool
make_backup_codes(struct ftpam_login *lg, struct enrol *e)
{
	/* As totp-enroll: shown once, kept only as slow salted hashes. */
	int rc = ft_backup_new_set(
	    lg->cfg.backup_codes, e->codes, e->s.backup, &e->s.nbackup);

	if (rc != FT_OK) {
		ftpam_set_detail(lg, FTPAM_CRYPTO_ERROR, ft_rc_str(rc));
		return false;
	}
	return true;
}

/* Write the secret, unless one appeared while the user was typing (another
 * session, or an administrator's totp-enroll): that one wins. */
static bool
save(struct ftpam_login *lg, const struct enrol *e)
{
	struct ft_secret now;
	char err[ERRLEN];
	bool root = geteuid() == ROOT_ID;
	int rc;

	err[0] = '\0';
	rc = ft_secret_load(lg->path, &lg->pol, &now, err, sizeof(err));
	ft_secret_wipe(&now);
	if (rc == FT_OK) {
		ftpam_set_detail(lg, FTPAM_UNSAFE_FILE,
		    "enrolment: a secret file appeared meanwhile; kept it, "
		    "nothing was saved");
		return false;
	}
	/* What is written: sealed with the store key when encrypt= says so
	 * (pam_flowtotp(8), SECRETS AT REST). */
	memcpy(&now, &e->s, sizeof(now));
	if (rc == FT_ERR_NOENT)
		rc = ft_secret_seal_new(
		    &now, lg->user, &lg->cfg, err, sizeof(err));
	if (rc == FT_OK)
		rc = ft_secret_store(lg->path, &now,
		    root ? (uid_t)ROOT_ID : (uid_t)-1,
		    root ? (gid_t)ROOT_ID : (gid_t)-1, err, sizeof(err));
	ft_secret_wipe(&now);
	if (rc != FT_OK) {
		ftpam_set_detail(lg, FTPAM_UNSAFE_FILE, err);
		return false;
	}
	return true;
}

/* The backup codes, once, in a prompt: every client shows a prompt, and
 * the user reads them before the session starts. */
static bool
show_codes(struct ftpam_login *lg, const struct enrol *e)
{
	char text[CODES_TEXT_BUFSZ];
	char *resp = NULL;
	size_t i, used;
	int rc;

	used = (size_t)snprintf(text, sizeof(text),
	    "Enrolled.  Backup codes: each works once, for when the phone "
	    "is not at hand.\nThey are shown only now; keep them somewhere "
	    "safe.\n");
	for (i = 0; i < e->s.nbackup && used < sizeof(text); i++)
		used += (size_t)snprintf(
		    text + used, sizeof(text) - used, "  %s\n", e->codes[i]);
	rc = pam_prompt(lg->pamh, PAM_PROMPT_ECHO_ON, &resp, "%s%s", text,
	    FTPAM_ENROLL_DONE_PROMPT);
	ft_wipe(text, sizeof(text));
	ft_wipe_free_str(resp);
	if (rc != PAM_SUCCESS) {
		ftpam_set_detail(lg, FTPAM_CONV_ERROR,
		    "enrolled, but the backup codes could not be shown");
		return false;
	}
	return true;
}

/* ---- the whole ---- */

/* An empty confirmation from a user who need not enrol yet: nothing is
 * saved and the rest of the stack decides. */
static void
skipped(struct ftpam_login *lg)
{
	lg->ignored = true;
	if (lg->grace == FTPAM_GRACE_OPEN)
		ftpam_set_detail(lg, FTPAM_GRACE, lg->grace_note);
	else if (lg->cfg.nullok)
		ftpam_set_detail(lg, FTPAM_NO_SECRET,
		    "nullok: enrolment skipped; nothing was saved");
	else
		ftpam_set_detail(lg, FTPAM_NOT_REQUIRED,
		    "not required: enrolment skipped; nothing was saved");
}

/* From the confirmation code to the saved file.  PAM_SUCCESS, PAM_IGNORE
 * (not required, e.g. nullok, and an empty answer: enrolment skipped) or
 * PAM_AUTH_ERR. */
static int
confirm_and_save(struct ftpam_login *lg, struct enrol *e)
{
	char *code = NULL;
	int m;

	if (!ask_code(lg, e, &code))
		return PAM_AUTH_ERR;
	if (code[0] == '\0' &&
	    (!lg->policy.required || lg->grace == FTPAM_GRACE_OPEN)) {
		ft_wipe_free_str(code);
		skipped(lg);
		return PAM_IGNORE;
	}
	m = confirmation_is_password(lg, code)
	    ? 0
	    : check_confirmation(lg, e, code);
	ft_wipe_free_str(code);
	if (m != 1 || !record_used(lg, e) || !make_backup_codes(lg, e) ||
	    !save(lg, e))
		return PAM_AUTH_ERR;
	return PAM_SUCCESS;
}

bool
ftpam_enroll_offered(const struct ftpam_login *lg)
{
	return lg->cfg.enroll == FT_ENROLL_LOGIN &&
	    lg->sstate == FTPAM_SECRET_MISSING && lg->role != FTPAM_ROLE_SPLIT;
}

int
ftpam_enroll(struct ftpam_login *lg)
{
	struct enrol *e;
	int rc = PAM_AUTH_ERR;

	if (!ftpam_first_factor_seen(lg)) {
		ftpam_set_detail(lg, FTPAM_CONFIG_ERROR,
		    "enroll=login: no first factor in this stack (no password "
		    "in PAM_AUTHTOK, no publickey in SSH_AUTH_INFO_0); "
		    "enrolment refused");
		return PAM_AUTH_ERR;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		ftpam_set_detail(lg, FTPAM_NO_MEMORY, "out of memory");
		return PAM_AUTH_ERR;
	}
	if (make_secret(lg, e) && draw_qr(lg, e) && show_qr(lg, e))
		rc = confirm_and_save(lg, e);
	if (rc == PAM_SUCCESS && show_codes(lg, e))
		ftpam_set_detail(lg, FTPAM_ENROLLED, NULL);
	else if (rc == PAM_SUCCESS)
		rc = PAM_AUTH_ERR; /* enrolled; the login is denied */
	ft_wipe_free_str(e->uri);
	ft_wipe_free(e->qr, e->qrlen);
	ft_secret_wipe(&e->s);
	ft_wipe(e, sizeof(*e));
	free(e);
	return rc;
}
