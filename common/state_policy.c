/* The lockout and replay rules (see state.h for the protocol).  Pure: no
 * I/O, no clock, no allocation. */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>

#include "state_policy.h"

bool
ft_state_lock_active(const struct ft_user_state *s, time_t now)
{
	if (s->locked_until == 0)
		return false;
	return s->locked_until == FT_STATE_LOCKED_FOREVER ||
	    (int64_t)now < s->locked_until;
}

static void
clear_failures(struct ft_user_state *s)
{
	s->failures = 0;
	s->first_failure = 0;
	s->locked_until = 0;
}

void
ft_state_apply_begin(const struct ft_state_policy *pol, time_t now,
    struct ft_user_state *s, enum ft_state_verdict *verdict)
{
	if (ft_state_lock_active(s, now)) {
		*verdict = FT_STATE_LOCKED;
		return;
	}
	/* The lock ran out: start counting afresh. */
	if (s->locked_until != 0)
		clear_failures(s);
	/* Failures older than fail_interval no longer count. */
	if (s->failures > 0 &&
	    (int64_t)now - s->first_failure > (int64_t)pol->fail_interval)
		clear_failures(s);
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

/* A replay is the user's own code sent twice (terminal tabs, an scp
 * retry), not a guess: take back the failure its attempt counted in
 * advance, and the lock that count set.  A lock is only ever set when the
 * count reaches deny and the count does not move while the lock holds, so a
 * lock with fewer failures than deny was set by this attempt. */
static void
undo_advance_failure(
    const struct ft_state_policy *pol, time_t now, struct ft_user_state *s)
{
	if (s->failures == 0)
		return;
	s->failures--;
	if (s->failures == 0)
		s->first_failure = 0;
	if (s->locked_until != 0 && ft_state_lock_active(s, now) &&
	    (pol->deny == 0 || s->failures < pol->deny))
		s->locked_until = 0;
}

void
ft_state_apply_success(const struct ft_state_policy *pol, uint64_t step,
    time_t now, struct ft_user_state *s, enum ft_state_verdict *verdict)
{
	/* step 0 is a backup code: it has no time step to replay.  The
	 * step accepted while the clock ran ahead stays refused after
	 * unlock moved last_step back below it. */
	if (step != 0 && (step <= s->last_step || step == s->future_step)) {
		undo_advance_failure(pol, now, s);
		*verdict = FT_STATE_REPLAY;
		return;
	}
	if (step != 0)
		s->last_step = step;
	if (s->future_step != 0 && s->last_step >= s->future_step)
		s->future_step = 0; /* last_step refuses it from now on */
	clear_failures(s);
	s->last_success = (int64_t)now;
	*verdict = FT_STATE_ACCEPTED;
}

void
ft_state_apply_check(const struct ft_state_policy *pol, int m, uint64_t step,
    time_t now, struct ft_user_state *s, enum ft_state_verdict *verdict)
{
	if (m == 1) {
		ft_state_apply_success(pol, step, now, s, verdict);
		return;
	}
	/* No match: PROCEED; an error: fail closed. */
	*verdict = m == 0 ? FT_STATE_PROCEED : FT_STATE_LOCKED;
}

bool
ft_state_apply_unlock(
    struct ft_user_state *s, uint64_t now_step, unsigned window)
{
	clear_failures(s);
	if (now_step == 0 || s->last_step <= now_step + window)
		return false;
	if (s->last_step > s->future_step)
		s->future_step = s->last_step;
	/* The current code (now_step) works again; the earlier steps of
	 * the window stay refused. */
	s->last_step = now_step - 1U;
	return true;
}

void
ft_state_apply_mirror(struct ft_user_state *s, const struct ft_user_state *r,
    bool known, uint64_t step, bool accepted, time_t now)
{
	if (step > s->last_step)
		s->last_step = step;
	if (s->future_step != 0 && s->last_step >= s->future_step)
		s->future_step = 0;
	if (known) {
		s->failures = r->failures;
		s->first_failure = r->first_failure;
		s->locked_until = r->locked_until;
	}
	if (accepted)
		s->last_success = (int64_t)now;
}
