/* The target's secret file: read, write, edit and remove it with the right
 * privileges, the right owner, and atomically.
 *
 * Ownership: in the system store a secret is root's (0600), so processes
 * running as the user cannot read it; in a home it is the user's (0600),
 * written with the user's privileges (see priv.c). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "rc.h"
#include "secretstore.h"

#define STORE_DIR_MODE 0700
#define STORE_PARENT_MODE 0755
#define ROOT_UID ((uid_t)0)
#define ROOT_GID ((gid_t)0)
#define KEEP_UID ((uid_t)-1)
#define KEEP_GID ((gid_t)-1)

/* Signals that would interrupt a write half way: held off while writing,
 * so Ctrl-C lands before or after, never in between. */
static void
hold_signals(sigset_t *old)
{
	sigset_t set;

	(void)sigemptyset(&set);
	(void)sigaddset(&set, SIGINT);
	(void)sigaddset(&set, SIGTERM);
	(void)sigaddset(&set, SIGHUP);
	(void)sigaddset(&set, SIGQUIT);
	(void)sigaddset(&set, SIGTSTP);
	(void)sigprocmask(SIG_BLOCK, &set, old);
}

static void
release_signals(const sigset_t *old)
{
	(void)sigprocmask(SIG_SETMASK, old, NULL);
}

static int
dir_of(const char *path, char *dir, size_t len)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return FT_ERR_ARG;
	if (snprintf(dir, len, "%s", dirname(tmp)) >= (int)len)
		return FT_ERR_ARG;
	return FT_OK;
}

int
cli_secret_load(
    const struct cli_target *t, struct ft_secret *s, char *err, size_t errlen)
{
	struct cli_priv p;
	int rc;

	if ((rc = cli_priv_enter(t, &p, err, errlen)) != FT_OK)
		return rc;
	rc = ft_secret_load(t->path, &t->pol, s, err, errlen);
	cli_priv_leave(&p);
	if (rc == FT_OK)
		rc = cli_unseal(t, s, err, errlen);
	return rc;
}

int
cli_store_writable(const struct cli_ctx *ctx, const struct cli_target *t)
{
	char dir[PATH_MAX];
	struct stat sb;

	if (ctx->root || ctx->helper || t->in_home)
		return CLI_EX_OK;
	/* A store directory of the caller's own (e.g. secret=/srv/me/%u)
	 * is theirs to write. */
	if (dir_of(t->path, dir, sizeof(dir)) == FT_OK &&
	    lstat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    sb.st_uid == ctx->uid)
		return CLI_EX_OK;
	return cli_err(CLI_EX_PERM,
	    "secrets are kept in the system store %s, which only root may "
	    "change: without --config and --option, " CLI_PROG
	    " does this through flowtotp-helper; else ask an administrator "
	    "to run '" CLI_PROG " --user %s' (a new enrolment) or '" CLI_PROG
	    " import --user %s FILE' (to keep a google-authenticator secret)",
	    dir_of(t->path, dir, sizeof(dir)) == FT_OK ? dir : t->path, t->name,
	    t->name);
}

/* In a home, every missing directory between the home and the store
 * directory, 0700, with the caller's (the user's) ids: a template such as
 * ~/.config/flowtotp/secret works for a user without ~/.config. */
static int
ensure_home_dirs(
    const struct cli_target *t, const char *dir, char *err, size_t errlen)
{
	char part[PATH_MAX];
	size_t n = strlen(t->home), len = strlen(dir);
	struct stat sb;
	int rc;

	while (n > 1 && t->home[n - 1] == '/')
		n--;
	if (len >= sizeof(part) || strncmp(dir, t->home, n) != 0 ||
	    dir[n] != '/')
		return ft_ensure_dir(
		    dir, STORE_DIR_MODE, geteuid(), getegid(), err, errlen);
	for (; n <= len; n++) {
		if (dir[n] != '/' && dir[n] != '\0')
			continue;
		memcpy(part, dir, n);
		part[n] = '\0';
		if (lstat(part, &sb) == 0) {
			if (!S_ISDIR(sb.st_mode))
				return ft_seterr(err, errlen, FT_ERR_UNSAFE,
				    "%s is not a directory", part);
			continue;
		}
		if (errno != ENOENT)
			return ft_seterr(err, errlen,
			    errno == EACCES ? FT_ERR_PERM : FT_ERR_IO, "%s: %s",
			    part, strerror(errno));
		rc = ft_ensure_dir(
		    part, STORE_DIR_MODE, geteuid(), getegid(), err, errlen);
		if (rc != FT_OK)
			return rc;
	}
	return FT_OK;
}

/* Create the store directory if it is missing: in a home every missing
 * level (as the user), in the system store the directory (0700) and its parent
 * (0755), both root's. */
static int
ensure_store_dir(const struct cli_target *t, char *err, size_t errlen)
{
	char dir[PATH_MAX], parent[PATH_MAX];
	struct stat sb;
	int rc;

	if (dir_of(t->path, dir, sizeof(dir)) != FT_OK ||
	    dir_of(dir, parent, sizeof(parent)) != FT_OK)
		return ft_seterr(
		    err, errlen, FT_ERR_ARG, "path too long: %s", t->path);
	if (lstat(dir, &sb) == 0)
		return S_ISDIR(sb.st_mode)
		    ? FT_OK
		    : ft_seterr(err, errlen, FT_ERR_UNSAFE,
			  "%s is not a directory", dir);
	if (errno != ENOENT)
		return ft_seterr(err, errlen,
		    errno == EACCES ? FT_ERR_PERM : FT_ERR_IO, "%s: %s", dir,
		    strerror(errno));
	if (t->in_home)
		return ensure_home_dirs(t, dir, err, errlen);
	if (geteuid() != 0)
		return ft_ensure_dir(
		    dir, STORE_DIR_MODE, geteuid(), getegid(), err, errlen);
	if (lstat(parent, &sb) != 0 && errno == ENOENT &&
	    (rc = ft_ensure_dir(parent, STORE_PARENT_MODE, ROOT_UID, ROOT_GID,
		 err, errlen)) != FT_OK)
		return rc;
	return ft_ensure_dir(
	    dir, STORE_DIR_MODE, ROOT_UID, ROOT_GID, err, errlen);
}

int
cli_secret_prepare(const struct cli_ctx *ctx, const struct cli_target *t)
{
	char err[CLI_ERRLEN], dir[PATH_MAX];
	struct cli_priv p;
	sigset_t old;
	int rc;

	(void)ctx;
	err[0] = '\0';
	if (dir_of(t->path, dir, sizeof(dir)) != FT_OK)
		return cli_err(CLI_EX_USAGE, "path too long: %s", t->path);
	if ((rc = cli_priv_enter(t, &p, err, sizeof(err))) != FT_OK)
		return cli_err(CLI_EX_PERM, "%s", err);
	hold_signals(&old);
	rc = ensure_store_dir(t, err, sizeof(err));
	/* With the ids the write will have: a read-only or foreign
	 * directory is found now, not after the QR code was scanned. */
	if (rc == FT_OK &&
	    faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) != 0)
		rc = ft_seterr(err, sizeof(err),
		    errno == EACCES || errno == EPERM ? FT_ERR_PERM : FT_ERR_IO,
		    "%s: %s", dir, strerror(errno));
	release_signals(&old);
	cli_priv_leave(&p);
	if (rc != FT_OK)
		return cli_err(
		    cli_exit_for(rc) == CLI_EX_PERM ? CLI_EX_PERM : CLI_EX_FAIL,
		    "nothing shown, nothing saved: the enrolment could not "
		    "be saved: %s",
		    err);
	return CLI_EX_OK;
}

int
cli_secret_save(const struct cli_ctx *ctx, const struct cli_target *t,
    const struct ft_secret *s, char *err, size_t errlen)
{
	struct cli_priv p;
	struct ft_secret *w;
	sigset_t old;
	bool system_root = (ctx->root || ctx->helper) && !t->in_home;
	int rc;

	/* A copy to seal (encrypt=), so the caller's stays as it was. */
	if ((w = malloc(sizeof(*w))) == NULL)
		return ft_seterr(err, errlen, FT_ERR_NOMEM, "out of memory");
	memcpy(w, s, sizeof(*w));
	if ((rc = cli_seal_for_save(t, w, err, errlen)) != FT_OK ||
	    (rc = cli_priv_enter(t, &p, err, errlen)) != FT_OK)
		goto out;
	hold_signals(&old);
	rc = ensure_store_dir(t, err, errlen);
	if (rc == FT_OK)
		rc = ft_secret_store(t->path, w,
		    system_root ? ROOT_UID : KEEP_UID,
		    system_root ? ROOT_GID : KEEP_GID, err, errlen);
	release_signals(&old);
	cli_priv_leave(&p);
out:
	ft_secret_wipe(w);
	free(w);
	return rc;
}

/* The lock, the owner/mode rule and the wiping are ft_secret_edit's, the
 * same edit a login makes when it uses a backup code; what the CLI adds is
 * the user's privileges and the held signals (the whole edit, lock wait
 * included: that wait is bounded by ft_safe_read_locked). */
int
cli_secret_edit(const struct cli_target *t, ft_secret_edit_fn fn, void *arg,
    char *err, size_t errlen)
{
	struct cli_priv p;
	sigset_t old;
	int rc;

	if ((rc = cli_priv_enter(t, &p, err, errlen)) != FT_OK)
		return rc;
	hold_signals(&old);
	rc = ft_secret_edit(t->path, &t->pol, fn, arg, err, errlen);
	release_signals(&old);
	cli_priv_leave(&p);
	return rc < 0 ? rc : FT_OK;
}

int
cli_secret_remove(const struct cli_target *t, char *err, size_t errlen)
{
	struct cli_priv p;
	sigset_t old;
	int rc;

	if ((rc = cli_priv_enter(t, &p, err, errlen)) != FT_OK)
		return rc;
	hold_signals(&old);
	rc = ft_safe_unlink(t->path, err, errlen);
	release_signals(&old);
	cli_priv_leave(&p);
	return rc;
}

int
cli_check_existing(
    const struct cli_ctx *ctx, const struct cli_target *t, bool *existed)
{
	char err[CLI_ERRLEN], when[64];
	struct ft_secret old;
	int rc;

	*existed = false;
	err[0] = '\0';
	rc = cli_secret_load(t, &old, err, sizeof(err));
	if (rc == FT_OK)
		cli_time_text((time_t)old.created, when, sizeof(when));
	ft_secret_wipe(&old);
	if (rc == FT_ERR_NOENT)
		return CLI_EX_OK;
	if (rc == FT_ERR_PERM)
		return cli_err(CLI_EX_PERM, "%s", err);
	*existed = true;
	if (ctx->o.force) {
		if (rc != FT_OK)
			cli_warn("replacing an unreadable enrolment: %s", err);
		return CLI_EX_OK;
	}
	if (rc == FT_OK)
		return cli_err(CLI_EX_EXISTS,
		    "%s is already enrolled (since "
		    "%s); use --force to replace it",
		    t->name, when);
	return cli_err(CLI_EX_FAIL,
	    "cannot read the enrolment of %s (%s); "
	    "use --force to replace it",
	    t->name, err);
}
