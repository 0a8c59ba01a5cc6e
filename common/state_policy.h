/* The lockout and replay rules, with no I/O: each function maps a record
 * (and the time, and the answer of the code check) to the record after and a
 * verdict.  The gdbm backend applies them inside its locked session; the
 * Redis backend's Lua scripts are their twin (tests/redis proves the two
 * equal). */
#ifndef FLOWTOTP_STATE_POLICY_H
#define FLOWTOTP_STATE_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "state.h"

/* The policy every backend applies inside its atomic section. */
struct ft_state_policy {
	unsigned deny;		/* 0 = lockout disabled */
	unsigned unlock_time;	/* 0 = until an admin unlocks */
	unsigned fail_interval; /* seconds */
	unsigned period;	/* longest TOTP period in use, for TTLs */
	unsigned window;	/* steps either side, for TTLs */
};

/* Is the user locked out at now? */
bool ft_state_lock_active(const struct ft_user_state *s, time_t now);

/* Step 1: *verdict FT_STATE_LOCKED (s unchanged) or FT_STATE_PROCEED (this
 * attempt counted as a failure in advance, the lock set if it reaches
 * deny). */
void ft_state_apply_begin(const struct ft_state_policy *pol, time_t now,
    struct ft_user_state *s, enum ft_state_verdict *verdict);

/* Step 3; step 0 is a backup code (no replay check).  *verdict
 * FT_STATE_REPLAY or FT_STATE_ACCEPTED.  A replay is refused but not
 * counted: the failure step 1 counted in advance for it is taken back (and
 * the lock, if that count set it); nothing else changes. */
void ft_state_apply_success(const struct ft_state_policy *pol, uint64_t step,
    time_t now, struct ft_user_state *s, enum ft_state_verdict *verdict);

/* After step 1 said PROCEED: what the check's answer m (1 matched at step,
 * 0 no match, < 0 the check failed) makes of s.  A match goes through the
 * success rule; no match leaves the counted failure (PROCEED); a failed
 * check fails closed (LOCKED).  The counted failure stays for no match and
 * a failed check; an accepted code clears it and a replay takes it back. */
void ft_state_apply_check(const struct ft_state_policy *pol, int m,
    uint64_t step, time_t now, struct ft_user_state *s,
    enum ft_state_verdict *verdict);

/* totp-enroll unlock: clear failures and lock.  If the last accepted step
 * ran more than window steps ahead of now_step (not 0), keep it refused as
 * future_step and move last_step back to now_step - 1; true if so. */
bool ft_state_apply_unlock(
    struct ft_user_state *s, uint64_t now_step, unsigned window);

/* redis_fallback=local: the local record after a Redis call answered r
 * (failures, first failure and lock as Redis has them, when known) and
 * accepted step (0: none; a backup code is accepted with step 0 and
 * accepted true).  Replay protection only grows: last_step never goes
 * back. */
void ft_state_apply_mirror(struct ft_user_state *s,
    const struct ft_user_state *r, bool known, uint64_t step, bool accepted,
    time_t now);

#endif
