/* Internal: the interface each state backend implements.  state.c owns the
 * dispatch, the Redis-to-local fallback and the policy; a backend only
 * stores and atomically updates ft_user_state records.  Not used outside
 * common/. */
#ifndef FLOWTOTP_STATE_BACKEND_H
#define FLOWTOTP_STATE_BACKEND_H

#include "state.h"

/* The policy every backend applies inside its atomic section. */
struct ft_state_policy {
	unsigned deny;		/* 0 = lockout disabled */
	unsigned unlock_time;	/* 0 = until an admin unlocks */
	unsigned fail_interval; /* seconds */
	unsigned period;	/* longest TOTP period in use, for TTLs */
	unsigned window;	/* steps either side, for TTLs */
};

struct ft_state_backend_ops {
	const char *name;
	/* Each returns FT_OK or a negative ft_rc with err set. */
	int (*begin_attempt)(void *impl, const struct ft_state_policy *pol,
	    const char *user, time_t now, enum ft_state_verdict *verdict,
	    char *err, size_t errlen);
	int (*record_success)(void *impl, const struct ft_state_policy *pol,
	    const char *user, uint64_t step, time_t now,
	    enum ft_state_verdict *verdict, char *err, size_t errlen);
	/* ft_state_attempt in one atomic section; NULL: state.c makes it of
	 * begin_attempt and record_success. */
	int (*attempt)(void *impl, const struct ft_state_policy *pol,
	    const char *user, time_t now, ft_state_check_fn check, void *arg,
	    enum ft_state_verdict *verdict, uint64_t *step, char *err,
	    size_t errlen);
	int (*get)(void *impl, const char *user, struct ft_user_state *out,
	    char *err, size_t errlen);
	int (*unlock)(void *impl, const char *user, char *err, size_t errlen);
	int (*forget)(void *impl, const char *user, char *err, size_t errlen);
	void (*close)(void *impl);
};

/* Backend constructors: set *ops and *impl on FT_OK.  With probe, the gdbm
 * file is opened (created, checked, set aside if damaged) at once; without,
 * by the first operation. */
int ft_state_gdbm_open(const char *path, bool probe,
    const struct ft_state_backend_ops **ops, void **impl, char *err,
    size_t errlen);
int ft_state_redis_open(const struct ft_config *c,
    const struct ft_state_backend_ops **ops, void **impl, char *err,
    size_t errlen);

/* Pure policy helpers shared by backends that hold the whole record
 * (gdbm); Redis implements the same rules in its Lua script. */
void ft_state_apply_begin(const struct ft_state_policy *pol, time_t now,
    struct ft_user_state *s, enum ft_state_verdict *verdict);
void ft_state_apply_success(uint64_t step, time_t now, struct ft_user_state *s,
    enum ft_state_verdict *verdict);

#endif
