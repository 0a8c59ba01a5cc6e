/* Rollout policy: who must give a code (require=, exempt=, nullok), decided
 * from the user's groups as the user database reports them (getgrouplist,
 * so LDAP/SSSD supplementary groups count).  One job: turn a config and a
 * user into a verdict with its reason; the module and totp-enroll status
 * share it, so what status shows is what a login does. */
#ifndef FLOWTOTP_POLICY_H
#define FLOWTOTP_POLICY_H

#include <pwd.h>
#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

/* Room for a fixed text around a config value or an error line. */
#define FT_POLICY_WHY_MAX (2U * FT_CONF_STR_MAX)

struct ft_policy {
	bool required;	    /* an unenrolled user is denied (after any grace) */
	bool exempt;	    /* never asked: PAM_IGNORE */
	bool lookup_failed; /* groups unknown: required, not exempt */
	char why[FT_POLICY_WHY_MAX]; /* one line for the log and status */
};

/* Check the syntax of a require= value ("all", "none" or
 * "group:NAME[,group:NAME...]") or, with allow_words false, of an exempt=
 * value ("" or a group list). */
int ft_policy_check_list(
    const char *value, bool allow_words, char *err, size_t errlen);

/* The verdict for pw (NULL: an unknown user, looked up under name so that
 * every login does the same group work; the verdict is then "required").
 * Fails closed: any lookup error or a configured group that does not exist
 * makes the user required and not exempt, lookup_failed set and why saying
 * what failed.  Never fails otherwise. */
void ft_policy_eval(const struct ft_config *c, const char *name,
    const struct passwd *pw, struct ft_policy *out);

#endif
