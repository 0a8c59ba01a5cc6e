/* Acting with a user's privileges on files in their home.
 *
 * Root must not create or rename files in a directory the user controls
 * (pam_oath's CVE-2024-47191: a symlink there turned a root write into an
 * overwrite of /etc/shadow).  So when root works on a secret in a home, it
 * switches its effective ids (and groups) to the user's for the file I/O
 * and back afterwards; the files end up owned by the user naturally. */
#include <config.h>

#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "rc.h"

static bool
must_drop(const struct cli_target *t)
{
	return t->in_home && geteuid() == 0 && t->uid != 0;
}

int
cli_priv_enter(
    const struct cli_target *t, struct cli_priv *p, char *err, size_t errlen)
{
	int n;

	p->dropped = false;
	p->groups = NULL;
	p->ngroups = 0;
	if (!must_drop(t))
		return FT_OK;
	p->euid = geteuid();
	p->egid = getegid();
	n = getgroups(0, NULL);
	if (n < 0)
		return ft_seterr(err, errlen, FT_ERR_PERM, "getgroups failed");
	p->groups = calloc((size_t)n + 1, sizeof(gid_t));
	if (p->groups == NULL)
		return ft_seterr(err, errlen, FT_ERR_NOMEM, "out of memory");
	p->ngroups = getgroups(n, p->groups);
	if (p->ngroups < 0)
		goto fail;
	/* Groups first, then gid, then uid: each step needs root. */
	if (initgroups(t->name, t->gid) != 0 || setegid(t->gid) != 0 ||
	    seteuid(t->uid) != 0) {
		p->dropped = true;
		cli_priv_leave(p);
		goto fail;
	}
	p->dropped = true;
	return FT_OK;
fail:
	free(p->groups);
	p->groups = NULL;
	return ft_seterr(err, errlen, FT_ERR_PERM,
	    "cannot switch to the privileges of %s", t->name);
}

void
cli_priv_leave(struct cli_priv *p)
{
	if (p->dropped) {
		if (seteuid(p->euid) != 0 || setegid(p->egid) != 0 ||
		    setgroups((size_t)p->ngroups, p->groups) != 0) {
			/* Going on with the wrong ids would be worse. */
			(void)fputs(
			    CLI_PROG ": cannot regain privileges\n", stderr);
			abort();
		}
		p->dropped = false;
	}
	free(p->groups);
	p->groups = NULL;
}
