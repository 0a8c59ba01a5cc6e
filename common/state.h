/* Per-user login state: replay protection and lockout (the pam_faillock
 * model: one small library the module and the CLI share).  Two backends
 * behind one interface: a gdbm file (default, in /dev/shm/flowtotp) and Redis
 * (cache=redis, for a fleet).
 *
 * The login protocol bounds guessing without holding a lock while codes are
 * checked:
 *   1. ft_state_begin_attempt(): atomically, if the user is locked return
 *      FT_STATE_LOCKED; otherwise count this attempt as a failure in advance
 *      (resetting the count first if the first failure is older than
 *      fail_interval) and, if that reaches deny, set the lock for the attempts
 *      that come after it.  So of any number of parallel guesses at most
 *      `deny` are ever checked before the lock holds.
 *   2. the caller checks the code.
 *   3a. correct TOTP: ft_state_record_success(step): atomically, if step <=
 *      the last accepted step return FT_STATE_REPLAY and take back the
 *      advance failure (a replay is the user's own code sent twice, not a
 *      guess: refused, logged, never counted toward deny); else store
 *      step, clear failures and lock.
 *   3b. correct backup code: ft_state_record_success(0 = no step) clears
 *      failures and lock only.
 *   3c. wrong code: nothing more to do (the failure was already counted).
 * Records are one per user; the store does not grow with logins. */
#ifndef FLOWTOTP_STATE_H
#define FLOWTOTP_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"

#define FT_STATE_LOCKED_FOREVER INT64_MAX /* unlock_time=0: admin only */

enum ft_state_verdict {
	FT_STATE_PROCEED = 0,  /* begin_attempt: go on and check the code */
	FT_STATE_ACCEPTED = 1, /* record_success: step recorded */
	FT_STATE_LOCKED = 2,   /* user is locked out */
	FT_STATE_REPLAY = 3,   /* step at or before the last accepted one */
};

struct ft_user_state {
	uint64_t last_step;    /* last accepted TOTP step, 0 = none */
	uint32_t failures;     /* consecutive failures in the interval */
	int64_t first_failure; /* time of the first counted failure, 0 = none */
	int64_t locked_until;  /* 0 = not locked; FT_STATE_LOCKED_FOREVER */
	int64_t last_success;  /* time of last successful login, 0 = never */
	/* The highest step accepted while the clock ran ahead, kept refused
	 * after totp-enroll unlock moved last_step back to now; cleared once
	 * a later step is accepted.  0 = none. */
	uint64_t future_step;
};

struct ft_state; /* opaque; one per PAM call or CLI command */

/* Flags of ft_state_open. */
/* Open the gdbm file with the first operation instead of at once: a login's
 * first operation follows immediately, and opening the file separately
 * first was a third of a login's cost.  That operation creates, checks and
 * sets aside instead, with the same errors. */
#define FT_STATE_LAZY 0x1U
/* Never create the cache directory: open only an existing directory owned
 * by the caller (FT_ERR_PERM otherwise).  For a non-root caller, whose
 * directory the module would refuse; with cache=redis and
 * redis_fallback=local it applies to local_cache. */
#define FT_STATE_NO_CREATE 0x2U
/* Apply the rules but never create a record: for a login of a user with
 * no secret (unknown or not enrolled), so that the same work is done
 * without random names filling the cache.  An existing record is still
 * updated. */
#define FT_STATE_NO_RECORD 0x4U

/* Open the backend the config selects (cache= path or "redis").  For gdbm,
 * ensures the cache directory (root-owned 0700 when run as root) and sets a
 * damaged file aside (renamed to NAME.corrupt.TIME) so the next open starts
 * a fresh one; that open itself returns FT_ERR_CORRUPT.  A single damaged
 * record only refuses its own user (FT_ERR_CORRUPT, or FT_ERR_VERSION for a
 * record of a newer version than this code reads); see flowtotp(5). */
int ft_state_open(const struct ft_config *c, unsigned flags,
    struct ft_state **out, char *err, size_t errlen);
void ft_state_close(struct ft_state *st);

/* Step 1 of a login; *verdict is FT_STATE_PROCEED or FT_STATE_LOCKED. */
int ft_state_begin_attempt(struct ft_state *st, const char *user, time_t now,
    enum ft_state_verdict *verdict, char *err, size_t errlen);

/* Checks a code while the state is locked: 1 matched (*step set), 0 no
 * match, or a negative ft_rc. */
typedef int (*ft_state_check_fn)(void *arg, uint64_t *step);

/* One login's request to the state layer and its answer. */
struct ft_state_login {
	const char *user;
	time_t now;
	ft_state_check_fn check; /* ft_state_attempt only */
	void *check_arg;
	/* record_success: the step to record (0: a backup code);
	 * attempt: set to the step the check matched. */
	uint64_t step;
	enum ft_state_verdict verdict; /* set by the call (fail closed) */
	/* Out, for the log line: the record as the call left it, when the
	 * backend reports it (known; the gdbm cache always does). */
	bool known;
	uint32_t failures;    /* failures counted toward deny */
	int64_t locked_until; /* 0, a time, or FT_STATE_LOCKED_FOREVER */
	uint64_t last_step;   /* last accepted step after the call (known) */
};

/* Did the clock run ahead?  true when last_step lies more than window
 * steps after now_step: no current code can be accepted until real time
 * catches up, or totp-enroll unlock moves it back. */
bool ft_state_ran_ahead(uint64_t last_step, uint64_t now_step, unsigned window);

/* Steps 1 to 3 of a TOTP login in one atomic section: count the attempt,
 * and unless locked call l->check (microseconds: a TOTP window, never a
 * slow backup-code hash) and record its step.  l->verdict: FT_STATE_LOCKED
 * (check not called), FT_STATE_ACCEPTED or FT_STATE_REPLAY (matched,
 * l->step set), or FT_STATE_PROCEED (no match; the failure stays counted, a
 * backup code may still follow through ft_state_record_success).  The
 * gdbm cache does it in one locked session, one write; Redis checks the
 * code first (locally; its answer counts only if the server says the
 * attempt may proceed) and then makes one atomic script call. */
int ft_state_attempt(
    struct ft_state *st, struct ft_state_login *l, char *err, size_t errlen);

/* Step 3 for l->step; step 0 means a backup code (no replay check).
 * l->verdict is FT_STATE_ACCEPTED or FT_STATE_REPLAY. */
int ft_state_record_success(
    struct ft_state *st, struct ft_state_login *l, char *err, size_t errlen);

/* Read a user's state (all zero if none), for status and tests.  A lock
 * whose time has passed is reported as not locked. */
int ft_state_get(struct ft_state *st, const char *user, time_t now,
    struct ft_user_state *out, char *err, size_t errlen);

/* Clear failures and lock (totp-enroll unlock).  now_step is the user's
 * current TOTP step (0: leave the steps alone).  If the last accepted step
 * ran ahead of it (ft_state_ran_ahead), it is kept as future_step (still
 * refused) and last_step moves back to now_step - 1 so current codes work;
 * *rewound says so. */
int ft_state_unlock(struct ft_state *st, const char *user, uint64_t now_step,
    bool *rewound, char *err, size_t errlen);

/* Remove the user's record entirely (totp-enroll reset). */
int ft_state_forget(
    struct ft_state *st, const char *user, char *err, size_t errlen);

/* "gdbm" or "redis": the backend that answered the last call. */
const char *ft_state_backend_name(const struct ft_state *st);

/* If the last call fell back from Redis to the local cache
 * (redis_fallback=local), a one-line warning the caller must log; else NULL.
 * Cleared by the next call. */
const char *ft_state_warning(const struct ft_state *st);

#endif
