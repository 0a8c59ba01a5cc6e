/* totp-enroll doctor: enrolment coverage of a rollout.  When require=,
 * exempt= or grace_days= is configured, the users the policy requires
 * (require=/exempt= over the user database, decided by the same code as a
 * login) who have no enrolment yet, each with where their grace stands.
 * Bounded: accounts below the first ordinary uid only when require= names
 * groups (system accounts are never "all"), at most LIST_MAX listed, and
 * at most SCAN_MAX entries of the user database read. */
#include <config.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "doctor.h"
#include "grace.h"
#include "policy.h"
#include "rc.h"
#include "secretfile.h"

#define UID_ORDINARY 1000U
#define UID_NOBODY 65534U
#define LIST_MAX 20U
#define SCAN_MAX 100000U
#define GRACE_TEXT_MAX 160U
#define TIMEBUF 64U

static const struct doc_kind k_summary = {"coverage", DOC_INFO,
    "nothing to do: how many required users have enrolled"};
static const struct doc_kind k_in_grace = {"coverage-in-grace", DOC_INFO,
    "have the user run totp-enroll before the grace ends"};
static const struct doc_kind k_locked_out = {"coverage-unenrolled", DOC_WARN,
    "have the user enrol (an administrator can: totp-enroll --user NAME), "
    "extend the grace (totp-enroll grace NAME --extend DAYS) or exempt them: "
    "until then every login of theirs is denied"};
static const struct doc_kind k_more = {"coverage-more", DOC_INFO,
    "run totp-enroll status USER, or list by group, for the others"};

struct coverage {
	struct cli_ctx *ctx; /* with the doctor's configuration */
	struct doc_report *rep;
	unsigned required, missing, listed;
};

static bool
considered(const struct ft_config *c, const struct passwd *pw)
{
	if (pw->pw_uid == UID_NOBODY)
		return false;
	return pw->pw_uid >= UID_ORDINARY ||
	    strncmp(c->require, "group:", strlen("group:")) == 0;
}

/* Where the user's grace stands; true when they can still log in. */
static bool
grace_text(const struct ft_config *c, const char *user, char *out, size_t len)
{
	struct ft_grace g;
	char err[CLI_ERRLEN], when[TIMEBUF];
	int64_t end;
	int rc;

	if (c->grace_days == 0) {
		(void)snprintf(out, len, "no grace (grace_days=0)");
		return false;
	}
	err[0] = '\0';
	rc = ft_grace_load(c, user, &g, err, sizeof(err));
	if (rc == FT_ERR_NOENT) {
		(void)snprintf(out, len,
		    "grace not started (%u days from the "
		    "first login)",
		    c->grace_days);
		return true;
	}
	if (rc != FT_OK || g.first > (int64_t)ft_now()) {
		(void)snprintf(out, len, "grace over (record unusable)");
		return false;
	}
	end = ft_grace_end(&g, c->grace_days);
	cli_time_text((time_t)end, when, sizeof(when));
	(void)snprintf(out, len, "%s %s",
	    (int64_t)ft_now() < end ? "grace until" : "grace over since", when);
	return (int64_t)ft_now() < end;
}

static void
check_user(struct coverage *cv, const struct passwd *pw)
{
	const struct doc_where w = {NULL, 0};
	const struct ft_config *c = &cv->ctx->cfg;
	struct ft_policy pol;
	struct cli_target t;
	struct ft_secret s;
	char err[CLI_ERRLEN], gr[GRACE_TEXT_MAX];
	int rc;
	bool open;

	ft_policy_eval(c, pw->pw_name, pw, &pol);
	if (!pol.required || pol.exempt)
		return;
	cv->required++;
	if (cli_target(cv->ctx, pw->pw_name, &t) != CLI_EX_OK)
		return;
	err[0] = '\0';
	rc = cli_secret_load(&t, &s, err, sizeof(err));
	ft_secret_wipe(&s);
	if (rc != FT_ERR_NOENT)
		return; /* enrolled, or a file the store check reports */
	cv->missing++;
	if (cv->listed >= LIST_MAX)
		return;
	cv->listed++;
	open = grace_text(c, pw->pw_name, gr, sizeof(gr));
	doc_add(cv->rep, open ? &k_in_grace : &k_locked_out, &w,
	    "%s (uid %lu) is required (%s) and not enrolled: %s", pw->pw_name,
	    (unsigned long)pw->pw_uid, pol.why, gr);
}

static void
scan(struct coverage *cv)
{
	struct passwd *pw;
	unsigned n = 0;

	setpwent();
	/* totp-enroll is single-threaded: getpwent is fine here. */
	// cppcheck-suppress getpwentCalled
	while (n++ < SCAN_MAX && (pw = getpwent()) != NULL)
		if (considered(&cv->ctx->cfg, pw))
			check_user(cv, pw);
	endpwent();
}

void
doc_check_coverage(const struct cli_ctx *ctx, const struct ft_config *cfg,
    struct doc_report *rep)
{
	const struct doc_where w = {NULL, 0};
	struct coverage cv = {.rep = rep};

	if (!cfg->require_given && cfg->exempt[0] == '\0' &&
	    cfg->grace_days == 0)
		return; /* no rollout configured */
	cv.ctx = malloc(sizeof(*cv.ctx));
	if (cv.ctx == NULL) {
		rep->oom = true;
		return;
	}
	*cv.ctx = *ctx;
	cv.ctx->cfg = *cfg; /* the file's settings, not the command line's */
	scan(&cv);
	doc_add(rep, &k_summary, &w,
	    "%u required user%s, %u not enrolled (require=%s%s%s)", cv.required,
	    cv.required == 1 ? "" : "s", cv.missing, cfg->require,
	    cfg->exempt[0] != '\0' ? ", exempt=" : "", cfg->exempt);
	if (cv.missing > cv.listed)
		doc_add(rep, &k_more, &w, "%u more not enrolled, not listed",
		    cv.missing - cv.listed);
	free(cv.ctx);
}
