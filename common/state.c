/* Per-user login state: backend dispatch and the Redis-to-local fallback
 * (see state.h for the protocol).  Each call becomes one ft_state_op,
 * handed to the backend as it is; the rules live in state_policy.c. */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
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
	unsigned flags; /* FT_STATE_*, for the gdbm files */
	char local_cache[PATH_MAX];
	const struct ft_state_backend_ops *fb_ops;
	void *fb_impl;
	const char *answered; /* backend name of the last call */
	char warning[FT_STATE_WARNING_MAX];
};

/* ---- open / close ---- */

static bool
is_redis(const struct ft_config *c)
{
	return strcmp(c->cache, FT_CACHE_REDIS) == 0;
}

/* Open a gdbm file and, unless FT_STATE_LAZY, the file itself at once, so
 * a damaged one is found and set aside here. */
static int
open_gdbm(const char *path, unsigned flags,
    const struct ft_state_backend_ops **ops, void **impl, char *err,
    size_t errlen)
{
	struct ft_state_op op = {.kind = FT_OP_PROBE, .now = ft_now()};
	int rc;

	rc = ft_state_gdbm_open(path, flags, ops, impl, err, errlen);
	if (rc != FT_OK || (flags & FT_STATE_LAZY) != 0)
		return rc;
	rc = (*ops)->run(*impl, &op, err, errlen);
	if (rc != FT_OK) {
		(*ops)->close(*impl);
		*ops = NULL;
		*impl = NULL;
	}
	return rc;
}

static int
open_primary(
    const struct ft_config *c, struct ft_state *st, char *err, size_t errlen)
{
	if (!is_redis(c))
		return open_gdbm(
		    c->cache, st->flags, &st->ops, &st->impl, err, errlen);
#ifdef HAVE_REDIS
	return ft_state_redis_open(c, &st->ops, &st->impl, err, errlen);
#else
	return ft_seterr(
	    err, errlen, FT_ERR_UNSUPPORTED, "this build has no Redis support");
#endif
}

/* The local gdbm file of redis_fallback=local, opened on first need: as
 * the fallback, or to keep this host's copy of what Redis answered. */
static int
open_local(struct ft_state *st, char *err, size_t errlen)
{
	if (st->fb_ops != NULL)
		return FT_OK;
	return open_gdbm(
	    st->local_cache, st->flags, &st->fb_ops, &st->fb_impl, err, errlen);
}

static int
open_fallback(struct ft_state *st, const char *why, char *err, size_t errlen)
{
	int n, rc;

	rc = open_local(st, err, errlen);
	if (rc != FT_OK)
		return rc;
	n = snprintf(st->warning, sizeof(st->warning),
	    "Redis unavailable (%s); used the local cache %s", why,
	    st->local_cache);
	if (n < 0 || (size_t)n >= sizeof(st->warning))
		(void)snprintf(st->warning, sizeof(st->warning),
		    "Redis unavailable; used the local cache");
	return FT_OK;
}

/* Pass on what a backend repaired by itself (a cache directory taken back
 * from another user), unless a fallback warning is already set. */
static void
take_warning(struct ft_state *st, const struct ft_state_backend_ops *ops,
    const void *impl)
{
	const char *w;

	if (ops == NULL || ops->warning == NULL || st->warning[0] != '\0')
		return;
	w = ops->warning(impl);
	if (w != NULL)
		(void)snprintf(st->warning, sizeof(st->warning), "%s", w);
}

/* NULL with *rc and err set, or a state with no backend open yet. */
static struct ft_state *
new_state(const struct ft_config *c, unsigned flags, int *rc, char *err,
    size_t errlen)
{
	struct ft_state *st;

	if (c == NULL || c->cache[0] == '\0') {
		*rc = ft_seterr(err, errlen, FT_ERR_ARG, "no cache configured");
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		*rc = ft_seterr(err, errlen, FT_ERR_NOMEM, "out of memory");
		return NULL;
	}
	st->flags = flags;
	st->pol.deny = c->deny;
	st->pol.unlock_time = c->unlock_time;
	st->pol.fail_interval = c->fail_interval;
	st->pol.period = FT_PERIOD_MAX;
	st->pol.window = c->window;
	st->fallback_local =
	    is_redis(c) && c->redis_fallback == FT_REDIS_FALLBACK_LOCAL;
	if (snprintf(st->local_cache, sizeof(st->local_cache), "%s",
		c->local_cache) < 0) {
		free(st);
		*rc = ft_seterr(err, errlen, FT_ERR_ARG, "bad local_cache");
		return NULL;
	}
	*rc = FT_OK;
	return st;
}

int
ft_state_open(const struct ft_config *c, unsigned flags, struct ft_state **out,
    char *err, size_t errlen)
{
	struct ft_state *st;
	char why[FT_STATE_WARNING_MAX];
	int rc;

	*out = NULL;
	st = new_state(c, flags, &rc, err, errlen);
	if (st == NULL)
		return rc;
	/* Never create: a local fallback cache that is not the caller's is
	 * refused now, as the primary one is by ft_state_gdbm_open. */
	if (st->fallback_local && (flags & FT_STATE_NO_CREATE) != 0)
		rc = open_gdbm(st->local_cache, flags | FT_STATE_LAZY,
		    &st->fb_ops, &st->fb_impl, err, errlen);
	why[0] = '\0';
	if (rc == FT_OK)
		rc = open_primary(c, st, why, sizeof(why));
	if (rc == FT_ERR_BACKEND && st->fallback_local) {
		st->ops = NULL;
		st->impl = NULL;
		rc = open_fallback(st, why, err, errlen);
		if (rc == FT_OK)
			st->answered = st->fb_ops->name;
	} else if (rc != FT_OK && why[0] != '\0') {
		(void)ft_seterr(err, errlen, rc, "%s", why);
	} else if (rc == FT_OK) {
		st->answered = st->ops->name;
		take_warning(st, st->ops, st->impl);
	}
	if (rc != FT_OK) {
		ft_state_close(st);
		return rc;
	}
	*out = st;
	return FT_OK;
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

/* What a Redis call answered, for the local copy: the step it saw used
 * (accepted, or refused as a replay) and the failure record it left. */
static void
mirror_op(const struct ft_state_op *op, struct ft_state_op *m)
{
	memset(m, 0, sizeof(*m));
	m->pol = op->pol;
	m->user = op->user;
	m->now = op->now;
	m->no_record = op->no_record;
	m->now_step = op->now_step;
	if (op->kind == FT_OP_UNLOCK || op->kind == FT_OP_FORGET ||
	    op->kind == FT_OP_REMEMBER_CLEAR) {
		m->kind = op->kind; /* the same change, locally */
		return;
	}
	m->kind = FT_OP_MIRROR;
	m->state = op->state;
	m->known = op->known;
	m->verdict = op->verdict;
	if (op->verdict == FT_STATE_ACCEPTED || op->verdict == FT_STATE_REPLAY)
		m->step = op->step;
}

/* redis_fallback=local: keep this host's history in the local cache, so a
 * fallback still refuses a code accepted through Redis and counts its
 * failures.  Redis decided the login; a local copy that cannot be written
 * is a warning, not a denial (the login's own record is Redis's). */
static void
mirror_local(struct ft_state *st, const struct ft_state_op *op)
{
	struct ft_state_op m;
	char why[FT_STATE_WARNING_MAX];
	int rc;

	/* A remembered origin is Redis's alone: the local copy only has to
	 * forget them with the user's other records.  A delivered code lives
	 * in one store: the one that issued it. */
	if (!st->fallback_local || op->kind == FT_OP_GET ||
	    op->kind == FT_OP_PROBE || op->kind == FT_OP_REMEMBER_CHECK ||
	    op->kind == FT_OP_REMEMBER_SET || op->kind == FT_OP_DELIVER)
		return;
	why[0] = '\0';
	mirror_op(op, &m);
	rc = open_local(st, why, sizeof(why));
	if (rc == FT_OK)
		rc = st->fb_ops->run(st->fb_impl, &m, why, sizeof(why));
	take_warning(st, st->fb_ops, st->fb_impl);
	if (rc != FT_OK && st->warning[0] == '\0')
		(void)snprintf(st->warning, sizeof(st->warning),
		    "Redis answered, but the local cache %.200s kept no "
		    "copy: %.250s",
		    st->local_cache, why);
}

static int
dispatch(struct ft_state *st, struct ft_state_op *op, char *err, size_t errlen)
{
	char why[FT_STATE_WARNING_MAX];
	int rc;

	st->warning[0] = '\0';
	op->pol = &st->pol;
	op->no_record = (st->flags & FT_STATE_NO_RECORD) != 0;
	rc = check_user(op->user, err, errlen);
	if (rc != FT_OK)
		return rc;
	if (st->ops != NULL) {
		why[0] = '\0';
		rc = st->ops->run(st->impl, op, why, sizeof(why));
		take_warning(st, st->ops, st->impl);
		if (rc == FT_OK) {
			st->answered = st->ops->name;
			mirror_local(st, op);
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
	rc = st->fb_ops->run(st->fb_impl, op, err, errlen);
	take_warning(st, st->fb_ops, st->fb_impl);
	return rc;
}

/* The record after the call, for the caller's log line. */
static void
copy_record(const struct ft_state_op *op, int rc, struct ft_state_login *l)
{
	l->known = rc == FT_OK && op->known;
	l->failures = l->known ? op->state.failures : 0;
	l->locked_until = l->known ? op->state.locked_until : 0;
	l->last_step = l->known ? op->state.last_step : 0;
}

bool
ft_state_ran_ahead(uint64_t last_step, uint64_t now_step, unsigned window)
{
	return last_step > now_step + window;
}

/* This call set a lock (it was not locked before: the verdict was not
 * LOCKED): the user's remembered origins go, so that after the lock an
 * origin must give a code again.  A record the backend did not report
 * (Redis never reports less than begin's) is cleared too. */
static int
clear_if_locked(
    struct ft_state *st, const struct ft_state_op *op, char *err, size_t errlen)
{
	if (op->verdict == FT_STATE_LOCKED ||
	    (op->known && op->state.locked_until == 0))
		return FT_OK;
	return ft_state_remember_clear(st, op->user, err, errlen);
}

int
ft_state_begin_attempt(struct ft_state *st, const char *user, time_t now,
    enum ft_state_verdict *verdict, char *err, size_t errlen)
{
	struct ft_state_op op = {.kind = FT_OP_BEGIN,
	    .user = user,
	    .now = now,
	    .verdict = FT_STATE_LOCKED}; /* fail closed */
	int rc;

	rc = dispatch(st, &op, err, errlen);
	*verdict = rc == FT_OK ? op.verdict : FT_STATE_LOCKED;
	if (rc == FT_OK)
		rc = clear_if_locked(st, &op, err, errlen);
	return rc;
}

int
ft_state_attempt(
    struct ft_state *st, struct ft_state_login *l, char *err, size_t errlen)
{
	struct ft_state_op op = {.kind = FT_OP_ATTEMPT,
	    .user = l->user,
	    .now = l->now,
	    .check = l->check,
	    .check_arg = l->check_arg,
	    .verdict = FT_STATE_LOCKED}; /* fail closed */
	int rc;

	rc = dispatch(st, &op, err, errlen);
	l->verdict = rc == FT_OK ? op.verdict : FT_STATE_LOCKED;
	l->step = op.step;
	copy_record(&op, rc, l);
	if (rc == FT_OK)
		rc = clear_if_locked(st, &op, err, errlen);
	return rc;
}

int
ft_state_record_success(
    struct ft_state *st, struct ft_state_login *l, char *err, size_t errlen)
{
	struct ft_state_op op = {.kind = FT_OP_SUCCESS,
	    .user = l->user,
	    .now = l->now,
	    .step = l->step,
	    .verdict = FT_STATE_REPLAY}; /* fail closed */
	int rc;

	rc = dispatch(st, &op, err, errlen);
	l->verdict = rc == FT_OK ? op.verdict : FT_STATE_REPLAY;
	copy_record(&op, rc, l);
	return rc;
}

int
ft_state_get(struct ft_state *st, const char *user, time_t now,
    struct ft_user_state *out, char *err, size_t errlen)
{
	struct ft_state_op op = {.kind = FT_OP_GET, .user = user, .now = now};
	int rc;

	memset(out, 0, sizeof(*out));
	rc = dispatch(st, &op, err, errlen);
	if (rc != FT_OK)
		return rc;
	*out = op.state;
	if (out->locked_until != 0 && !ft_state_lock_active(out, now))
		out->locked_until = 0;
	return FT_OK;
}

int
ft_state_unlock(struct ft_state *st, const char *user, uint64_t now_step,
    bool *rewound, char *err, size_t errlen)
{
	/* No time from the caller: the clock names a file set aside. */
	struct ft_state_op op = {.kind = FT_OP_UNLOCK,
	    .user = user,
	    .now = ft_now(),
	    .now_step = now_step};
	int rc;

	rc = dispatch(st, &op, err, errlen);
	*rewound = rc == FT_OK && op.rewound;
	if (rc == FT_OK)
		rc = ft_state_remember_clear(st, user, err, errlen);
	return rc;
}

int
ft_state_forget(struct ft_state *st, const char *user, char *err, size_t errlen)
{
	struct ft_state_op op = {
	    .kind = FT_OP_FORGET, .user = user, .now = ft_now()};
	int rc;

	rc = dispatch(st, &op, err, errlen);
	if (rc == FT_OK)
		rc = ft_state_remember_clear(st, user, err, errlen);
	return rc;
}

/* ---- remember= ---- */

int
ft_state_remember_check(
    struct ft_state *st, struct ft_state_remember *r, char *err, size_t errlen)
{
	struct ft_state_op op = {.kind = FT_OP_REMEMBER_CHECK,
	    .user = r->user,
	    .now = r->now,
	    .digest = r->digest};
	struct ft_user_state us;
	int rc;

	r->remembered = false;
	if (r->digest == NULL)
		return ft_seterr(err, errlen, FT_ERR_ARG, "no origin digest");
	/* The lock first: a locked user is never let in without a code. */
	rc = ft_state_get(st, r->user, r->now, &us, err, errlen);
	if (rc != FT_OK || us.locked_until != 0)
		return rc;
	rc = dispatch(st, &op, err, errlen);
	r->remembered = rc == FT_OK && op.remembered;
	return rc;
}

int
ft_state_remember_set(struct ft_state *st, const struct ft_state_remember *r,
    char *err, size_t errlen)
{
	struct ft_state_op op = {.kind = FT_OP_REMEMBER_SET,
	    .user = r->user,
	    .now = r->now,
	    .digest = r->digest,
	    .until = r->until};

	if (r->digest == NULL || r->until <= (int64_t)r->now)
		return ft_seterr(
		    err, errlen, FT_ERR_ARG, "no origin digest or time");
	return dispatch(st, &op, err, errlen);
}

int
ft_state_remember_clear(
    struct ft_state *st, const char *user, char *err, size_t errlen)
{
	struct ft_state_op op = {
	    .kind = FT_OP_REMEMBER_CLEAR, .user = user, .now = ft_now()};

	return dispatch(st, &op, err, errlen);
}

int
ft_state_deliver(
    struct ft_state *st, struct ft_state_deliver *d, char *err, size_t errlen)
{
	struct ft_state_op op = {.kind = FT_OP_DELIVER,
	    .user = d->user,
	    .now = d->now,
	    .deliver = d};
	int rc;

	d->verdict = FT_DELIVER_REFUSED; /* fail closed */
	rc = dispatch(st, &op, err, errlen);
	if (rc != FT_OK)
		d->verdict = FT_DELIVER_REFUSED;
	return rc;
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
