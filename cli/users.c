/* Who runs the command, whom it acts on, and which users are enrolled. */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "rc.h"
#include "secretstore.h"

#define NAMES_INITIAL 64U

int
cli_caller_init(struct cli_ctx *ctx)
{
	struct passwd *pw;

	ctx->uid = getuid();
	if (geteuid() != ctx->uid || getegid() != getgid())
		return cli_err(CLI_EX_PERM,
		    "refusing to run set-user-ID or set-group-ID");
	ctx->root = ctx->uid == 0;
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
cli_require_root(const struct cli_ctx *ctx, const char *what)
{
	if (ctx->root)
		return CLI_EX_OK;
	return cli_err(CLI_EX_PERM, "%s: only root may do this", what);
}

int
cli_one_user(const struct cli_ctx *ctx, int argc, char **argv,
    const char *cmd, const char **name)
{
	*name = ctx->o.user;
	if (argc > 1 || (argc == 1 && ctx->o.user != NULL))
		return cli_err(CLI_EX_USAGE, "%s takes one user", cmd);
	if (argc == 1)
		*name = argv[0];
	return CLI_EX_OK;
}

int
cli_target(const struct cli_ctx *ctx, const char *name, struct cli_target *t)
{
	char err[CLI_ERRLEN];
	struct passwd *pw;
	int rc;

	memset(t, 0, sizeof(*t));
	if (name == NULL)
		name = ctx->name;
	if (name[0] == '\0' || strlen(name) >= sizeof(t->name))
		return cli_err(CLI_EX_USAGE, "invalid user name");
	pw = getpwnam(name);
	if (pw == NULL)
		return cli_err(CLI_EX_USAGE, "no such user: %s", name);
	if (!ctx->root && pw->pw_uid != ctx->uid)
		return cli_err(CLI_EX_PERM,
		    "only root may act on other users (you are %s)",
		    ctx->name);
	(void)snprintf(t->name, sizeof(t->name), "%s", pw->pw_name);
	t->uid = pw->pw_uid;
	t->gid = pw->pw_gid;
	if (snprintf(t->home, sizeof(t->home), "%s", pw->pw_dir) >=
	    (int)sizeof(t->home))
		return cli_err(CLI_EX_FAIL, "home directory of %s too long",
		    name);
	err[0] = '\0';
	rc = ft_config_secret_path(&ctx->cfg, t->name, t->home, t->path,
	    sizeof(t->path), &t->in_home, err, sizeof(err));
	if (rc != FT_OK)
		return cli_err(cli_exit_for(rc) == CLI_EX_FAIL ?
		    CLI_EX_USAGE : cli_exit_for(rc),
		    "secret path for %s: %s", name, err);
	ft_secret_policy(t->uid, &t->pol);
	return CLI_EX_OK;
}

/* ---- iterating the store ---- */

struct names {
	char **v;
	size_t n, cap;
};

static int
names_add(struct names *ns, const char *name)
{
	char **nv;
	size_t cap;

	if (ns->n == ns->cap) {
		cap = ns->cap == 0 ? NAMES_INITIAL : ns->cap * 2;
		nv = reallocarray(ns->v, cap, sizeof(*nv));
		if (nv == NULL)
			return FT_ERR_NOMEM;
		ns->v = nv;
		ns->cap = cap;
	}
	ns->v[ns->n] = strdup(name);
	if (ns->v[ns->n] == NULL)
		return FT_ERR_NOMEM;
	ns->n++;
	return FT_OK;
}

static void
names_free(struct names *ns)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
	ns->v = NULL;
	ns->n = ns->cap = 0;
}

static int
names_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
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

static int
scan_dir(const char *dir, struct names *ns)
{
	struct dirent *de;
	DIR *d;
	int rc = FT_OK;

	d = opendir(dir);
	if (d == NULL) {
		if (errno == ENOENT)
			return FT_OK;   /* nobody enrolled yet */
		return cli_err(errno == EACCES ? CLI_EX_PERM : CLI_EX_FAIL,
		    "cannot read the store %s: %s", dir, strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		/* Dot files are temp files of atomic writes. */
		if (de->d_name[0] == '.')
			continue;
		if (getpwnam(de->d_name) == NULL) {
			cli_warn("%s/%s belongs to no known user; skipped",
			    dir, de->d_name);
			continue;
		}
		if ((rc = names_add(ns, de->d_name)) != FT_OK)
			break;
	}
	(void)closedir(d);
	return rc == FT_OK ? FT_OK : cli_err(CLI_EX_FAIL, "out of memory");
}

/* Home-based or unusual templates: every passwd user whose expanded path
 * exists. */
static int
scan_passwd(const struct cli_ctx *ctx, struct names *ns)
{
	char path[PATH_MAX], err[CLI_ERRLEN];
	struct passwd *pw;
	struct stat sb;
	bool in_home;
	int rc = FT_OK;

	setpwent();
	while ((pw = getpwent()) != NULL) {
		if (ft_config_secret_path(&ctx->cfg, pw->pw_name, pw->pw_dir,
		    path, sizeof(path), &in_home, err, sizeof(err)) != FT_OK)
			continue;
		if (lstat(path, &sb) != 0)
			continue;
		if ((rc = names_add(ns, pw->pw_name)) != FT_OK)
			break;
	}
	endpwent();
	return rc == FT_OK ? FT_OK : cli_err(CLI_EX_FAIL, "out of memory");
}

int
cli_foreach_enrolled(struct cli_ctx *ctx, cli_user_fn fn, void *arg)
{
	struct names ns = { NULL, 0, 0 };
	char dir[PATH_MAX];
	size_t i;
	int rc;

	if (flat_store_dir(ctx->cfg.secret, dir, sizeof(dir)))
		rc = scan_dir(dir, &ns);
	else
		rc = scan_passwd(ctx, &ns);
	if (rc != FT_OK)
		goto out;
	if (ns.n > 1)
		qsort(ns.v, ns.n, sizeof(*ns.v), names_cmp);
	for (i = 0; i < ns.n; i++) {
		/* Duplicate passwd entries (files + LDAP) count once. */
		if (i > 0 && strcmp(ns.v[i], ns.v[i - 1]) == 0)
			continue;
		if ((rc = fn(ctx, ns.v[i], arg)) != 0)
			break;
	}
out:
	names_free(&ns);
	return rc;
}
