/* totp-enroll rename OLD NEW: after `usermod -l NEW OLD`, move OLD's
 * secret file of the root store to NEW's name, re-sealed for NEW (the user
 * name is bound into a version-2 secret, so the file does not open under
 * another name).  Root only.  The replay and lockout records keep the old
 * name: the new one starts without any (pam_flowtotp(8)). */
#include <config.h>

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "rc.h"
#include "secretseal.h"
#include "secretstore.h"

#define ROOT_ID 0

struct rename_job {
	const char *old_name;
	const struct cli_target *to;
	bool written;
};

/* Under OLD's lock: open for OLD, seal for NEW, write NEW's file. */
static int
move_edit(struct ft_secret *s, void *arg, char *err, size_t errlen)
{
	struct rename_job *j = arg;
	const struct ft_config *c = j->to->cfg;
	struct ft_keyring kr;
	int rc = FT_OK;

	memset(&kr, 0, sizeof(kr));
	if (s->sealed) {
		rc = ft_secret_keyring(
		    c->store_key, c->store_key_fallback, &kr, err, errlen);
		if (rc == FT_OK)
			rc = ft_secret_unseal(s, j->old_name, &kr, err, errlen);
		if (rc == FT_OK)
			rc = ft_secret_seal(s, j->to->name,
			    ft_keyring_current(&kr), err, errlen);
	}
	if (rc == FT_OK)
		rc = ft_secret_store(
		    j->to->path, s, ROOT_ID, ROOT_ID, err, errlen);
	ft_keyring_wipe(&kr);
	if (rc != FT_OK)
		return rc;
	j->written = true;
	return FT_SECRET_KEEP; /* OLD's file goes next, as a whole */
}

/* OLD's target: NEW's account under the old name. */
static int
old_target(struct cli_ctx *ctx, const char *old, const struct cli_target *to,
    struct cli_target *from)
{
	struct passwd pw;
	char err[CLI_ERRLEN];
	int rc;

	memcpy(from, to, sizeof(*from));
	if (snprintf(from->name, sizeof(from->name), "%s", old) >=
	    (int)sizeof(from->name))
		return cli_err(CLI_EX_USAGE, "user name too long");
	memset(&pw, 0, sizeof(pw));
	pw.pw_name = from->name;
	pw.pw_dir = from->home;
	pw.pw_uid = to->uid;
	pw.pw_gid = to->gid;
	err[0] = '\0';
	rc = ft_config_secret_path(
	    &ctx->cfg, &pw, from->path, sizeof(from->path), err, sizeof(err));
	if (rc != FT_OK)
		return cli_err(
		    CLI_EX_USAGE, "secret path for %s: %s", old, err);
	return CLI_EX_OK;
}

static int
check_rename(struct cli_ctx *ctx, const char *old, const struct cli_target *to,
    const struct cli_target *from)
{
	struct stat sb;

	if (ft_config_secret_in_home(&ctx->cfg))
		return cli_err(CLI_EX_USAGE,
		    "secret=%s is in the home directory: the file stays where "
		    "it is, nothing to rename",
		    ctx->cfg.secret);
	// cppcheck-suppress getpwnamCalled
	if (getpwnam(old) != NULL)
		return cli_err(CLI_EX_USAGE,
		    "%s is still in the user database: rename the account "
		    "first (usermod -l %s %s)",
		    old, to->name, old);
	if (strcmp(from->path, to->path) == 0)
		return cli_err(CLI_EX_USAGE,
		    "secret=%s does not use the user name: nothing to rename",
		    ctx->cfg.secret);
	if (lstat(to->path, &sb) == 0 || errno != ENOENT)
		return cli_err(CLI_EX_EXISTS,
		    "%s exists already: '" CLI_PROG " reset %s' first if it "
		    "is stale",
		    to->path, to->name);
	return CLI_EX_OK;
}

int
cmd_rename(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_target to, from;
	struct rename_job j = {NULL, &to, false};
	char err[CLI_ERRLEN];
	int ex, rc;

	if ((ex = cli_require_root(ctx, "rename")) != CLI_EX_OK)
		return ex;
	if (argc != 2)
		return cli_err(CLI_EX_USAGE, "rename needs OLD and NEW names");
	if ((ex = cli_target(ctx, argv[1], &to)) != CLI_EX_OK ||
	    (ex = old_target(ctx, argv[0], &to, &from)) != CLI_EX_OK ||
	    (ex = check_rename(ctx, argv[0], &to, &from)) != CLI_EX_OK)
		return ex;
	j.old_name = from.name;
	err[0] = '\0';
	rc = cli_secret_edit(&from, move_edit, &j, err, sizeof(err));
	if (rc == FT_ERR_NOENT)
		return cli_err(CLI_EX_NOTENROLLED, "%s has no secret file (%s)",
		    from.name, from.path);
	if (rc == FT_OK && j.written)
		rc = cli_secret_remove(&from, err, sizeof(err));
	if (rc != FT_OK)
		return cli_err(cli_exit_for(rc), "cannot rename %s to %s: %s",
		    from.name, to.name, err);
	cli_log(ctx, "renamed the enrolment of %s to %s", from.name, to.name);
	(void)printf("Moved the enrolment of %s to %s (%s).\n", from.name,
	    to.name, to.path);
	return CLI_EX_OK;
}
