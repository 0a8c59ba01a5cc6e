/* totp-enroll key init|status|rotate|encrypt-store: the store key that
 * seals the secrets of the root store (flowtotp(5) version 2).  Root only. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "keyrotate.h"
#include "keyseal.h"
#include "rc.h"

static const char *
presence(const char *path)
{
	struct stat sb;

	if (path[0] == '\0')
		return "not set";
	return lstat(path, &sb) == 0 ? "present" : "absent";
}

static int
key_init(struct cli_ctx *ctx)
{
	struct key_run r;
	const struct ft_config *c = &ctx->cfg;
	char err[CLI_ERRLEN];
	bool sealed = ctx->o.key_mode != CLI_KEY_PLAIN;
	int rc;

	if (cli_key_exists(c))
		return cli_err(CLI_EX_EXISTS,
		    "a store key exists already (%s, %s or %s): use '" CLI_PROG
		    " key rotate' to replace it",
		    c->store_key, c->store_key_fallback, c->store_key_cred);
	if (sealed && !cli_creds_available())
		return cli_err(CLI_EX_FAIL,
		    "systemd-creds is not installed: cannot seal the key; "
		    "'" CLI_PROG " key init --plain' keeps it in %s instead",
		    c->store_key_fallback);
	if (!sealed && c->store_key_fallback[0] == '\0')
		return cli_err(
		    CLI_EX_USAGE, "--plain needs store_key_fallback");
	key_run_init(&r);
	err[0] = '\0';
	(void)snprintf(r.kr.path, sizeof(r.kr.path), "%s",
	    sealed ? c->store_key : c->store_key_fallback);
	rc = ft_keyring_add_random(&r.kr);
	if (rc == FT_OK)
		rc = cli_keyring_save(c, &r.kr, sealed, err, sizeof(err));
	if (rc != FT_OK) {
		ft_keyring_wipe(&r.kr);
		return cli_err(
		    cli_exit_for(rc), "cannot create the store key: %s", err);
	}
	cli_log(ctx, "store key %s created (%s)", r.kr.k[0].id,
	    sealed ? "sealed" : "plain");
	if (sealed)
		(void)printf("Store key %s sealed in %s and unsealed to %s.\n"
			     "Enable flowtotp-key.service so that it is "
			     "unsealed at every boot.\n",
		    r.kr.k[0].id, c->store_key_cred, c->store_key);
	else
		(void)printf("Store key %s written to %s (root, 0600).\n",
		    r.kr.k[0].id, c->store_key_fallback);
	(void)printf("New enrolments are encrypted; '" CLI_PROG
		     " key encrypt-store' encrypts the existing ones.\n");
	ft_keyring_wipe(&r.kr);
	return CLI_EX_OK;
}

static void
print_census(const struct ft_keyring *kr, const struct key_census *cs)
{
	size_t i;

	for (i = 0; kr != NULL && i < kr->n; i++)
		(void)printf("key %s%s: %zu file(s)\n", kr->k[i].id,
		    i + 1U == kr->n ? " (current)" : "", cs->per_key[i]);
	(void)printf("plain: %zu file(s)\n", cs->plain);
	if (cs->unknown > 0)
		(void)printf("sealed with a key not in the key file: %zu "
			     "file(s)\n",
		    cs->unknown);
	if (cs->unreadable > 0)
		(void)printf("unreadable: %zu file(s)\n", cs->unreadable);
}

static int
key_status(struct cli_ctx *ctx)
{
	struct key_survey *sv = malloc(sizeof(*sv));
	const struct ft_config *c = &ctx->cfg;
	int rc;

	if (sv == NULL)
		return cli_err(CLI_EX_FAIL, "out of memory");
	(void)printf(
	    "unsealed key %s: %s\n", c->store_key, presence(c->store_key));
	(void)printf("plain key %s: %s\n",
	    c->store_key_fallback[0] != '\0' ? c->store_key_fallback : "-",
	    presence(c->store_key_fallback));
	(void)printf("sealed key %s: %s\n", c->store_key_cred,
	    presence(c->store_key_cred));
	rc = key_survey(ctx, sv);
	if (sv->load_rc == FT_OK)
		(void)printf("in use: %s\n", sv->kr.path);
	else
		(void)printf("in use: none (%s)\n", sv->err);
	if (rc == 0)
		print_census(sv->kr.n > 0 ? &sv->kr : NULL, &sv->census);
	key_survey_wipe(sv);
	free(sv);
	return rc;
}

/* rotate and encrypt-store: on the key logins read. */
static int
key_change(struct cli_ctx *ctx, const char *what)
{
	struct key_run r;
	char err[CLI_ERRLEN];
	int rc, ex;

	if (ft_config_secret_in_home(&ctx->cfg))
		return cli_err(CLI_EX_USAGE,
		    "secret=%s is in the home directories, whose secrets stay "
		    "plain: nothing to %s",
		    ctx->cfg.secret, what);
	key_run_init(&r);
	err[0] = '\0';
	rc = cli_keyring_load(&ctx->cfg, &r.kr, &r.sealed, err, sizeof(err));
	if (rc == FT_ERR_NOENT &&
	    cli_keyring_unseal(&ctx->cfg, &r.kr, err, sizeof(err)) == FT_OK) {
		r.sealed = true;
		(void)printf("Unsealed %s to %s.\n", ctx->cfg.store_key_cred,
		    ctx->cfg.store_key);
		rc = FT_OK;
	}
	if (rc != FT_OK)
		return cli_err(cli_exit_for(rc), "no usable store key: %s%s",
		    err,
		    rc == FT_ERR_NOENT ? " (run '" CLI_PROG " key init')" : "");
	if (strcmp(what, "rotate") == 0)
		ex = key_rotate(ctx, &r);
	else
		ex = key_encrypt_store(ctx, &r);
	ft_keyring_wipe(&r.kr);
	return ex;
}

int
cmd_key(struct cli_ctx *ctx, int argc, char **argv)
{
	int ex;

	if ((ex = cli_require_root(ctx, "key")) != CLI_EX_OK)
		return ex;
	if (argc != 1)
		return cli_err(CLI_EX_USAGE,
		    "key needs one of: init, status, rotate, encrypt-store");
	if (strcmp(argv[0], "init") != 0 &&
	    (ctx->o.seen & (CLI_O_SEALED | CLI_O_PLAIN)) != 0)
		return cli_err(
		    CLI_EX_USAGE, "--sealed/--plain go with key init");
	if ((ctx->o.seen & CLI_O_SEALED) && (ctx->o.seen & CLI_O_PLAIN))
		return cli_err(CLI_EX_USAGE, "--sealed or --plain, not both");
	if (strcmp(argv[0], "init") == 0)
		return key_init(ctx);
	if (strcmp(argv[0], "status") == 0)
		return key_status(ctx);
	if (strcmp(argv[0], "rotate") == 0 ||
	    strcmp(argv[0], "encrypt-store") == 0)
		return key_change(ctx, argv[0]);
	return cli_err(CLI_EX_USAGE, "unknown key command '%s'", argv[0]);
}
