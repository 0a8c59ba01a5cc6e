/* Who runs the command, whom it acts on, and which users are enrolled. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "rc.h"
#include "secretstore.h"

#define NAMES_INITIAL 64U

/* The caller's login name, from the real uid (never from the
 * environment). */
static int
caller_name(struct cli_ctx *ctx)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwuid(ctx->uid);
	if (pw == NULL)
		return cli_err(CLI_EX_FAIL, "cannot find your user (uid %lu)",
		    (unsigned long)ctx->uid);
	if (snprintf(ctx->name, sizeof(ctx->name), "%s", pw->pw_name) >=
	    (int)sizeof(ctx->name))
		return cli_err(CLI_EX_FAIL, "your user name is too long");
	return CLI_EX_OK;
}

int
cli_caller_init(struct cli_ctx *ctx)
{
	ctx->uid = getuid();
	if (geteuid() != ctx->uid || getegid() != getgid())
		return cli_err(
		    CLI_EX_PERM, "refusing to run set-user-ID or set-group-ID");
	ctx->root = ctx->uid == 0;
	return caller_name(ctx);
}

int
cli_caller_helper(struct cli_ctx *ctx)
{
	ctx->uid = getuid();
	ctx->root = false; /* root through the helper is a user too */
	ctx->helper = true;
	if (geteuid() != 0)
		return cli_err(CLI_EX_PERM,
		    "flowtotp-helper must be installed set-user-ID root "
		    "('make install' does that)");
	return caller_name(ctx);
}

int
cli_require_root(const struct cli_ctx *ctx, const char *what)
{
	if (ctx->root)
		return CLI_EX_OK;
	return cli_err(CLI_EX_PERM, "%s: only root may do this", what);
}

int
cli_one_user(const struct cli_ctx *ctx, int argc, char **argv, const char *cmd,
    const char **name)
{
	*name = ctx->o.user;
	if (argc > 1 || (argc == 1 && ctx->o.user != NULL))
		return cli_err(CLI_EX_USAGE, "%s takes one user", cmd);
	if (argc == 1)
		*name = argv[0];
	return CLI_EX_OK;
}

/* The target for the account pw (found by name, or by the one pass over
 * the user database that list makes). */
static int
target_from_pw(const struct cli_ctx *ctx, const char *name,
    const struct passwd *pw, struct cli_target *t)
{
	char err[CLI_ERRLEN];
	int rc;

	if (!ctx->root && pw->pw_uid != ctx->uid)
		return cli_err(CLI_EX_PERM,
		    "only root may act on other users (you are %s)", ctx->name);
	(void)snprintf(t->name, sizeof(t->name), "%s", pw->pw_name);
	t->uid = pw->pw_uid;
	t->gid = pw->pw_gid;
	if (snprintf(t->home, sizeof(t->home), "%s", pw->pw_dir) >=
	    (int)sizeof(t->home))
		return cli_err(
		    CLI_EX_FAIL, "home directory of %s too long", name);
	err[0] = '\0';
	rc = ft_config_secret_path(
	    &ctx->cfg, pw, t->path, sizeof(t->path), err, sizeof(err));
	t->in_home = ft_config_secret_in_home(&ctx->cfg);
	t->cfg = &ctx->cfg;
	if (rc != FT_OK)
		return cli_err(cli_exit_for(rc) == CLI_EX_FAIL
			? CLI_EX_USAGE
			: cli_exit_for(rc),
		    "secret path for %s: %s", name, err);
	ft_secret_policy(t->uid, &t->pol);
	return CLI_EX_OK;
}

int
cli_target(const struct cli_ctx *ctx, const char *name, struct cli_target *t)
{
	struct passwd *pw;

	memset(t, 0, sizeof(*t));
	if (name == NULL)
		name = ctx->name;
	if (name[0] == '\0' || strlen(name) >= sizeof(t->name))
		return cli_err(CLI_EX_USAGE, "invalid user name");
	pw = getpwnam(name);
	/* A user naming anyone else learns nothing, not even whether that
	 * account exists: one message for both. */
	if (!ctx->root && (pw == NULL || pw->pw_uid != ctx->uid))
		return cli_err(CLI_EX_PERM,
		    "you may act only on yourself (%s); an administrator "
		    "acts on other users",
		    ctx->name);
	if (pw == NULL)
		return cli_err(CLI_EX_USAGE, "no such user: %s", name);
	return target_from_pw(ctx, name, pw, t);
}

/* ---- iterating the store ----
 *
 * list must not look every enrolled user up by name: with nss "files" each
 * getpwnam reads /etc/passwd from the top, so 100,000 users cost 10^10
 * line reads.  Instead one pass of getpwent builds a table sorted by name;
 * a name found in the store but not in it (a directory that does not
 * enumerate, such as sssd by default) is looked up on its own. */

struct account {
	struct passwd pw; /* pw_name, pw_uid, pw_gid, pw_dir: our copies */
};

struct accounts {
	struct account *v;
	size_t n, cap;
};

static void
accounts_free(struct accounts *as)
{
	size_t i;

	for (i = 0; i < as->n; i++) {
		free(as->v[i].pw.pw_name);
		free(as->v[i].pw.pw_dir);
	}
	free(as->v);
	memset(as, 0, sizeof(*as));
}

static int
accounts_add(struct accounts *as, const struct passwd *pw)
{
	struct account *nv, *a;
	size_t cap;

	if (as->n == as->cap) {
		cap = as->cap == 0 ? NAMES_INITIAL : as->cap * 2;
		nv = reallocarray(as->v, cap, sizeof(*nv));
		if (nv == NULL)
			return FT_ERR_NOMEM;
		as->v = nv;
		as->cap = cap;
	}
	a = &as->v[as->n];
	memset(a, 0, sizeof(*a));
	a->pw.pw_uid = pw->pw_uid;
	a->pw.pw_gid = pw->pw_gid;
	a->pw.pw_name = strdup(pw->pw_name);
	a->pw.pw_dir = strdup(pw->pw_dir != NULL ? pw->pw_dir : "");
	if (a->pw.pw_name == NULL || a->pw.pw_dir == NULL) {
		free(a->pw.pw_name);
		free(a->pw.pw_dir);
		return FT_ERR_NOMEM;
	}
	as->n++;
	return FT_OK;
}

static int
account_cmp(const void *a, const void *b)
{
	return strcmp(((const struct account *)a)->pw.pw_name,
	    ((const struct account *)b)->pw.pw_name);
}

/* Every account, sorted by name; of duplicates (files + LDAP) one is kept
 * (qsort is not stable, so not always the one getpwnam returns: the
 * enrolment reads the same secret either way). */
static int
load_accounts(struct accounts *as)
{
	struct passwd *pw;
	size_t i, k;
	int rc = FT_OK;

	setpwent();
	while (rc == FT_OK && (pw = getpwent()) != NULL)
		rc = accounts_add(as, pw);
	endpwent();
	if (rc != FT_OK)
		return rc;
	if (as->n > 1)
		qsort(as->v, as->n, sizeof(*as->v), account_cmp);
	for (i = k = 0; i < as->n; i++) {
		if (k > 0 &&
		    strcmp(as->v[i].pw.pw_name, as->v[k - 1].pw.pw_name) == 0) {
			free(as->v[i].pw.pw_name);
			free(as->v[i].pw.pw_dir);
			continue;
		}
		as->v[k++] = as->v[i];
	}
	as->n = k;
	return FT_OK;
}

static const struct passwd *
find_account(const struct accounts *as, const char *name)
{
	struct account key;
	const struct account *a;

	memset(&key, 0, sizeof(key));
	key.pw.pw_name = (char *)(uintptr_t)name;
	a = bsearch(&key, as->v, as->n, sizeof(*as->v), account_cmp);
	return a != NULL ? &a->pw : NULL;
}

/* The directory of a template whose last component is exactly "%u" and
 * which uses nothing else: then the store is "one file per user in DIR". */
static bool
flat_store_dir(const char *tpl, char *dir, size_t len)
{
	const char *slash = strrchr(tpl, '/');
	size_t n;

	if (slash == NULL || strcmp(slash, "/%u") != 0 || tpl[0] != '/')
		return false;
	n = (size_t)(slash - tpl);
	if (memchr(tpl, '%', n) != NULL || n == 0 || n >= len)
		return false;
	memcpy(dir, tpl, n);
	dir[n] = '\0';
	return true;
}

/* The accounts with a file in a flat store DIR, added to *found. */
static int
scan_dir(const char *dir, const struct accounts *all, struct accounts *found)
{
	const struct passwd *pw;
	struct dirent *de;
	DIR *d;
	int rc = FT_OK;

	d = opendir(dir);
	if (d == NULL) {
		if (errno == ENOENT)
			return FT_OK; /* nobody enrolled yet */
		return cli_err(errno == EACCES ? CLI_EX_PERM : CLI_EX_FAIL,
		    "cannot read the store %s: %s", dir, strerror(errno));
	}
	while (rc == FT_OK && (de = readdir(d)) != NULL) {
		/* Dot files are temp files of atomic writes. */
		if (de->d_name[0] == '.')
			continue;
		pw = find_account(all, de->d_name);
		if (pw == NULL)
			pw = getpwnam(de->d_name);
		if (pw == NULL) {
			cli_warn("%s/%s belongs to no known user; skipped", dir,
			    de->d_name);
			continue;
		}
		rc = accounts_add(found, pw);
	}
	(void)closedir(d);
	if (rc == FT_OK && found->n > 1)
		qsort(found->v, found->n, sizeof(*found->v), account_cmp);
	return rc == FT_OK ? FT_OK : cli_err(CLI_EX_FAIL, "out of memory");
}

/* Home-based or unusual templates: the accounts whose expanded path
 * exists. */
static int
scan_accounts(const struct cli_ctx *ctx, const struct accounts *all,
    struct accounts *found)
{
	char path[PATH_MAX], err[CLI_ERRLEN];
	struct stat sb;
	size_t i;
	int rc = FT_OK;

	for (i = 0; i < all->n && rc == FT_OK; i++) {
		if (ft_config_secret_path(&ctx->cfg, &all->v[i].pw, path,
			sizeof(path), err, sizeof(err)) != FT_OK)
			continue;
		if (lstat(path, &sb) != 0)
			continue;
		rc = accounts_add(found, &all->v[i].pw);
	}
	return rc == FT_OK ? FT_OK : cli_err(CLI_EX_FAIL, "out of memory");
}

int
cli_foreach_enrolled(struct cli_ctx *ctx, cli_user_fn fn, void *arg)
{
	struct accounts all = {NULL, 0, 0}, found = {NULL, 0, 0};
	struct cli_target *t = NULL;
	char dir[PATH_MAX];
	size_t i;
	int rc;

	t = malloc(sizeof(*t));
	if (t == NULL || load_accounts(&all) != FT_OK) {
		rc = cli_err(CLI_EX_FAIL, "out of memory");
		goto out;
	}
	if (flat_store_dir(ctx->cfg.secret, dir, sizeof(dir)))
		rc = scan_dir(dir, &all, &found);
	else
		rc = scan_accounts(ctx, &all, &found);
	for (i = 0; rc == FT_OK && i < found.n; i++) {
		const struct passwd *pw = &found.v[i].pw;

		memset(t, 0, sizeof(*t));
		if (strlen(pw->pw_name) >= sizeof(t->name))
			continue;
		if (target_from_pw(ctx, pw->pw_name, pw, t) != CLI_EX_OK)
			continue;
		rc = fn(ctx, t, arg);
	}
out:
	free(t);
	accounts_free(&found);
	accounts_free(&all);
	return rc;
}
