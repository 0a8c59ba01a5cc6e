/* Re-sealing the root store.  A rotation is resumable after a crash at any
 * point: the new key is in the key file before any secret uses it, each
 * secret is rewritten atomically under its lock, and an old key leaves the
 * key file only when no file uses it any more; until then both open.  Run
 * again, `key rotate` sees more than one key and finishes the job with the
 * newest. */
#include <config.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyrotate.h"
#include "keyseal.h"
#include "rc.h"
#include "secretseal.h"
#include "secretstore.h"

#define DECIMAL 10

void
key_run_init(struct key_run *r)
{
	memset(r, 0, sizeof(*r));
#ifdef FT_HELPER_TEST
	{
		const char *v = getenv("FT_TEST_KEY_KILL_AFTER");

		if (v != NULL)
			r->kill_after = (unsigned)strtoul(v, NULL, DECIMAL);
	}
#endif
}

void
key_run_wrote(struct key_run *r)
{
	r->writes++;
	if (r->kill_after != 0 && r->writes >= r->kill_after)
		(void)raise(SIGKILL);
}

struct census_job {
	struct key_census *c;
	const struct ft_keyring *kr;
};

/* One user's file as it is on disk (not opened). */
static int
census_one(struct cli_ctx *ctx, const struct cli_target *t, void *arg)
{
	const struct census_job *j = arg;
	struct key_census *c = j->c;
	const struct ft_keyring *kr = j->kr;
	const struct ft_store_key *k;
	struct ft_secret s;
	char err[CLI_ERRLEN];

	(void)ctx;
	if (ft_secret_load(t->path, &t->pol, &s, err, sizeof(err)) != FT_OK)
		c->unreadable++;
	else if (!s.sealed)
		c->plain++;
	else if (kr != NULL && (k = ft_keyring_find(kr, s.key_id)) != NULL)
		c->per_key[k - kr->k]++;
	else
		c->unknown++;
	ft_secret_wipe(&s);
	return 0;
}

int
key_census(
    struct cli_ctx *ctx, const struct ft_keyring *kr, struct key_census *c)
{
	struct census_job j;

	memset(c, 0, sizeof(*c));
	j.c = c;
	j.kr = kr;
	return cli_foreach_enrolled(ctx, census_one, &j);
}

int
key_survey(struct cli_ctx *ctx, struct key_survey *s)
{
	memset(s, 0, sizeof(*s));
	s->load_rc = cli_keyring_load(
	    &ctx->cfg, &s->kr, &s->sealed, s->err, sizeof(s->err));
	if (s->load_rc != FT_OK)
		ft_keyring_wipe(&s->kr);
	return key_census(ctx, s->load_rc == FT_OK ? &s->kr : NULL, &s->census);
}

void
key_survey_wipe(struct key_survey *s)
{
	ft_keyring_wipe(&s->kr);
}

/* The edit of one file: seal it under `to` (opening it first with the key
 * it names), unless it already is; plain files only when `plain` says. */
struct reseal {
	struct key_run *run;
	const char *user;
	bool plain;
	bool asked;
};

static int
reseal_edit(struct ft_secret *s, void *arg, char *err, size_t errlen)
{
	struct reseal *rs = arg;
	const struct ft_store_key *to = ft_keyring_current(&rs->run->kr);
	int rc;

	if (s->sealed ? strcmp(s->key_id, to->id) == 0 : !rs->plain)
		return FT_SECRET_KEEP;
	if ((rc = ft_secret_unseal(s, rs->user, &rs->run->kr, err, errlen)) !=
		FT_OK ||
	    (rc = ft_secret_seal(s, rs->user, to, err, errlen)) != FT_OK)
		return rc;
	rs->asked = true;
	return FT_SECRET_WRITE;
}

static int
reseal_one(struct cli_ctx *ctx, const struct cli_target *t, void *arg)
{
	struct key_run *run = arg;
	struct reseal rs = {run, t->name, run->plain_too, false};
	char err[CLI_ERRLEN];
	int rc;

	(void)ctx;
	err[0] = '\0';
	rc = cli_secret_edit(t, reseal_edit, &rs, err, sizeof(err));
	if (rc != FT_OK) {
		cli_warn("%s: left as it is: %s", t->name, err);
		return 0; /* the others still move; status shows who not */
	}
	if (rs.asked)
		key_run_wrote(run);
	return 0;
}

/* Keys no file uses any more leave the key file (never the current one). */
static int
drop_unused(struct cli_ctx *ctx, struct key_run *r, size_t *left)
{
	struct key_census c;
	char err[CLI_ERRLEN];
	size_t i, n = r->kr.n;
	int rc;

	if (key_census(ctx, &r->kr, &c) != 0)
		return CLI_EX_FAIL;
	*left = c.unknown + c.unreadable;
	for (i = n - 1U; i-- > 0;) {
		if (c.per_key[i] > 0) {
			*left += c.per_key[i];
			continue;
		}
		(void)ft_keyring_remove(&r->kr, r->kr.k[i].id);
	}
	if (r->kr.n == n)
		return CLI_EX_OK;
	err[0] = '\0';
	if ((rc = cli_keyring_save(
		 &ctx->cfg, &r->kr, r->sealed, err, sizeof(err))) != FT_OK)
		return cli_err(
		    cli_exit_for(rc), "cannot write the key file: %s", err);
	key_run_wrote(r);
	return CLI_EX_OK;
}

int
key_rotate(struct cli_ctx *ctx, struct key_run *r)
{
	char err[CLI_ERRLEN];
	size_t left = 0;
	int rc, ex;

	err[0] = '\0';
	if (r->kr.n > 1U) {
		(void)printf("Resuming the rotation to key %s.\n",
		    ft_keyring_current(&r->kr)->id);
	} else {
		if ((rc = ft_keyring_add_random(&r->kr)) == FT_OK)
			rc = cli_keyring_save(
			    &ctx->cfg, &r->kr, r->sealed, err, sizeof(err));
		if (rc != FT_OK)
			return cli_err(cli_exit_for(rc),
			    "cannot add the new key: %s", err);
		key_run_wrote(r);
		(void)printf("New key %s added to %s.\n",
		    ft_keyring_current(&r->kr)->id, r->kr.path);
		if (!r->sealed && strcmp(r->kr.path, ctx->cfg.store_key) == 0)
			cli_warn("%s has no sealed copy (%s): the new key "
				 "lives only there until you save it",
			    r->kr.path, ctx->cfg.store_key_cred);
	}
	if ((ex = cli_foreach_enrolled(ctx, reseal_one, r)) != 0)
		return ex;
	if ((ex = drop_unused(ctx, r, &left)) != CLI_EX_OK)
		return ex;
	cli_log(ctx, "store key rotated to %s", ft_keyring_current(&r->kr)->id);
	if (left > 0)
		return cli_err(CLI_EX_FAIL,
		    "%zu file(s) still use an old key or cannot be read (see "
		    "above); the old key stays until they are fixed: run "
		    "'" CLI_PROG " key rotate' again",
		    left);
	(void)printf("Every file is sealed with key %s; old keys removed.\n",
	    ft_keyring_current(&r->kr)->id);
	return CLI_EX_OK;
}

int
key_encrypt_store(struct cli_ctx *ctx, struct key_run *r)
{
	struct key_census c;
	int ex;

	r->plain_too = true;
	if ((ex = cli_foreach_enrolled(ctx, reseal_one, r)) != 0)
		return ex;
	if (key_census(ctx, &r->kr, &c) != 0)
		return CLI_EX_FAIL;
	cli_log(ctx, "root store encrypted with key %s",
	    ft_keyring_current(&r->kr)->id);
	if (c.plain + c.unreadable + c.unknown > 0)
		return cli_err(CLI_EX_FAIL,
		    "%zu file(s) are still plain or cannot be read (see above)",
		    c.plain + c.unreadable + c.unknown);
	(void)printf("Every file of the store is sealed with key %s.\n",
	    ft_keyring_current(&r->kr)->id);
	return CLI_EX_OK;
}
