/* remember=SECONDS: a user who gave a code is not asked again for SECONDS
 * on the same service, from the same remote host and tty, on this host
 * since this boot (common/remember.h makes the digest of that origin).
 *
 * Only the second factor is skipped, so the stack must have checked a
 * first one: without a password in PAM_AUTHTOK or a key sshd verified, no
 * origin is remembered and none is let in (else a remembered origin would
 * need no authentication at all).  A remembered login is PAM_SUCCESS
 * without a prompt, reason=remembered.  Only an enrolled user who is not
 * locked is remembered: the state layer reads the lock first.  Any error
 * means "not remembered": a code is asked for as without remember=. */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "clock.h"
#include "module.h"
#include "otp.h"
#include "rc.h"
#include "remember.h"
#include "state.h"
#include "wipe.h"

/* Users without a secret take the same path with this key, so that the
 * time to the prompt does not tell whether a user is enrolled. */
static const uint8_t no_key[FT_KEY_DEFAULT];

static bool
remember_applies(const struct ftpam_login *lg)
{
	return lg->cfg.remember > 0 && lg->role == FTPAM_ROLE_ALONE &&
	    ftpam_first_factor_seen(lg);
}

static bool
origin_digest(struct ftpam_login *lg, uint8_t d[FT_REMEMBER_DIGEST_LEN])
{
	struct ft_remember_origin o = {
	    .user = lg->user, .service = lg->service, .rhost = lg->rhost};
	const void *tty = NULL;
	bool have = lg->sstate == FTPAM_SECRET_OK;
	char err[FTPAM_DETAIL_MAX];

	if (pam_get_item(lg->pamh, PAM_TTY, &tty) == PAM_SUCCESS)
		o.tty = tty;
	err[0] = '\0';
	if (ft_remember_digest(have ? lg->secret.key : no_key,
		have ? lg->secret.keylen : sizeof(no_key), &o, d, err,
		sizeof(err)) == FT_OK)
		return true;
	ftpam_log_warning(lg, err);
	return false;
}

/* The state, opened as login.c opens it (the same flags), so whichever
 * opens it first the login uses one. */
static bool
state_open(struct ftpam_login *lg, char *err, size_t errlen)
{
	if (lg->state != NULL)
		return true;
	return ft_state_open(&lg->cfg,
		   FT_STATE_LAZY |
		       (lg->sstate == FTPAM_SECRET_OK ? 0U
						      : FT_STATE_NO_RECORD),
		   &lg->state, err, errlen) == FT_OK;
}

bool
ftpam_remembered(struct ftpam_login *lg)
{
	uint8_t d[FT_REMEMBER_DIGEST_LEN];
	struct ft_state_remember r = {
	    .user = lg->user, .now = ft_now(), .digest = d};
	char err[FTPAM_DETAIL_MAX];
	bool yes = false;

	if (!remember_applies(lg) || !origin_digest(lg, d))
		return false;
	err[0] = '\0';
	if (!state_open(lg, err, sizeof(err)) ||
	    ft_state_remember_check(lg->state, &r, err, sizeof(err)) != FT_OK)
		ftpam_log_warning(lg, err);
	else
		yes = r.remembered && lg->sstate == FTPAM_SECRET_OK;
	ft_wipe(d, sizeof(d));
	if (!yes)
		return false;
	ftpam_set_detail(lg, FTPAM_REMEMBERED, NULL);
	/* A kept code has nothing left to be checked against. */
	ftpam_stash_clear(lg->pamh);
	return true;
}

void
ftpam_remember(struct ftpam_login *lg)
{
	uint8_t d[FT_REMEMBER_DIGEST_LEN];
	time_t now = ft_now();
	struct ft_state_remember r = {.user = lg->user,
	    .now = now,
	    .digest = d,
	    .until = (int64_t)now + (int64_t)lg->cfg.remember};
	char err[FTPAM_DETAIL_MAX];

	if (!remember_applies(lg) || lg->sstate != FTPAM_SECRET_OK ||
	    !origin_digest(lg, d))
		return;
	err[0] = '\0';
	/* The login succeeded already: an origin not remembered only means
	 * the next login asks for a code. */
	if (!state_open(lg, err, sizeof(err)) ||
	    ft_state_remember_set(lg->state, &r, err, sizeof(err)) != FT_OK)
		ftpam_log_warning(lg, err);
	else
		ftpam_debug(lg, "remember: origin remembered for %u s",
		    lg->cfg.remember);
	ft_wipe(d, sizeof(d));
}
