/* Per-user login state: backend dispatch, the Redis-to-local fallback and
 * the lockout/replay policy (see state.h for the protocol). */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otp.h"
#include "rc.h"
#include "state.h"
#include "state_backend.h"

#define FT_STATE_USER_MAX 256U /* bytes in a user name (record key) */
#define FT_STATE_WARNING_MAX 512U

struct ft_state {
	struct ft_state_policy pol;
	/* The backend the config selects (gdbm, or redis). */
	const struct ft_state_backend_ops *ops;
	void *impl;
	/* cache=redis with redis_fallback=local: the gdbm file used while
	 * Redis is unreachable, opened on first need. */
	bool fallback_local;
	bool probe; /* open gdbm files at once (ft_state_open) */
	char local_cache[PATH_MAX];
	const struct ft_state_backend_ops *fb_ops;
	void *fb_impl;
	const char *answered; /* backend name of the last call */
	char warning[FT_STATE_WARNING_MAX];
};

/* ---- the policy, shared by backends that hold the whole record ---- */

static bool
lock_active(const struct ft_user_state *s, time_t now)
{
	if (s->locked_until == 0)
		return false;
	return s->locked_until == FT_STATE_LOCKED_FOREVER ||
	    (int64_t)now < s->locked_until;
}

void
ft_state_apply_begin(const struct ft_state_policy *pol, time_t now,
    struct ft_user_state *s, enum ft_state_verdict *verdict)
{
	if (lock_active(s, now)) {
		*verdict = FT_STATE_LOCKED;
		return;
	}
	if (s->locked_until != 0) {
		/* The lock ran out: start counting afresh. */
		s->locked_until = 0;
		s->failures = 0;
		s->first_failure = 0;
	}
	/* Failures older than fail_interval no longer count. */
	if (s->failures > 0 &&
	    (int64_t)now - s->first_failure > (int64_t)pol->fail_interval) {
		s->failures = 0;
		s->first_failure = 0;
	}
	/* Count this attempt as failed in advance; success clears it. */
	if (s->failures == 0)
		s->first_failure = (int64_t)now;
	if (s->failures < UINT32_MAX)
		s->failures++;
	if (pol->deny > 0 && s->failures >= pol->deny) {
		/* This attempt is still checked; the ones after it are not. */
		s->locked_until = pol->unlock_time == 0
		    ? FT_STATE_LOCKED_FOREVER
		    : (int64_t)now + (int64_t)pol->unlock_time;
	}
	*verdict = FT_STATE_PROCEED;
}

void
ft_state_apply_success(uint64_t step, time_t now, struct ft_user_state *s,
    enum ft_state_verdict *verdict)
{
	/* step 0 is a backup code: it has no time step to replay. */
	if (step != 0 && step <= s->last_step) {
		*verdict = FT_STATE_REPLAY;
		return;
	}
	if (step != 0)
		s->last_step = step;
	s->failures = 0;
	s->first_failure = 0;
	s->locked_until = 0;
	s->last_success = (int64_t)now;
	*verdict = FT_STATE_ACCEPTED;
}

/* ---- open / close ---- */

static bool
is_redis(const struct ft_config *c)
{
	return strcmp(c->cache, FT_CACHE_REDIS) == 0;
}

static int
open_primary(
    const struct ft_config *c, struct ft_state *st, char *err, size_t errlen)
{
	if (!is_redis(c))
		return ft_state_gdbm_open(
		    c->cache, st->probe, &st->ops, &st->impl, err, errlen);
#ifdef HAVE_REDIS
	return ft_state_redis_open(c, &st->ops, &st->impl, err, errlen);
#else
	return ft_seterr(
	    err, errlen, FT_ERR_UNSUPPORTED, "this build has no Redis support");
#endif
}

static int
open_fallback(struct ft_state *st, const char *why, char *err, size_t errlen)
{
	int n, rc;

	if (st->fb_ops == NULL) {
		rc = ft_state_gdbm_open(st->local_cache, st->probe, &st->fb_ops,
		    &st->fb_impl, err, errlen);
		if (rc != FT_OK)
			return rc;
	}
	n = snprintf(st->warning, sizeof(st->warning),
	    "Redis unavailable (%s); used the local cache %s", why,
	    st->local_cache);
	if (n < 0 || (size_t)n >= sizeof(st->warning))
		(void)snprintf(st->warning, sizeof(st->warning),
		    "Redis unavailable; used the local cache");
	return FT_OK;
}

static int
open_state(const struct ft_config *c, bool probe, struct ft_state **out,
    char *err, size_t errlen)
{
	struct ft_state *st;
	char why[FT_STATE_WARNING_MAX];
	int rc;

	*out = NULL;
	if (c == NULL || c->cache[0] == '\0')
		return ft_seterr(
		    err, errlen, FT_ERR_ARG, "no cache configured");
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return ft_seterr(err, errlen, FT_ERR_NOMEM, "out of memory");
	st->probe = probe;
	st->pol.deny = c->deny;
	st->pol.unlock_time = c->unlock_time;
	st->pol.fail_interval = c->fail_interval;
	st->pol.period = FT_PERIOD_MAX;
	st->pol.window = c->window;
	st->fallback_local =
	    is_redis(c) && c->redis_fallback == FT_REDIS_FALLBACK_LOCAL;
	if (snprintf(st->local_cache, sizeof(st->local_cache), "%s",
		c->local_cache) < 0) {
		ft_state_close(st);
		return ft_seterr(err, errlen, FT_ERR_ARG, "bad local_cache");
	}

	why[0] = '\0';
	rc = open_primary(c, st, why, sizeof(why));
	if (rc == FT_ERR_BACKEND && st->fallback_local) {
		st->ops = NULL;
		st->impl = NULL;
		rc = open_fallback(st, why, err, errlen);
		if (rc == FT_OK)
			st->answered = st->fb_ops->name;
	} else if (rc != FT_OK) {
		(void)ft_seterr(err, errlen, rc, "%s", why);
	} else {
		st->answered = st->ops->name;
	}
	if (rc != FT_OK) {
		ft_state_close(st);
		return rc;
	}
	*out = st;
	return FT_OK;
}

int
ft_state_open(
    const struct ft_config *c, struct ft_state **out, char *err, size_t errlen)
{
	return open_state(c, true, out, err, errlen);
}

int
ft_state_open_login(
    const struct ft_config *c, struct ft_state **out, char *err, size_t errlen)
{
	return open_state(c, false, out, err, errlen);
}

void
ft_state_close(struct ft_state *st)
{
	if (st == NULL)
		return;
	if (st->ops != NULL)
		st->ops->close(st->impl);
	if (st->fb_ops != NULL)
		st->fb_ops->close(st->fb_impl);
	free(st);
}

/* ---- dispatch with fallback ---- */

enum op_kind { OP_BEGIN, OP_ATTEMPT, OP_SUCCESS, OP_GET, OP_UNLOCK, OP_FORGET };

struct op_args {
	enum op_kind kind;
	const char *user;
	ft_state_check_fn check; /* OP_ATTEMPT */
	void *check_arg;
	uint64_t *step_out; /* OP_ATTEMPT */
	uint64_t step;
	time_t now;
	enum ft_state_verdict *verdict;
	struct ft_user_state *out;
};

/* ft_state_attempt for a backend without one atomic section for it:
 * begin, check, success, each atomic (the attempt counted first). */
static int
attempt_in_steps(const struct ft_state_backend_ops *ops, void *impl,
    const struct ft_state_policy *pol, const struct op_args *a, char *err,
    size_t errlen)
{
	int m, rc;

	rc = ops->begin_attempt(
	    impl, pol, a->user, a->now, a->verdict, err, errlen);
	if (rc != FT_OK || *a->verdict != FT_STATE_PROCEED)
		return rc;
	m = a->check(a->check_arg, a->step_out);
	if (m < 0) {
		*a->verdict = FT_STATE_LOCKED; /* fail closed */
		return ft_seterr(err, errlen, m, "checking the code failed");
	}
	if (m == 0)
		return FT_OK; /* PROCEED: no match, failure counted */
	return ops->record_success(
	    impl, pol, a->user, *a->step_out, a->now, a->verdict, err, errlen);
}

static int
call_one(const struct ft_state_backend_ops *ops, void *impl,
    const struct ft_state_policy *pol, const struct op_args *a, char *err,
    size_t errlen)
{
	switch (a->kind) {
	case OP_ATTEMPT:
		if (ops->attempt == NULL)
			return attempt_in_steps(ops, impl, pol, a, err, errlen);
		return ops->attempt(impl, pol, a->user, a->now, a->check,
		    a->check_arg, a->verdict, a->step_out, err, errlen);
	case OP_BEGIN:
		return ops->begin_attempt(
		    impl, pol, a->user, a->now, a->verdict, err, errlen);
	case OP_SUCCESS:
		return ops->record_success(impl, pol, a->user, a->step, a->now,
		    a->verdict, err, errlen);
	case OP_GET: return ops->get(impl, a->user, a->out, err, errlen);
	case OP_UNLOCK: return ops->unlock(impl, a->user, err, errlen);
	case OP_FORGET: return ops->forget(impl, a->user, err, errlen);
	}
	return ft_seterr(err, errlen, FT_ERR_ARG, "unknown state operation");
}

static int
check_user(const char *user, char *err, size_t errlen)
{
	size_t n;

	if (user == NULL)
		return ft_seterr(err, errlen, FT_ERR_ARG, "no user name");
	n = strnlen(user, FT_STATE_USER_MAX + 1);
	if (n == 0 || n > FT_STATE_USER_MAX)
		return ft_seterr(err, errlen, FT_ERR_ARG,
		    "user name empty or longer than %u bytes",
		    FT_STATE_USER_MAX);
	return FT_OK;
}

static int
dispatch(struct ft_state *st, const struct op_args *a, char *err, size_t errlen)
{
	char why[FT_STATE_WARNING_MAX];
	int rc;

	st->warning[0] = '\0';
	rc = check_user(a->user, err, errlen);
	if (rc != FT_OK)
		return rc;
	if (st->ops != NULL) {
		why[0] = '\0';
		rc = call_one(st->ops, st->impl, &st->pol, a, why, sizeof(why));
		if (rc == FT_OK) {
			st->answered = st->ops->name;
			return FT_OK;
		}
		if (rc != FT_ERR_BACKEND || !st->fallback_local)
			return ft_seterr(err, errlen, rc, "%s", why);
	} else {
		(void)snprintf(why, sizeof(why), "not connected");
	}
	/* Redis failed (or never connected) and redis_fallback=local. */
	rc = open_fallback(st, why, err, errlen);
	if (rc != FT_OK)
		return rc;
	st->answered = st->fb_ops->name;
	return call_one(st->fb_ops, st->fb_impl, &st->pol, a, err, errlen);
}

int
ft_state_begin_attempt(struct ft_state *st, const char *user, time_t now,
    enum ft_state_verdict *verdict, char *err, size_t errlen)
{
	struct op_args a = {
	    .kind = OP_BEGIN, .user = user, .now = now, .verdict = verdict};

	*verdict = FT_STATE_LOCKED; /* fail closed */
	return dispatch(st, &a, err, errlen);
}

int
ft_state_attempt(struct ft_state *st, const char *user, time_t now,
    ft_state_check_fn check, void *arg, enum ft_state_verdict *verdict,
    uint64_t *step, char *err, size_t errlen)
{
	struct op_args a = {.kind = OP_ATTEMPT,
	    .user = user,
	    .check = check,
	    .check_arg = arg,
	    .step_out = step,
	    .now = now,
	    .verdict = verdict};

	*verdict = FT_STATE_LOCKED; /* fail closed */
	*step = 0;
	return dispatch(st, &a, err, errlen);
}

int
ft_state_record_success(struct ft_state *st, const char *user, uint64_t step,
    time_t now, enum ft_state_verdict *verdict, char *err, size_t errlen)
{
	struct op_args a = {.kind = OP_SUCCESS,
	    .user = user,
	    .step = step,
	    .now = now,
	    .verdict = verdict};

	*verdict = FT_STATE_REPLAY; /* fail closed */
	return dispatch(st, &a, err, errlen);
}

int
ft_state_get(struct ft_state *st, const char *user, time_t now,
    struct ft_user_state *out, char *err, size_t errlen)
{
	struct op_args a = {
	    .kind = OP_GET, .user = user, .now = now, .out = out};
	int rc;

	memset(out, 0, sizeof(*out));
	rc = dispatch(st, &a, err, errlen);
	if (rc == FT_OK && out->locked_until != 0 && !lock_active(out, now))
		out->locked_until = 0;
	return rc;
}

int
ft_state_unlock(struct ft_state *st, const char *user, char *err, size_t errlen)
{
	struct op_args a = {.kind = OP_UNLOCK, .user = user};

	return dispatch(st, &a, err, errlen);
}

int
ft_state_forget(struct ft_state *st, const char *user, char *err, size_t errlen)
{
	struct op_args a = {.kind = OP_FORGET, .user = user};

	return dispatch(st, &a, err, errlen);
}

const char *
ft_state_backend_name(const struct ft_state *st)
{
	return st->answered != NULL ? st->answered : "none";
}

const char *
ft_state_warning(const struct ft_state *st)
{
	return st->warning[0] != '\0' ? st->warning : NULL;
}
