/* The lockout policy the state tests (tests/pam/test_state.c,
 * tests/redis/redis_backend.c) check both backends against: deny,
 * unlock_time and fail_interval as the case says, 300 s steps, window 1.
 * Header-only, as tap.h: each program includes it once. */
#ifndef FLOWTOTP_TESTS_LIB_STATEPOLICY_H
#define FLOWTOTP_TESTS_LIB_STATEPOLICY_H

#include <string.h>

#include "state_policy.h"

#define TU_POLICY_PERIOD 300U
#define TU_POLICY_WINDOW 1U

__attribute__((unused)) static void
policy(struct ft_state_policy *p, unsigned deny, unsigned unlock,
    unsigned interval)
{
	memset(p, 0, sizeof(*p));
	p->deny = deny;
	p->unlock_time = unlock;
	p->fail_interval = interval;
	p->period = TU_POLICY_PERIOD;
	p->window = TU_POLICY_WINDOW;
}

#endif
