/* grace_days=: a required user without enrolment is let in (PAM_IGNORE,
 * reason=grace, the rest of the stack decides, as nullok does) for N days
 * from the first login at which the requirement applied, and told so in
 * the login.  The first-seen record is written only when the first factor
 * is seen (the same rule as enrolment at login), else anyone who knows user
 * names could start everyone's clock; a record that cannot be written
 * denies; a damaged one means the grace is over. */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "clock.h"
#include "grace.h"
#include "module.h"
#include "rc.h"

#define DATE_MAX 64U

static bool
grace_applies(const struct ftpam_login *lg)
{
	return lg->cfg.grace_days > 0 && lg->policy.required &&
	    !lg->policy.exempt && lg->sstate == FTPAM_SECRET_MISSING &&
	    lg->role != FTPAM_ROLE_SPLIT;
}

static void
note(struct ftpam_login *lg, const char *what, const char *err)
{
	(void)snprintf(lg->grace_note, sizeof(lg->grace_note), "grace: %s%s%s",
	    what, err != NULL ? ": " : "", err != NULL ? err : "");
}

/* No record: write one from now, unless another login (another host of
 * the fleet, with cache=redis) wrote one first; then read that one. */
static int
create(struct ftpam_login *lg, time_t now, struct ft_grace *g, char *err,
    size_t errlen)
{
	bool created = false;
	int rc;

	g->first = (int64_t)now;
	g->extend_days = 0;
	rc = ft_grace_create(&lg->cfg, lg->user, g, &created, err, errlen);
	if (rc != FT_OK)
		return rc;
	if (created) {
		ftpam_debug(lg, "grace: first seen now, record written (%s)",
		    ft_grace_source(&lg->cfg));
		return FT_OK;
	}
	rc = ft_grace_load(&lg->cfg, lg->user, g, err, errlen);
	return rc == FT_ERR_NOENT ? FT_ERR_CORRUPT : rc;
}

/* The record, written now if there is none.  FTPAM_GRACE_OVER for a
 * damaged, unsafe, unreadable or future record; FTPAM_GRACE_DENY if it
 * cannot be written. */
static enum ftpam_grace
record(struct ftpam_login *lg, time_t now, struct ft_grace *g)
{
	char err[FTPAM_DETAIL_MAX];
	int rc;

	err[0] = '\0';
	rc = ft_grace_load(&lg->cfg, lg->user, g, err, sizeof(err));
	if (rc == FT_ERR_NOENT) {
		err[0] = '\0';
		rc = create(lg, now, g, err, sizeof(err));
		if (rc != FT_OK && rc != FT_ERR_CORRUPT) {
			note(
			    lg, "the first-seen record cannot be written", err);
			ftpam_set_detail(lg,
			    rc == FT_ERR_BACKEND ? FTPAM_CACHE_ERROR
						 : FTPAM_UNSAFE_FILE,
			    lg->grace_note);
			return FTPAM_GRACE_DENY;
		}
	}
	if (rc != FT_OK) {
		note(lg, "record unusable, grace over", err);
		return FTPAM_GRACE_OVER;
	}
	if (g->first > (int64_t)now) {
		note(lg, "record starts in the future (damaged), grace over",
		    NULL);
		return FTPAM_GRACE_OVER;
	}
	return FTPAM_GRACE_OPEN;
}

static void
date_text(int64_t t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outlen, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		(void)snprintf(out, outlen, "@%lld", (long long)t);
}

enum ftpam_grace
ftpam_grace_check(struct ftpam_login *lg)
{
	struct ft_grace g;
	char when[DATE_MAX];
	time_t now = ft_now();
	enum ftpam_grace r;

	lg->grace_note[0] = '\0';
	if (!grace_applies(lg))
		return FTPAM_GRACE_NONE;
	if (!ftpam_first_factor_seen(lg)) {
		note(lg,
		    "no first factor in this stack (no password in "
		    "PAM_AUTHTOK, no publickey in SSH_AUTH_INFO_0); no "
		    "grace and no record",
		    NULL);
		return FTPAM_GRACE_OVER;
	}
	memset(&g, 0, sizeof(g));
	r = record(lg, now, &g);
	if (r != FTPAM_GRACE_OPEN)
		return r;
	lg->grace_end = ft_grace_end(&g, lg->cfg.grace_days);
	date_text(lg->grace_end, when, sizeof(when));
	if ((int64_t)now >= lg->grace_end) {
		(void)snprintf(lg->grace_note, sizeof(lg->grace_note),
		    "grace: over since %s", when);
		return FTPAM_GRACE_OVER;
	}
	(void)snprintf(
	    lg->grace_note, sizeof(lg->grace_note), "grace: until %s", when);
	return FTPAM_GRACE_OPEN;
}

int
ftpam_grace_tell(struct ftpam_login *lg)
{
	char when[DATE_MAX];
	int rc;

	date_text(lg->grace_end, when, sizeof(when));
	rc = pam_info(lg->pamh,
	    "two-factor authentication is required from %s: run totp-enroll",
	    when);
	if (rc != PAM_SUCCESS) {
		ftpam_set_detail(lg, FTPAM_CONV_ERROR,
		    "grace: the notice could not be shown");
		return PAM_AUTH_ERR;
	}
	return PAM_SUCCESS;
}
