/* The delivery dialogue (deliver=, pam_flowtotp(8)): at the code prompt an
 * empty answer, or the word FT_DELIVER_WORD, asks for a code.  A user with
 * a deliver address in the secret file gets a fresh code by the deliver
 * command; everyone (with delivery or not, known or not, within the rates
 * or not) sees the same text and the same second prompt, so the dialogue
 * does not tell who has delivery.  The module runs after the first factor
 * (the stack guarantee in pam_flowtotp(8)), so nothing is sent to someone
 * who has not passed it.
 *
 * The code is never logged and never shown to the client; only its keyed
 * hash is stored (common/deliver.h says why under which key). */
#include <config.h>

#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <security/pam_modutil.h>

#include "clock.h"
#include "deliver.h"
#include "module.h"
#include "otp.h"
#include "rc.h"
#include "state.h"
#include "wipe.h"

#define ERRLEN FTPAM_DETAIL_MAX
#define DELIVER_INFO                                                           \
	"If codes can be sent to you, one is on its way. Enter it below."
#define ROOT_UID 0

/* What one request needs, wiped as a whole. */
struct request {
	uint8_t key[FT_DELIVER_KEY_BYTES];
	char code[FT_CODE_BUFSZ];
	char input[FT_DELIVER_INPUT_MAX];
	struct ft_state_deliver d;
	char err[ERRLEN];
};

static bool
has_delivery(const struct ftpam_login *lg)
{
	return lg->sstate == FTPAM_SECRET_OK && lg->secret.deliver[0] != '\0';
}

static bool
asks_for_code(const struct ftpam_login *lg, const struct ftpam_answer *a)
{
	return lg->cfg.deliver[0] != '\0' && lg->role == FTPAM_ROLE_ALONE &&
	    !a->from_authtok && a->text != NULL &&
	    (a->len == 0 || strcmp(a->text, FT_DELIVER_WORD) == 0);
}

static bool
state_open(struct ftpam_login *lg, char *err, size_t errlen)
{
	return lg->state != NULL ||
	    ft_state_open(&lg->cfg, FT_STATE_LAZY, &lg->state, err, errlen) ==
	    FT_OK;
}

/* A fresh code and its hash; with a key from the key file. */
static int
make_code(struct ftpam_login *lg, struct request *rq)
{
	int rc;

	rc = ft_deliver_key_load(
	    lg->cfg.deliver_key, rq->key, rq->err, sizeof(rq->err));
	if (rc == FT_OK &&
	    (rc = ft_deliver_code(
		 lg->secret.digits, rq->code, sizeof(rq->code))) == FT_OK)
		rc = ft_deliver_mac(rq->key, lg->user, rq->code, rq->d.mac);
	if (rc != FT_OK && rq->err[0] == '\0')
		(void)snprintf(rq->err, sizeof(rq->err),
		    "no code could be made: %s", ft_rc_str(rc));
	return rc;
}

/* Counted within the rates and not locked?  true to send; a refusal is
 * logged (the user sees the same as for a sent code). */
static bool
may_send(struct ftpam_login *lg, struct request *rq, bool *error)
{
	struct ft_user_state us;
	time_t now = ft_now();

	*error = true;
	if (!state_open(lg, rq->err, sizeof(rq->err)) ||
	    ft_state_get(lg->state, lg->user, now, &us, rq->err,
		sizeof(rq->err)) != FT_OK)
		return false;
	*error = false;
	if (us.locked_until != 0) {
		ftpam_log_warning(lg, "locked out: no code sent");
		return false;
	}
	rq->d.user = lg->user;
	rq->d.now = now;
	rq->d.action = FT_DELIVER_ISSUE;
	rq->d.ttl = lg->cfg.deliver_ttl;
	rq->d.per_minute = lg->cfg.deliver_rate_minute;
	rq->d.per_hour = lg->cfg.deliver_rate_hour;
	if (ft_state_deliver(lg->state, &rq->d, rq->err, sizeof(rq->err)) !=
	    FT_OK) {
		*error = true;
		return false;
	}
	if (rq->d.verdict == FT_DELIVER_ISSUED)
		return true;
	ftpam_log_warning(lg,
	    "code request over deliver_rate_minute or "
	    "deliver_rate_hour: no code sent");
	return false;
}

/* Run the command as deliver_user with user, address and code on its
 * standard input. */
static int
run_command(struct ftpam_login *lg, struct request *rq)
{
	struct ft_deliver_run run = {.path = lg->cfg.deliver,
	    .input = rq->input,
	    .timeout_s = lg->cfg.deliver_timeout};
	const struct passwd *pw;
	int n;

	if (ft_deliver_command_ok(lg->cfg.deliver, rq->err, sizeof(rq->err)) !=
	    FT_OK)
		return FT_ERR_UNSAFE;
	pw = pam_modutil_getpwnam(lg->pamh, lg->cfg.deliver_user);
	if (pw == NULL || pw->pw_uid == ROOT_UID) {
		(void)snprintf(rq->err, sizeof(rq->err),
		    "deliver_user %.64s: %s", lg->cfg.deliver_user,
		    pw == NULL ? "no such user" : "must not be root");
		return FT_ERR_ARG;
	}
	run.uid = pw->pw_uid;
	run.gid = pw->pw_gid;
	n = snprintf(rq->input, sizeof(rq->input), "%s\n%s\n%s\n", lg->user,
	    lg->secret.deliver, rq->code);
	if (n < 0 || (size_t)n >= sizeof(rq->input))
		return FT_ERR_ARG;
	run.inputlen = (size_t)n;
	return ft_deliver_spawn(&run, rq->err, sizeof(rq->err));
}

/* The request of a user with delivery.  A failure sets delivery_failed
 * (or cache_error) and marks the attempt denied. */
static void
request_code(struct ftpam_login *lg, struct request *rq)
{
	bool error = false;
	enum ftpam_reason why = FTPAM_DELIVERY_FAILED;

	/* The stack must guarantee the first factor (pam_flowtotp(8)); a
	 * stack in which this module sees none at all is a mistake that
	 * would let anyone have codes sent, so it sends nothing. */
	if (!ftpam_first_factor_seen(lg)) {
		(void)snprintf(rq->err, sizeof(rq->err),
		    "no first factor in this stack (no password in "
		    "PAM_AUTHTOK, no publickey in SSH_AUTH_INFO_0): no code "
		    "sent");
	} else if (make_code(lg, rq) == FT_OK && may_send(lg, rq, &error)) {
		if (run_command(lg, rq) == FT_OK) {
			lg->deliver_sent = true;
			ftpam_debug(lg, "code sent by %s", lg->cfg.deliver);
			return;
		}
	} else if (!error && rq->err[0] == '\0') {
		return; /* refused and logged: looks like a sent code */
	} else if (error) {
		why = FTPAM_CACHE_ERROR;
	}
	ftpam_set_detail(lg, why, rq->err);
	lg->deliver_failed = true;
}

/* Without delivery: the same code and hash work on a zero key, so that
 * the answer does not come back sooner (the command's run time is the
 * difference left; pam_flowtotp(8), The dialogue). */
static void
dummy_request(struct ftpam_login *lg, struct request *rq)
{
	if (ft_deliver_code(FT_DIGITS_DEFAULT, rq->code, sizeof(rq->code)) ==
	    FT_OK)
		(void)ft_deliver_mac(rq->key, lg->user != NULL ? lg->user : "",
		    rq->code, rq->d.mac);
	ftpam_debug(lg, "code asked for; no delivery for this user");
}

int
ftpam_deliver_dialogue(struct ftpam_login *lg, struct ftpam_answer *a)
{
	struct request rq;
	int rc;

	if (!asks_for_code(lg, a))
		return PAM_SUCCESS;
	memset(&rq, 0, sizeof(rq));
	if (has_delivery(lg))
		request_code(lg, &rq);
	else
		dummy_request(lg, &rq);
	ft_wipe(&rq, sizeof(rq));
	ftpam_answer_free(a);
	rc = pam_info(lg->pamh, "%s", DELIVER_INFO);
	if (rc != PAM_SUCCESS)
		return rc;
	return ftpam_answer_prompt(lg, a);
}

int
ftpam_deliver_redeem(
    struct ftpam_login *lg, const struct ftpam_answer *a, time_t now)
{
	struct request rq;
	int rc, out = 0;

	if (lg->cfg.deliver[0] == '\0' || !has_delivery(lg) ||
	    a->totp_len != lg->secret.digits)
		return 0;
	memset(&rq, 0, sizeof(rq));
	rc = ft_deliver_key_load(
	    lg->cfg.deliver_key, rq.key, rq.err, sizeof(rq.err));
	if (rc == FT_OK &&
	    !ftpam_answer_copy(
		a, a->totp_off, a->totp_len, rq.code, sizeof(rq.code)))
		goto out; /* not a code */
	if (rc == FT_OK)
		rc = ft_deliver_mac(rq.key, lg->user, rq.code, rq.d.mac);
	rq.d.user = lg->user;
	rq.d.now = now;
	rq.d.action = FT_DELIVER_REDEEM;
	if (rc == FT_OK)
		rc = state_open(lg, rq.err, sizeof(rq.err)) &&
			ft_state_deliver(
			    lg->state, &rq.d, rq.err, sizeof(rq.err)) == FT_OK
		    ? FT_OK
		    : FT_ERR_BACKEND;
	if (rc != FT_OK) {
		ftpam_set_detail(lg,
		    rc == FT_ERR_BACKEND ? FTPAM_CACHE_ERROR
					 : FTPAM_DELIVERY_FAILED,
		    rq.err);
		out = -1;
	} else if (rq.d.verdict == FT_DELIVER_REDEEMED) {
		out = FTPAM_DELIVERED;
	}
out:
	ft_wipe(&rq, sizeof(rq));
	return out;
}
