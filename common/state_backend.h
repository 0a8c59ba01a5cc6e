/* Internal: the interface each state backend implements.  state.c owns the
 * dispatch and the Redis-to-local fallback; state_policy.c owns the rules; a
 * backend stores and atomically updates ft_user_state records.  Not used
 * outside common/ (and its tests).
 *
 * Calls go one way: state.c -> a backend -> state_policy.c.  A backend
 * never calls back into state.c. */
#ifndef FLOWTOTP_STATE_BACKEND_H
#define FLOWTOTP_STATE_BACKEND_H

#include "state.h"
#include "state_policy.h"

enum ft_state_op_kind {
	FT_OP_PROBE,   /* open the store once (create, check, set aside) */
	FT_OP_BEGIN,   /* step 1 of a login */
	FT_OP_ATTEMPT, /* steps 1 to 3 of a TOTP login */
	FT_OP_SUCCESS, /* step 3 */
	FT_OP_GET,
	FT_OP_UNLOCK,
	FT_OP_FORGET,
	FT_OP_MIRROR, /* gdbm: take in what Redis answered (state, step) */
	/* remember=: records of their own, next to the user's */
	FT_OP_REMEMBER_CHECK,
	FT_OP_REMEMBER_SET,
	FT_OP_REMEMBER_CLEAR,
	FT_OP_DELIVER, /* a delivered code (op->deliver) */
};

/* One operation: what the backend needs in, what it answers out.  Built
 * once by state.c and handed down unchanged, so no layer repacks it. */
struct ft_state_op {
	enum ft_state_op_kind kind;
	const struct ft_state_policy *pol;
	const char *user;
	time_t now;
	ft_state_check_fn check; /* FT_OP_ATTEMPT */
	void *check_arg;
	uint64_t step; /* in for FT_OP_SUCCESS, out for FT_OP_ATTEMPT */
	enum ft_state_verdict verdict; /* out: BEGIN, ATTEMPT, SUCCESS */
	/* out: GET; ATTEMPT, SUCCESS, BEGIN if known; in: MIRROR */
	struct ft_user_state state;
	bool known;	   /* state was set by ATTEMPT, SUCCESS, BEGIN */
	bool no_record;	   /* FT_STATE_NO_RECORD: never create a record */
	uint64_t now_step; /* in: UNLOCK (0: steps left alone) */
	bool rewound;	   /* out: UNLOCK moved a step from the future */
	/* REMEMBER_CHECK and _SET: the origin's digest
	 * (FT_REMEMBER_DIGEST_LEN bytes); SET: until when; CHECK: out. */
	const uint8_t *digest;
	int64_t until;
	bool remembered;
	struct ft_state_deliver *deliver; /* FT_OP_DELIVER: in and out */
};

struct ft_state_backend_ops {
	const char *name;
	/* FT_OK or a negative ft_rc with err set.  Fails closed: on any
	 * error op->verdict is left at what state.c preset (locked or
	 * replay). */
	int (*run)(
	    void *impl, struct ft_state_op *op, char *err, size_t errlen);
	void (*close)(void *impl);
	/* A one-line warning of the last run the caller must log (the
	 * backend repaired something on its own), or NULL; may be NULL. */
	const char *(*warning)(const void *impl);
};

/* Backend constructors: set *ops and *impl on FT_OK.  flags as for
 * ft_state_open (FT_STATE_LAZY, FT_STATE_NO_CREATE). */
int ft_state_gdbm_open(const char *path, unsigned flags,
    const struct ft_state_backend_ops **ops, void **impl, char *err,
    size_t errlen);
int ft_state_redis_open(const struct ft_config *c,
    const struct ft_state_backend_ops **ops, void **impl, char *err,
    size_t errlen);

#endif
