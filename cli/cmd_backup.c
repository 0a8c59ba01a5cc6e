/* totp-enroll backup-codes [USER]: a fresh set of backup codes; the old ones
 * stop working.  Self-service asks for a current code first.  The codes
 * are hashed before the file is locked (hashing is deliberately slow), then
 * swapped in with a locked read-modify-write so a login using an old code
 * at the same moment sees either the old file or the new one. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "cli.h"
#include "rc.h"
#include "wipe.h"

struct newcodes {
	size_t n;
	char shown[FT_BACKUP_MAX][FT_BACKUP_SHOWN_BUFSZ];
	char hash[FT_BACKUP_MAX][FT_BACKUP_HASH_BUFSZ];
};

/* The edit made under the file's lock: the new hashes replace the old. */
static int
swap_codes(struct ft_secret *s, void *arg, char *err, size_t errlen)
{
	const struct newcodes *nc = arg;
	size_t i;

	ft_wipe(s->backup, sizeof(s->backup));
	for (i = 0; i < nc->n; i++)
		memcpy(s->backup[i], nc->hash[i], sizeof(s->backup[i]));
	s->nbackup = nc->n;
	(void)err;
	(void)errlen;
	return FT_SECRET_WRITE;
}

static void
print_codes(const struct cli_ctx *ctx, const struct cli_target *t,
    const struct newcodes *nc)
{
	size_t i;

	if (ctx->o.json) {
		(void)printf("{\"user\":");
		cli_json_str(stdout, t->name);
		(void)printf(",\"backup_codes\":[");
		for (i = 0; i < nc->n; i++)
			(void)printf(
			    "%s\"%s\"", i > 0 ? "," : "", nc->shown[i]);
		(void)printf("]}\n");
		return;
	}
	(void)printf("New backup codes for %s (the old ones no longer work).\n"
		     "Each works once; they are shown only now.\n\n",
	    t->name);
	for (i = 0; i < nc->n; i++)
		(void)printf("  %s\n", nc->shown[i]);
}

static int
renew(struct cli_ctx *ctx, const struct cli_target *t, struct newcodes *nc)
{
	char err[CLI_ERRLEN];
	int ex, rc;

	if ((ex = cli_make_backup_codes(ctx->cfg.backup_codes, nc->shown,
		 nc->hash, &nc->n)) != CLI_EX_OK)
		return ex;
	err[0] = '\0';
	rc = cli_secret_edit(t, swap_codes, nc, err, sizeof(err));
	if (rc == FT_ERR_NOENT)
		return cli_err(
		    CLI_EX_NOTENROLLED, "%s is not enrolled", t->name);
	if (rc != FT_OK)
		return cli_err(
		    cli_exit_for(rc) == CLI_EX_PERM ? CLI_EX_PERM : CLI_EX_FAIL,
		    "backup codes not changed: %s", err);
	cli_log(ctx, "new backup codes for %s", t->name);
	print_codes(ctx, t, nc);
	return CLI_EX_OK;
}

int
cmd_backup(struct cli_ctx *ctx, int argc, char **argv)
{
	struct newcodes *nc;
	struct cli_target t;
	const char *name;
	int ex;

	if ((ex = cli_one_user(ctx, argc, argv, "backup-codes", &name)) !=
		CLI_EX_OK ||
	    (ex = cli_target(ctx, name, &t)) != CLI_EX_OK ||
	    (ex = cli_store_writable(ctx, &t)) != CLI_EX_OK ||
	    (ex = cli_prove(ctx, &t)) != CLI_EX_OK)
		return ex;
	nc = calloc(1, sizeof(*nc));
	if (nc == NULL)
		return cli_err(CLI_EX_FAIL, "out of memory");
	ex = renew(ctx, &t, nc);
	ft_wipe(nc, sizeof(*nc));
	free(nc);
	return ex;
}
