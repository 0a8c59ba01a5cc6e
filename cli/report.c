/* One user's status, as a text line or a JSON object (status and list). */
#include <config.h>

#include <pwd.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "cli.h"
#include "otp.h"
#include "grace.h"
#include "policy.h"
#include "rc.h"

#define TIMEBUF 64U

/* What is known about one user, gathered before anything is printed. */
struct user_view {
	struct ft_secret s;
	int load_rc; /* of the secret file: FT_OK, FT_ERR_NOENT, ... */
	char err[CLI_ERRLEN];
	bool have; /* us is valid (the state store answered) */
	struct ft_user_state us;
	/* The last accepted step lies more than the window ahead of now:
	 * the clock ran ahead; steps ahead, for the text. */
	bool ahead;
	uint64_t ahead_steps;
	struct ft_policy pol;	/* require=/exempt= as a login decides it */
	char grace[CLI_ERRLEN]; /* grace_days=: where the user stands, or "" */
	const char *grace_source; /* "file" or "redis" (ft_grace_source) */
	unsigned remember;	  /* remember= seconds, 0: off */
};

/* The clock ran ahead: every current code is refused until real time
 * catches up or totp-enroll unlock moves the step back. */
static void
check_ahead(struct user_view *v, unsigned window)
{
	const unsigned period =
	    v->load_rc == FT_OK ? v->s.period : FT_PERIOD_DEFAULT;
	const time_t now = ft_now();
	uint64_t step;

	if (!v->have || period == 0 || now <= 0)
		return;
	step = (uint64_t)now / period;
	v->ahead = ft_state_ran_ahead(v->us.last_step, step, window);
	v->ahead_steps = v->ahead ? v->us.last_step - step : 0;
}

void
cli_report_begin(struct cli_report *r, bool json)
{
	memset(r, 0, sizeof(*r));
	r->json = json;
	r->first = true;
	if (json)
		(void)printf("{\"users\":[");
}

static void
worse(struct cli_report *r, int ex)
{
	if (ex > r->worst)
		r->worst = ex;
}

/* The state store, opened on first need; NULL if the caller may not see it
 * (said once on stderr). */
static struct ft_state *
report_state(struct cli_ctx *ctx, struct cli_report *r)
{
	int rc;

	if (r->st_tried)
		return r->st;
	r->st_tried = true;
	/* status and list only read: they never create the cache. */
	rc = cli_state_open_ro(ctx, &r->st, r->st_err, sizeof(r->st_err));
	r->st_ok = rc == FT_OK;
	if (rc != FT_OK) {
		r->st = NULL;
		if (rc != FT_ERR_PERM)
			worse(r, CLI_EX_FAIL);
		cli_warn("lockout state unavailable: %s", r->st_err);
	}
	return r->st;
}

static bool
get_state(struct cli_ctx *ctx, struct cli_report *r, const char *name,
    struct ft_user_state *us)
{
	struct ft_state *st = report_state(ctx, r);
	char err[CLI_ERRLEN];

	memset(us, 0, sizeof(*us));
	if (st == NULL)
		return r->st_ok; /* no cache file yet: no state, all zero */
	err[0] = '\0';
	if (ft_state_get(st, name, ft_now(), us, err, sizeof(err)) != FT_OK) {
		cli_warn("lockout state of %s: %s", name, err);
		worse(r, CLI_EX_FAIL);
		return false;
	}
	return true;
}

static void
text_state(const struct user_view *v)
{
	const struct ft_user_state *us = &v->us;
	char when[TIMEBUF];

	if (!v->have) {
		(void)printf(", lock state unknown");
		return;
	}
	if (us->locked_until == FT_STATE_LOCKED_FOREVER) {
		(void)printf(", LOCKED until an administrator unlocks");
	} else if (us->locked_until != 0) {
		cli_time_text((time_t)us->locked_until, when, sizeof(when));
		(void)printf(", LOCKED until %s", when);
	} else {
		(void)printf(", not locked");
	}
	(void)printf(", %lu failure%s", (unsigned long)us->failures,
	    us->failures == 1 ? "" : "s");
	if (us->last_success != 0) {
		cli_time_text((time_t)us->last_success, when, sizeof(when));
		(void)printf(", last login %s", when);
	}
	if (v->ahead)
		(void)printf(", LAST CODE %llu STEPS IN THE FUTURE (clock ran "
			     "ahead; current codes refused until "
			     "totp-enroll unlock)",
		    (unsigned long long)v->ahead_steps);
}

static void
print_text(const char *name, const struct user_view *v)
{
	const struct ft_secret *s = &v->s;
	char when[TIMEBUF];

	(void)printf("%s: ", name);
	if (v->load_rc == FT_OK) {
		cli_time_text((time_t)s->created, when, sizeof(when));
		(void)printf("enrolled %s, %s/%u/%us, %zu backup code%s left",
		    when, ft_algo_name(s->algo), s->digits, s->period,
		    s->nbackup, s->nbackup == 1 ? "" : "s");
		if (s->deliver[0] != '\0')
			(void)printf(", codes sent to %s%s", s->deliver,
			    s->keylen == 0 ? " (no app)" : "");
	} else if (v->load_rc == FT_ERR_NOENT) {
		(void)printf("not enrolled");
	} else {
		(void)printf("ERROR (%s)", v->err);
	}
	text_state(v);
	(void)printf(", policy %s", v->pol.why);
	if (v->grace[0] != '\0')
		(void)printf(", %s (record: %s)", v->grace, v->grace_source);
	if (v->remember > 0)
		(void)printf(", remember %u s", v->remember);
	(void)printf("\n");
}

static void
json_state(const struct user_view *v)
{
	const struct ft_user_state *us = &v->us;
	int64_t until = us->locked_until;

	if (!v->have) {
		(void)printf(",\"state_available\":false,\"locked\":null,"
			     "\"locked_until\":null,\"failures\":null,"
			     "\"last_success\":null,\"clock_ran_ahead\":null,"
			     "\"steps_ahead\":null");
		return;
	}
	if (until == FT_STATE_LOCKED_FOREVER)
		until = -1;
	(void)printf(
	    ",\"state_available\":true,\"locked\":%s,"
	    "\"locked_until\":%lld,\"failures\":%lu,\"last_success\":%lld",
	    us->locked_until != 0 ? "true" : "false", (long long)until,
	    (unsigned long)us->failures, (long long)us->last_success);
	(void)printf(",\"clock_ran_ahead\":%s,\"steps_ahead\":%llu",
	    v->ahead ? "true" : "false", (unsigned long long)v->ahead_steps);
}

static void
print_json(
    struct cli_report *r, const struct cli_target *t, const struct user_view *v)
{
	const struct ft_secret *s = &v->s;
	char when[TIMEBUF];

	(void)printf("%s{\"user\":", r->first ? "" : ",");
	r->first = false;
	cli_json_str(stdout, t->name);
	(void)printf(",\"path\":");
	cli_json_str(stdout, t->path);
	if (v->load_rc == FT_OK) {
		cli_time_iso((time_t)s->created, when, sizeof(when));
		(void)printf(
		    ",\"enrolled\":true,\"created\":%lld,"
		    "\"created_utc\":\"%s\",\"algorithm\":\"%s\","
		    "\"digits\":%u,\"period\":%u,\"backup_codes_left\":%zu",
		    (long long)s->created, when, ft_algo_name(s->algo),
		    s->digits, s->period, s->nbackup);
		(void)printf(",\"deliver\":");
		if (s->deliver[0] != '\0')
			cli_json_str(stdout, s->deliver);
		else
			(void)printf("null");
	} else if (v->load_rc == FT_ERR_NOENT) {
		(void)printf(",\"enrolled\":false");
	} else {
		(void)printf(",\"enrolled\":null,\"error\":");
		cli_json_str(stdout, v->err);
	}
	json_state(v);
	(void)printf(",\"required\":%s,\"exempt\":%s,\"policy\":",
	    v->pol.required ? "true" : "false",
	    v->pol.exempt ? "true" : "false");
	cli_json_str(stdout, v->pol.why);
	(void)printf(",\"grace\":");
	if (v->grace[0] != '\0')
		cli_json_str(stdout, v->grace);
	else
		(void)printf("null");
	(void)printf(",\"grace_source\":\"%s\",\"remember\":%u}",
	    v->grace_source, v->remember);
}

/* The verdict a login would reach for this user, from the same code. */
static void
policy_of(
    const struct cli_ctx *ctx, const struct cli_target *t, struct ft_policy *p)
{
	char name[CLI_NAME_MAX];
	struct passwd pw;

	memset(&pw, 0, sizeof(pw));
	memcpy(name, t->name, sizeof(name));
	pw.pw_name = name;
	pw.pw_uid = t->uid;
	pw.pw_gid = t->gid;
	ft_policy_eval(&ctx->cfg, t->name, &pw, p);
}

/* grace_days=: for a required user without enrolment, the record as the
 * module would read it (a damaged one is grace over there too). */
static void
grace_of(
    const struct cli_ctx *ctx, const struct cli_target *t, struct user_view *v)
{
	struct ft_grace g;
	char err[CLI_ERRLEN], when[TIMEBUF];
	int64_t end;
	int rc;

	v->grace[0] = '\0';
	v->grace_source = ft_grace_source(&ctx->cfg);
	v->remember = ctx->cfg.remember;
	if (ctx->cfg.grace_days == 0 || v->load_rc != FT_ERR_NOENT ||
	    !v->pol.required)
		return;
	err[0] = '\0';
	rc = ft_grace_load(&ctx->cfg, t->name, &g, err, sizeof(err));
	if (rc == FT_ERR_NOENT) {
		(void)snprintf(v->grace, sizeof(v->grace),
		    "grace not started (%u days from the next login)",
		    ctx->cfg.grace_days);
		return;
	}
	if (rc != FT_OK) {
		(void)snprintf(v->grace, sizeof(v->grace),
		    "GRACE OVER (record unusable: %.160s)", err);
		return;
	}
	if (g.first > (int64_t)ft_now()) {
		(void)snprintf(v->grace, sizeof(v->grace),
		    "GRACE OVER (record starts in the future: damaged)");
		return;
	}
	end = ft_grace_end(&g, ctx->cfg.grace_days);
	cli_time_text((time_t)end, when, sizeof(when));
	(void)snprintf(v->grace, sizeof(v->grace), "%s %s",
	    ft_now() < end ? "grace until" : "GRACE OVER since", when);
}

void
cli_report_user(struct cli_ctx *ctx, struct cli_report *r, const char *name)
{
	struct cli_target t;
	int ex;

	if ((ex = cli_target(ctx, name, &t)) != CLI_EX_OK) {
		worse(r, ex);
		return;
	}
	cli_report_target(ctx, r, &t);
}

void
cli_report_target(
    struct cli_ctx *ctx, struct cli_report *r, const struct cli_target *tp)
{
	const struct cli_target t = *tp;
	struct user_view v;

	memset(&v, 0, sizeof(v));
	v.load_rc = cli_secret_load(&t, &v.s, v.err, sizeof(v.err));
	if (v.load_rc != FT_OK && v.load_rc != FT_ERR_NOENT) {
		cli_warn("%s: %s", t.name, v.err);
		worse(r,
		    cli_exit_for(v.load_rc) == CLI_EX_PERM ? CLI_EX_PERM
							   : CLI_EX_FAIL);
	} else if (v.load_rc == FT_ERR_NOENT) {
		worse(r, CLI_EX_NOTENROLLED);
	}
	v.have = get_state(ctx, r, t.name, &v.us);
	policy_of(ctx, &t, &v.pol);
	grace_of(ctx, &t, &v);
	check_ahead(&v, ctx->cfg.window);
	if (r->json)
		print_json(r, &t, &v);
	else
		print_text(t.name, &v);
	ft_secret_wipe(&v.s);
}

int
cli_report_end(struct cli_report *r)
{
	if (r->json)
		(void)printf("]}\n");
	ft_state_close(r->st);
	r->st = NULL;
	return r->worst;
}
