/* One login: options, user, secret file, answer, code check, state, log.
 *
 * Every path ends at the same exit, which logs one line, wipes and frees
 * everything, and returns the result; the result starts as PAM_AUTH_ERR and
 * only a checked code turns it into PAM_SUCCESS (or nullok with no secret
 * file into PAM_IGNORE).  Unknown users and users without a secret are
 * prompted like everyone else, so the prompt tells nothing. */
#include <config.h>

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <security/pam_modutil.h>

#include "backup.h"
#include "clock.h"
#include "conf.h"
#include "module.h"
#include "otp.h"
#include "rc.h"
#include "secretseal.h"
#include "secretstore.h"
#include "storekey.h"
#include "state.h"
#include "wipe.h"
#include "workcount.h"

#define ERRLEN FTPAM_DETAIL_MAX

/* ---- reading files in the home with the user's privileges ---- */

static bool
must_drop(const struct ftpam_login *lg)
{
	return lg->in_home && geteuid() == 0;
}

/* Read the secret with the privileges the path needs.  A missing file
 * counts as missing (FT_ERR_NOENT, which nullok may skip) only if its
 * anchor, checked with the same privileges, is there to search: a home or
 * store that is gone or unreachable is an outage, and denies. */
static int
load_secret_file(
    struct ftpam_login *lg, const char *anchor, char *err, size_t errlen)
{
	PAM_MODUTIL_DEF_PRIVS(privs);
	int rc;

	if (must_drop(lg) &&
	    pam_modutil_drop_priv(lg->pamh, &privs, lg->pw) != 0)
		return ft_seterr(err, errlen, FT_ERR_PERM,
		    "cannot switch to the user's privileges to read %s",
		    lg->path);
	rc = ft_secret_load(lg->path, &lg->pol, &lg->secret, err, errlen);
	if (rc == FT_ERR_NOENT &&
	    ft_secret_check_anchor(anchor, err, errlen) != FT_OK)
		rc = FT_ERR_UNSAFE;
	if (must_drop(lg) && pam_modutil_regain_priv(lg->pamh, &privs) != 0) {
		ft_secret_wipe(&lg->secret);
		return ft_seterr(err, errlen, FT_ERR_PERM,
		    "cannot regain privileges after reading %s", lg->path);
	}
	return rc;
}

static int
use_backup_code(
    struct ftpam_login *lg, const char *code, char *err, size_t errlen)
{
	PAM_MODUTIL_DEF_PRIVS(privs);
	int rc;

	if (must_drop(lg) &&
	    pam_modutil_drop_priv(lg->pamh, &privs, lg->pw) != 0)
		return ft_seterr(err, errlen, FT_ERR_PERM,
		    "cannot switch to the user's privileges to update %s",
		    lg->path);
	rc = ft_secret_use_backup(
	    lg->path, &lg->pol, code, &lg->backup_left, err, errlen);
	if (must_drop(lg) && pam_modutil_regain_priv(lg->pamh, &privs) != 0)
		return ft_seterr(err, errlen, FT_ERR_PERM,
		    "cannot regain privileges after updating %s", lg->path);
	return rc;
}

/* Look the user up; from here on lg->user is the name the user database
 * returns (pw_name), not the one typed: with a case-insensitive directory
 * (SSSD, winbind) "ALICE" and "alice" are one account, and the secret path,
 * the replay and lockout record and the log line must be one too. */
static bool
lookup_user(struct ftpam_login *lg)
{
	lg->pw = pam_modutil_getpwnam(lg->pamh, lg->user);
	if (lg->pw == NULL) {
		lg->sstate = FTPAM_SECRET_UNKNOWN_USER;
		ftpam_debug(lg, "no such user");
		return false;
	}
	if (lg->pw->pw_name == NULL || lg->pw->pw_name[0] == '\0') {
		lg->sstate = FTPAM_SECRET_BAD;
		ftpam_set_detail(lg, FTPAM_UNSAFE_FILE,
		    "the user database returned an empty user name");
		return false;
	}
	if (strcmp(lg->pw->pw_name, lg->user) != 0)
		ftpam_debug(lg, "user database name is %s", lg->pw->pw_name);
	lg->user = lg->pw->pw_name;
	return true;
}

/* Find and read the user's secret; sets lg->sstate. */
static void
find_secret(struct ftpam_login *lg)
{
	char err[ERRLEN], anchor[PATH_MAX];
	int rc;

	if (!lookup_user(lg))
		return;
	err[0] = '\0';
	rc = ft_config_secret_path(
	    &lg->cfg, lg->pw, lg->path, sizeof(lg->path), err, sizeof(err));
	if (rc == FT_OK)
		rc = ft_secret_anchor(
		    &lg->cfg, lg->pw, anchor, sizeof(anchor), err, sizeof(err));
	lg->in_home = ft_config_secret_in_home(&lg->cfg);
	if (rc != FT_OK) {
		lg->sstate = FTPAM_SECRET_BAD;
		ftpam_set_detail(lg, FTPAM_UNSAFE_FILE, err);
		return;
	}
	ft_secret_policy(lg->pw->pw_uid, &lg->pol);
	ftpam_debug(lg, "secret file %s (%s)", lg->path,
	    lg->in_home ? "read as the user" : "system store");
	rc = load_secret_file(lg, anchor, err, sizeof(err));
	if (rc == FT_OK) {
		lg->sstate = FTPAM_SECRET_OK;
	} else if (rc == FT_ERR_NOENT) {
		lg->sstate = FTPAM_SECRET_MISSING;
	} else {
		lg->sstate = FTPAM_SECRET_BAD;
		ftpam_set_detail(lg, FTPAM_UNSAFE_FILE, err);
	}
}

/* A version-2 secret is opened with the store key.  The equal-work rule
 * (even_out): every login whose secret template names the root store reads
 * the key file, sealed secret or not (a failed read matters only to a
 * sealed one), and every login that opens no sealed secret does one dummy
 * AES-GCM open instead, so neither the key file's read nor the decrypt
 * tells who has an encrypted secret, a plain one, or none.  A sealed file
 * in a home is refused: the store key is for the root store, and its
 * owner could write it. */
static void
open_sealed(struct ftpam_login *lg)
{
	struct ft_keyring kr;
	char err[ERRLEN];
	int rc = FT_ERR_NOENT;
	bool sealed = lg->sstate == FTPAM_SECRET_OK && lg->secret.sealed;

	err[0] = '\0';
	if (!ft_config_secret_in_home(&lg->cfg))
		rc = ft_secret_keyring(lg->cfg.store_key,
		    lg->cfg.store_key_fallback, &kr, err, sizeof(err));
	if (!sealed) {
		ft_secret_unseal_dummy();
	} else if (lg->in_home) {
		rc = ft_seterr(err, sizeof(err), FT_ERR_UNSAFE,
		    "sealed_in_home: %s holds an encrypted secret, which only "
		    "the root store may",
		    lg->path);
	} else if (rc == FT_OK) {
		rc = ft_secret_unseal(
		    &lg->secret, lg->user, &kr, err, sizeof(err));
		if (rc == FT_OK)
			ftpam_debug(lg, "sealed secret opened with key %s",
			    lg->secret.key_id);
	}
	if (sealed && rc != FT_OK) {
		ft_secret_wipe(&lg->secret);
		lg->sstate = FTPAM_SECRET_BAD;
		ftpam_set_detail(lg, FTPAM_UNSAFE_FILE, err);
	}
	ft_keyring_wipe(&kr);
}

static void
load_secret(struct ftpam_login *lg)
{
	find_secret(lg);
	open_sealed(lg);
}

/* ---- state ---- */

static void
state_warning(struct ftpam_login *lg)
{
	const char *w = lg->state != NULL ? ft_state_warning(lg->state) : NULL;

	if (w != NULL && !lg->warned) {
		ftpam_log_warning(lg, w);
		lg->warned = true;
	}
}

static bool
open_state(struct ftpam_login *lg)
{
	char err[ERRLEN];
	int rc;

	if (lg->state != NULL)
		return true;
	err[0] = '\0';
	/* A user without a secret gets the same work but no record: random
	 * names must not fill the cache. */
	rc = ft_state_open(&lg->cfg,
	    FT_STATE_LAZY |
		(lg->sstate == FTPAM_SECRET_OK ? 0U : FT_STATE_NO_RECORD),
	    &lg->state, err, sizeof(err));
	if (rc != FT_OK) {
		ftpam_set_detail(lg, FTPAM_CACHE_ERROR, err);
		return false;
	}
	state_warning(lg);
	ftpam_debug(lg, "state backend %s", ft_state_backend_name(lg->state));
	return true;
}

static bool
record_success(struct ftpam_login *lg, uint64_t step, time_t now)
{
	struct ft_state_login l = {.user = lg->user, .now = now, .step = step};
	char err[ERRLEN];
	int rc;

	err[0] = '\0';
	ft_work_note(FT_WORK_STATE);
	rc = ft_state_record_success(lg->state, &l, err, sizeof(err));
	state_warning(lg);
	if (rc != FT_OK) {
		ftpam_set_detail(lg, FTPAM_CACHE_ERROR, err);
		return false;
	}
	if (l.verdict != FT_STATE_ACCEPTED) {
		ftpam_set_detail(lg, FTPAM_REPLAY, NULL);
		return false;
	}
	ftpam_set_detail(lg, step == 0 ? FTPAM_BACKUP_USED : FTPAM_OK, NULL);
	return true;
}

/* ---- checking one answer ---- */

/* Step 1 of the state protocol; false (with reason set) if we must not
 * check the code. */
static bool
begin_attempt(struct ftpam_login *lg, time_t now)
{
	enum ft_state_verdict v;
	char err[ERRLEN];
	int rc;

	if (!open_state(lg))
		return false;
	err[0] = '\0';
	lg->work.state = true;
	ft_work_note(FT_WORK_STATE);
	rc = ft_state_begin_attempt(
	    lg->state, lg->user, now, &v, err, sizeof(err));
	state_warning(lg);
	if (rc != FT_OK) {
		ftpam_set_detail(lg, FTPAM_CACHE_ERROR, err);
		return false;
	}
	if (v != FT_STATE_PROCEED) {
		ftpam_set_detail(lg, FTPAM_LOCKED, NULL);
		return false;
	}
	return true;
}

/* 1 matched (step set), 0 no match, -1 error (reason set). */
static int
check_totp(struct ftpam_login *lg, const struct ftpam_answer *a, time_t now,
    uint64_t *step)
{
	struct ft_totp_params p;
	char code[FT_CODE_BUFSZ];
	int off = 0, m;

	if (a->totp_len == 0 || lg->secret.keylen == 0 ||
	    !ftpam_answer_copy(a, a->totp_off, a->totp_len, code, sizeof(code)))
		return 0; /* too long to be a code, or no app (deliver only) */
	ft_secret_totp_params(&lg->secret, lg->cfg.window, &p);
	lg->work.hmac = true;
	m = ft_totp_match(&p, now, code, &off, step);
	ft_wipe(code, sizeof(code));
	if (m < 0) {
		/* Not the user's fault: the HMAC could not be computed. */
		ftpam_set_detail(lg, FTPAM_CRYPTO_ERROR, ft_rc_str(m));
		return -1;
	}
	if (m == 1)
		ftpam_debug(lg, "TOTP matched at step offset %+d", off);
	return m;
}

struct totp_check {
	struct ftpam_login *lg;
	const struct ftpam_answer *a;
	time_t now;
	bool failed; /* the check itself failed; reason already set */
};

/* ft_state_check_fn: check_totp while the state is locked. */
static int
totp_check_cb(void *arg, uint64_t *step)
{
	struct totp_check *tc = arg;
	int m;

	m = check_totp(tc->lg, tc->a, tc->now, step);
	if (m < 0) {
		tc->failed = true;
		return FT_ERR_CRYPTO;
	}
	return m;
}

/* A last accepted step beyond the window ahead of now: the clock ran ahead
 * when it was accepted, and every current code is refused as a replay
 * until real time catches up; say so and what helps. */
static void
warn_ran_ahead(
    struct ftpam_login *lg, const struct ft_state_login *l, time_t now)
{
	char msg[ERRLEN];
	uint64_t step;

	if (!l->known || lg->secret.period == 0 || now <= 0)
		return;
	step = (uint64_t)now / lg->secret.period;
	if (!ft_state_ran_ahead(l->last_step, step, lg->cfg.window))
		return;
	(void)snprintf(msg, sizeof(msg),
	    "last accepted code is %llu steps ahead of now: the clock ran "
	    "ahead; current codes are refused until totp-enroll unlock %.64s",
	    (unsigned long long)(l->last_step - step), lg->user);
	ftpam_log_warning(lg, msg);
}

/* Steps 1 to 3 for the TOTP candidate in one atomic state operation.
 * 1 accepted, 0 no match (attempt counted: a backup code may follow),
 * -1 denied (reason set: locked, replay or an error). */
static int
attempt_totp(struct ftpam_login *lg, const struct ftpam_answer *a, time_t now)
{
	struct totp_check tc = {.lg = lg, .a = a, .now = now};
	struct ft_state_login l = {.user = lg->user,
	    .now = now,
	    .check = totp_check_cb,
	    .check_arg = &tc};
	char err[ERRLEN];
	int rc;

	if (!open_state(lg))
		return -1;
	err[0] = '\0';
	lg->work.state = true;
	ft_work_note(FT_WORK_STATE);
	rc = ft_state_attempt(lg->state, &l, err, sizeof(err));
	state_warning(lg);
	lg->counted = l.known;
	lg->failures = l.failures;
	lg->locked_until = l.locked_until;
	if (rc != FT_OK) {
		if (!tc.failed)
			ftpam_set_detail(lg, FTPAM_CACHE_ERROR, err);
		return -1;
	}
	warn_ran_ahead(lg, &l, now);
	switch (l.verdict) {
	case FT_STATE_ACCEPTED: ftpam_set_detail(lg, FTPAM_OK, NULL); return 1;
	case FT_STATE_REPLAY:
		ftpam_set_detail(lg, FTPAM_REPLAY, NULL);
		return -1;
	case FT_STATE_PROCEED: return 0;
	case FT_STATE_LOCKED: break;
	}
	ftpam_set_detail(lg, FTPAM_LOCKED, NULL);
	return -1;
}

/* 1 used, 0 no match, -1 error (reason set). */
static int
check_backup(struct ftpam_login *lg, const struct ftpam_answer *a)
{
	char code[FT_BACKUP_SHOWN_BUFSZ];
	char err[ERRLEN];
	int rc;

	if (a->backup_len == 0 ||
	    !ftpam_answer_copy(
		a, a->backup_off, a->backup_len, code, sizeof(code)))
		return 0;
	err[0] = '\0';
	/* As many hashes as the file holds codes (ft_backup_verify). */
	lg->work.kdfs = lg->secret.nbackup;
	rc = use_backup_code(lg, code, err, sizeof(err));
	ft_wipe(code, sizeof(code));
	if (rc < 0) {
		ftpam_set_detail(lg, FTPAM_UNSAFE_FILE, err);
		return -1;
	}
	return rc == 1 ? 1 : 0;
}

/* Can this user's answer be checked at all?  false (reason set) for an
 * unknown user, a missing secret file or an unsafe one: the answer was
 * asked for all the same, so the prompt tells nothing. */
static bool
secret_usable(struct ftpam_login *lg)
{
	switch (lg->sstate) {
	case FTPAM_SECRET_OK: return true;
	case FTPAM_SECRET_UNKNOWN_USER:
		ftpam_set_detail(lg, FTPAM_NO_SECRET, "unknown user");
		return false;
	case FTPAM_SECRET_MISSING:
		ftpam_set_detail(lg, FTPAM_NO_SECRET, "no secret file");
		return false;
	case FTPAM_SECRET_BAD: break;
	}
	lg->reason = FTPAM_UNSAFE_FILE; /* detail already set */
	return false;
}

/* Check the TOTP candidate, then the backup candidate, through the state
 * protocol.  true if one was accepted; *used is the length of the code at
 * the end of the answer (the part that is not the password). */
static bool
check_code_once(
    struct ftpam_login *lg, const struct ftpam_answer *a, size_t *used)
{
	time_t now;
	int m;

	*used = a->totp_len > 0 ? a->totp_len : a->backup_len;
	if (!secret_usable(lg))
		return false;
	now = ft_now();
	if (a->totp_len > 0) {
		m = attempt_totp(lg, a, now);
		if (m != 0)
			return m == 1;
	} else if (!begin_attempt(lg, now)) {
		return false;
	}
	m = check_backup(lg, a);
	if (m == 0)
		m = ftpam_deliver_redeem(lg, a, now);
	if (m < 0)
		return false;
	if (m == FTPAM_DELIVERED) {
		if (!record_success(lg, 0, now))
			return false;
		ftpam_set_detail(lg, FTPAM_OK, "delivered code");
		return true;
	}
	if (m == 1) {
		*used = a->backup_len;
		return record_success(lg, 0, now);
	}
	ftpam_set_detail(lg, FTPAM_BAD_CODE, NULL);
	return false;
}

/* ---- the same work for every kind of user ---- */

/* A zero key stands in for a missing secret: the HMACs cost the same. */
static const uint8_t dummy_key[FT_KEY_DEFAULT];

/* The user's TOTP parameters with the given window, or, without a
 * secret, the defaults over the zero key. */
static void
work_params(
    const struct ftpam_login *lg, unsigned window, struct ft_totp_params *p)
{
	if (lg->sstate == FTPAM_SECRET_OK && lg->secret.keylen > 0) {
		ft_secret_totp_params(&lg->secret, window, p);
		return;
	}
	memset(p, 0, sizeof(*p));
	p->key = dummy_key;
	p->keylen = sizeof(dummy_key);
	p->algo = FT_ALGO_SHA1;
	p->digits = FT_DIGITS_DEFAULT;
	p->period = FT_PERIOD_DEFAULT;
	p->window = window;
}

static void
dummy_hmac(struct ftpam_login *lg, const struct ftpam_answer *a, time_t now)
{
	struct ft_totp_params p;
	char code[FT_CODE_BUFSZ];
	uint64_t step = 0;
	int off = 0;

	work_params(lg, lg->cfg.window, &p);
	if (!ftpam_answer_copy(a, a->totp_off, a->totp_len, code, sizeof(code)))
		return; /* too long to be a code: no HMAC for anyone */
	/* The result is thrown away; an error changes nothing either. */
	(void)ft_totp_match(&p, now, code, &off, &step);
	ft_wipe(code, sizeof(code));
}

static void
dummy_kdfs(struct ftpam_login *lg, const struct ftpam_answer *a)
{
	char code[FT_BACKUP_SHOWN_BUFSZ];
	size_t want = lg->cfg.backup_codes;

	if (lg->work.kdfs >= want ||
	    !ftpam_answer_copy(
		a, a->backup_off, a->backup_len, code, sizeof(code)))
		return;
	(void)ft_backup_dummy_work(
	    code, want - lg->work.kdfs, FT_BACKUP_ITERATIONS_DEFAULT);
	ft_wipe(code, sizeof(code));
}

/* Whatever the check stopped at (unknown user, no secret, locked, a TOTP
 * answer that was not a backup code), do the rest of the work an enrolled,
 * unlocked user's wrong answer costs: one state operation (a read, which
 * creates no record), one TOTP window, and as many backup-code hashes as
 * totp-enroll issues (backup_codes).  So the time an answer takes does not
 * tell who is enrolled or locked. */
static void
even_out(struct ftpam_login *lg, const struct ftpam_answer *a, time_t now)
{
	struct ft_user_state us;
	char err[ERRLEN];

	memset(&us, 0, sizeof(us));
	/* A cache that cannot be opened is cache_error for everyone. */
	if (!lg->work.state && lg->user != NULL && open_state(lg)) {
		ft_work_note(FT_WORK_STATE);
		(void)ft_state_get(
		    lg->state, lg->user, now, &us, err, sizeof(err));
	}
	if (a->totp_len > 0 && !lg->work.hmac)
		dummy_hmac(lg, a, now);
	if (a->backup_len > 0)
		dummy_kdfs(lg, a);
	ft_wipe(&us, sizeof(us));
}

/* ---- where a wrong code would have matched: a diagnostic only ---- */

/* Steps either side searched for the log: past any window a site sets. */
#define DRIFT_STEPS FT_WINDOW_MAX

/* The offset at which a TOTP-shaped answer matches within DRIFT_STEPS, or
 * 0.  Done for every refused TOTP-shaped answer, whoever the user (the
 * dummy key stands in for a missing secret), so that it adds the same
 * 2 * DRIFT_STEPS + 1 HMACs to every kind of user's wrong answer.  An
 * accepted code, which only an enrolled and unlocked user can give, skips
 * it: the success path of every login does not pay for a diagnostic. */
static int
drift_probe(struct ftpam_login *lg, const struct ftpam_answer *a, time_t now)
{
	struct ft_totp_params p;
	char code[FT_CODE_BUFSZ];
	uint64_t step = 0;
	int off = 0, m;

	if (a->totp_len == 0 ||
	    !ftpam_answer_copy(a, a->totp_off, a->totp_len, code, sizeof(code)))
		return 0; /* not a code: no HMAC for anyone */
	work_params(lg, DRIFT_STEPS, &p);
	m = ft_totp_match(&p, now, code, &off, &step);
	ft_wipe(code, sizeof(code));
	return m == 1 ? off : 0;
}

/* bad_code, but the code is the app's for a step outside the window: say
 * by how much the app's clock is off, so that the admin fixes the clock
 * rather than the user.  The code is still refused. */
static void
note_drift(struct ftpam_login *lg, int off)
{
	unsigned steps = (unsigned)(off < 0 ? -off : off);
	char what[FTPAM_DETAIL_MAX];

	if (lg->reason != FTPAM_BAD_CODE || steps <= lg->cfg.window)
		return;
	(void)snprintf(what, sizeof(what), "matches %+d steps: clock ~%u s %s",
	    off, steps * lg->secret.period, off > 0 ? "ahead" : "behind");
	ftpam_set_detail(lg, FTPAM_BAD_CODE, what);
}

/* One answer, checked, then evened out (see even_out), then, if it was
 * refused, the drift diagnostic (see drift_probe). */
static bool
check_code(struct ftpam_login *lg, const struct ftpam_answer *a, size_t *used)
{
	time_t now;
	bool ok;
	int off;

	memset(&lg->work, 0, sizeof(lg->work));
	ok = check_code_once(lg, a, used);
	now = ft_now();
	even_out(lg, a, now);
	if (!ok && (off = drift_probe(lg, a, now)) != 0)
		note_drift(lg, off);
	return ok;
}

/* Check the code in the answer, then, whatever the outcome, hand the
 * password part of a split answer on to the next module in PAM_AUTHTOK
 * (and take a code-only PAM_AUTHTOK away from it). */
static bool
check_code_and_forward(struct ftpam_login *lg, const struct ftpam_answer *a)
{
	size_t used = 0;
	bool ok;

	ok = check_code(lg, a, &used);
	ftpam_answer_forward(lg, a, used);
	return ok;
}

/* try_first_pass: a code at the end of PAM_AUTHTOK is checked without
 * counting a failure, because a password that merely ends in digits must
 * not cost the user a guess: only the prompted answer that follows counts
 * (at most one failure per call).  A locked user is not peeked at, so the
 * absence of a prompt cannot tell a locked user that a guess was right.
 * 1 accepted, 0 no match (prompt), -1 denied (reason set). */
static int
try_authtok_once(struct ftpam_login *lg, const struct ftpam_answer *a)
{
	struct ft_user_state us;
	char err[ERRLEN];
	time_t now = ft_now();
	uint64_t step = 0;
	int m = 0;

	if (lg->sstate != FTPAM_SECRET_OK)
		return 0; /* the prompted answer is denied like any other */
	if (!open_state(lg))
		return -1;
	err[0] = '\0';
	lg->work.state = true;
	ft_work_note(FT_WORK_STATE);
	if (ft_state_get(lg->state, lg->user, now, &us, err, sizeof(err)) !=
	    FT_OK) {
		ftpam_set_detail(lg, FTPAM_CACHE_ERROR, err);
		return -1;
	}
	if (us.locked_until != 0)
		return 0;
	if (a->totp_len > 0 && (m = check_totp(lg, a, now, &step)) != 0)
		return m < 0 ? -1 : attempt_totp(lg, a, now) == 1 ? 1 : -1;
	if (a->backup_len > 0 && (m = check_backup(lg, a)) != 0)
		return m < 0 ? -1 : record_success(lg, 0, now) ? 1 : -1;
	return 0;
}

/* try_authtok_once, then the same work for every kind of user. */
static int
try_authtok_code(struct ftpam_login *lg, const struct ftpam_answer *a)
{
	int r;

	memset(&lg->work, 0, sizeof(lg->work));
	r = try_authtok_once(lg, a);
	even_out(lg, a, ft_now());
	return r;
}

/* try_first_pass/use_first_pass: the code may already be at the end of
 * PAM_AUTHTOK.  Returns 1 decided (result in *ok), 0 go on and prompt. */
static int
first_pass(struct ftpam_login *lg, bool *ok)
{
	struct ftpam_answer a;
	bool unset;
	int have;

	*ok = false;
	have = ftpam_answer_from_authtok(lg, &a);
	if (have < 0) {
		ftpam_answer_free(&a);
		ftpam_set_detail(lg, FTPAM_NO_MEMORY, "out of memory");
		return 1;
	}
	if (have == 0) {
		unset = a.text == NULL;
		ftpam_answer_free(&a);
		if (!lg->cfg.use_first_pass)
			return 0;
		ftpam_set_detail(lg, FTPAM_NO_CODE,
		    unset ? "use_first_pass: PAM_AUTHTOK is not set"
			  : "use_first_pass: no code in PAM_AUTHTOK");
		return 1;
	}
	ftpam_debug(lg, "checking the code at the end of PAM_AUTHTOK");
	if (lg->cfg.use_first_pass) {
		*ok = check_code_and_forward(lg, &a);
		ftpam_answer_free(&a);
		return 1;
	}
	have = try_authtok_code(lg, &a);
	ftpam_answer_forward(
	    lg, &a, a.totp_len > 0 ? a.totp_len : a.backup_len);
	ftpam_answer_free(&a);
	*ok = have == 1;
	return have != 0 ? 1 : 0;
}

/* use_stashed: the code the split instance kept, checked without a
 * prompt (the password module before us has verified the password). */
static bool
check_stashed(struct ftpam_login *lg)
{
	struct ftpam_answer a;
	size_t used = 0;
	bool ok = false;
	int got;

	got = ftpam_stash_take(lg, &a);
	if (got < 0)
		ftpam_set_detail(lg, FTPAM_NO_MEMORY, "out of memory");
	else if (got == 0)
		ftpam_set_detail(lg, FTPAM_NO_CODE,
		    "use_stashed: no code kept for this user by a split "
		    "instance");
	else
		ok = check_code(lg, &a, &used);
	ftpam_answer_free(&a);
	return ok;
}

static bool
converse(struct ftpam_login *lg)
{
	struct ftpam_answer a;
	char what[ERRLEN];
	bool ok = false;
	int rc;

	if (lg->role == FTPAM_ROLE_STASHED)
		return check_stashed(lg);
	if ((lg->cfg.use_first_pass || lg->cfg.try_first_pass) &&
	    first_pass(lg, &ok) == 1)
		return ok;
	rc = ftpam_answer_prompt(lg, &a);
	if (rc == PAM_SUCCESS)
		rc = ftpam_deliver_dialogue(lg, &a);
	if (rc != PAM_SUCCESS) {
		ftpam_answer_free(&a);
		(void)snprintf(what, sizeof(what),
		    "no answer (conversation failed: %s)",
		    pam_strerror(lg->pamh, rc));
		ftpam_set_detail(lg, FTPAM_CONV_ERROR, what);
		return false;
	}
	/* No attempt: nothing checked, counted or evened out (the caller
	 * typed the answer, so its time tells them nothing new). */
	if (ftpam_answer_is_authtok(lg, &a))
		ftpam_set_detail(lg, FTPAM_PASSWORD_AS_CODE,
		    "the answer is the password: not checked, not counted");
	else
		ok = !lg->deliver_failed && check_code_and_forward(lg, &a);
	ftpam_answer_free(&a);
	return ok;
}

/* ---- the entry point ---- */

static void
get_items(struct ftpam_login *lg)
{
	const void *item;

	item = NULL;
	if (pam_get_item(lg->pamh, PAM_SERVICE, &item) == PAM_SUCCESS)
		lg->service = item;
	item = NULL;
	if (pam_get_item(lg->pamh, PAM_RHOST, &item) == PAM_SUCCESS)
		lg->rhost = item;
}

/* Options that cannot work together deny every login, with one clear
 * line, rather than run half right.  The old single-instance forward_pass
 * checked the code before the password module ran: refused rather than
 * keep a stack that lets a wrong password use up a code. */
static bool
role_ok(struct ftpam_login *lg)
{
	if (lg->cfg.forward_pass && lg->role == FTPAM_ROLE_ALONE) {
		ftpam_set_detail(lg, FTPAM_CONFIG_ERROR,
		    "forward_pass needs the split stack: pam_flowtotp split, "
		    "then the password module with use_first_pass "
		    "(stopping the stack on failure), then pam_flowtotp "
		    "use_stashed; see pam_flowtotp(8)");
		return false;
	}
	/* The module writes an enrolment as root: into a directory the user
	 * owns it could be made to write anywhere (a symlink, a planted
	 * directory), so enrolment at login is for the root store only. */
	if (lg->cfg.enroll == FT_ENROLL_LOGIN &&
	    ft_config_secret_in_home(&lg->cfg)) {
		ftpam_set_detail(lg, FTPAM_CONFIG_ERROR,
		    "enroll=login needs the root store: secret= must not use "
		    "the home directory (~ or %h); see pam_flowtotp(8)");
		return false;
	}
	return true;
}

/* Options (without the role words) and the role; false (reason set) if
 * they are wrong. */
static bool
read_options(struct ftpam_login *lg, int argc, const char **argv)
{
	const char **rest;
	char err[ERRLEN];
	int nrest = 0, rc;

	rest = calloc(argc > 0 ? (size_t)argc : 1U, sizeof(*rest));
	if (rest == NULL) {
		ftpam_set_detail(lg, FTPAM_NO_MEMORY, "out of memory");
		return false;
	}
	ftpam_role_from_args(argc, argv, &lg->role, rest, &nrest);
	err[0] = '\0';
	rc = ft_config_from_args(&lg->cfg, nrest, rest, err, sizeof(err));
	free(rest);
	if (rc != FT_OK) {
		ftpam_set_detail(lg, FTPAM_CONFIG_ERROR, err);
		return false;
	}
	return role_ok(lg);
}

/* The rollout policy, looked up once per login for every user (unknown
 * ones too, under the typed name), so the group lookup costs the same
 * whoever asks.  A failed lookup is logged here and counts as required
 * and not exempt (policy.c). */
static void
eval_policy(struct ftpam_login *lg)
{
	ft_policy_eval(&lg->cfg, lg->user, lg->pw, &lg->policy);
	if (lg->policy.lookup_failed)
		ftpam_log_warning(lg, lg->policy.why);
	ftpam_debug(lg, "policy: %s", lg->policy.why);
}

/* Exempt, or not required and not enrolled: PAM_IGNORE without a prompt,
 * never PAM_SUCCESS, so the rest of the stack decides.  nullok keeps its
 * old log line (reason=no_secret).  true if decided. */
static bool
policy_skips(struct ftpam_login *lg)
{
	if (lg->policy.exempt)
		ftpam_set_detail(lg, FTPAM_EXEMPT, lg->policy.why);
	else if (lg->sstate != FTPAM_SECRET_MISSING || lg->policy.required)
		return false;
	else if (lg->cfg.nullok)
		ftpam_set_detail(lg, FTPAM_NO_SECRET, "nullok: no secret file");
	else
		ftpam_set_detail(lg, FTPAM_NOT_REQUIRED, lg->policy.why);
	lg->ignored = true;
	/* A kept code has nothing to be checked against. */
	ftpam_stash_clear(lg->pamh);
	return true;
}

/* grace_days=: in grace, tell the user until when, then offer enrolment
 * (enroll=login, which an empty answer skips) or let the stack decide
 * (PAM_IGNORE, reason=grace).  Returns -1 when the grace does not decide
 * this login. */
static int
run_grace(struct ftpam_login *lg)
{
	lg->grace = ftpam_grace_check(lg);
	if (lg->grace == FTPAM_GRACE_DENY)
		return PAM_AUTH_ERR;
	if (lg->grace != FTPAM_GRACE_OPEN)
		return -1;
	if (ftpam_grace_tell(lg) != PAM_SUCCESS)
		return PAM_AUTH_ERR;
	if (ftpam_enroll_offered(lg))
		return -1;
	lg->ignored = true;
	ftpam_set_detail(lg, FTPAM_GRACE, lg->grace_note);
	ftpam_stash_clear(lg->pamh);
	return PAM_IGNORE;
}

/* A required user without enrolment was denied: say how the grace stood. */
static void
note_grace(struct ftpam_login *lg)
{
	if (lg->reason == FTPAM_NO_SECRET && lg->grace_note[0] != '\0')
		ftpam_set_detail(lg, FTPAM_NO_SECRET, lg->grace_note);
}

static int
run_login(struct ftpam_login *lg)
{
	int rc;

	eval_policy(lg);
	if (lg->role == FTPAM_ROLE_SPLIT)
		return ftpam_split(lg);
	if (lg->policy.exempt && policy_skips(lg))
		return PAM_IGNORE;
	if ((rc = run_grace(lg)) >= 0)
		return rc;
	if (ftpam_enroll_offered(lg)) {
		/* A kept code has nothing to be checked against. */
		ftpam_stash_clear(lg->pamh);
		return ftpam_enroll(lg);
	}
	if (policy_skips(lg))
		return PAM_IGNORE;
	if (ftpam_remembered(lg))
		return PAM_SUCCESS;
	rc = converse(lg) ? PAM_SUCCESS : PAM_AUTH_ERR;
	if (rc == PAM_SUCCESS)
		ftpam_remember(lg);
	note_grace(lg);
	return rc;
}

int
ftpam_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct ftpam_login *lg;
	const void *item = NULL;
	int rc = PAM_AUTH_ERR;

	(void)flags;
	lg = calloc(1, sizeof(*lg));
	if (lg == NULL) {
		pam_syslog(pamh, LOG_CRIT, "flowtotp: out of memory");
		return PAM_AUTH_ERR;
	}
	lg->pamh = pamh;
	lg->reason = FTPAM_BAD_CODE;
	get_items(lg);
	if (!read_options(lg, argc, argv)) {
		if (pam_get_item(pamh, PAM_USER, &item) == PAM_SUCCESS)
			lg->user = item;
		goto out;
	}
	if (pam_get_user(pamh, &lg->user, NULL) != PAM_SUCCESS ||
	    lg->user == NULL || lg->user[0] == '\0') {
		lg->user = NULL;
		ftpam_set_detail(lg, FTPAM_NO_SECRET, "no user name");
		goto out;
	}
	load_secret(lg);
	rc = run_login(lg);
out:
	if (!lg->stashed)
		ftpam_log_outcome(lg);
	ft_state_close(lg->state);
	ft_secret_wipe(&lg->secret);
	ft_wipe(lg, sizeof(*lg));
	free(lg);
	return rc;
}
