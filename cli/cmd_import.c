/* totp-enroll import [FILE]: take a user over from
 * google-authenticator-libpam.  The secret of their ~/.google_authenticator
 * (or FILE) becomes a normal flowtotp enrolment with the same secret, so
 * the phone keeps working; the secret is never printed.  The plain-text
 * scratch codes are not carried over (flowtotp keeps backup codes only as
 * slow hashes): a fresh set is issued and printed once.  The old file is
 * left as it is, since pam_google_authenticator may still be in the PAM
 * stack. */
#include <config.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup.h"
#include "clock.h"
#include "cli.h"
#include "gafile.h"
#include "rc.h"
#include "wipe.h"

#define GA_FORBIDDEN_MODE 077 /* no group or other bits at all */
#define GA_DIGITS 6U	      /* google-authenticator always uses 6 */

struct import {
	struct cli_target t;
	char src[PATH_MAX]; /* the google-authenticator file */
	/* Who must own it: the user, or --owner (google's user= setups keep
	 * every file under one dedicated account). */
	bool owner_given;
	uid_t owner;
	struct cli_ga ga;
	struct ft_secret s;
	char codes[FT_BACKUP_MAX][FT_BACKUP_SHOWN_BUFSZ];
	bool existed;
};

/* The path goes to syslog: no forged lines. */
static int
printable_path(const char *path, const char *what)
{
	const unsigned char *p;

	for (p = (const unsigned char *)path; *p != '\0'; p++)
		if (*p < ' ' || *p == 0x7fU)
			return cli_err(CLI_EX_USAGE,
			    "%s: control characters are not allowed", what);
	return CLI_EX_OK;
}

/* in made absolute (the safe reader walks from "/") into out[PATH_MAX];
 * what names the operand in messages. */
static int
abs_path(const char *in, char *out, const char *what)
{
	char cwd[PATH_MAX];
	int n;

	if (in[0] == '/')
		n = snprintf(out, PATH_MAX, "%s", in);
	else if (getcwd(cwd, sizeof(cwd)) == NULL)
		return cli_err(CLI_EX_FAIL,
		    "cannot find the current "
		    "directory for %s",
		    in);
	else
		n = snprintf(out, PATH_MAX, "%s/%s", cwd, in);
	if (n < 0 || n >= PATH_MAX)
		return cli_err(CLI_EX_USAGE, "%s: path too long", what);
	return printable_path(out, what);
}

/* FILE as given, or the target's ~/.google_authenticator. */
static int
source_path(struct import *im, int argc, char **argv)
{
	int n;

	if (argc > 1)
		return cli_err(CLI_EX_USAGE,
		    "import takes one FILE at most "
		    "(use --user NAME for the user)");
	if (argc == 1)
		return abs_path(argv[0], im->src, "FILE");
	n = snprintf(
	    im->src, sizeof(im->src), "%s/%s", im->t.home, CLI_GA_FILE);
	if (n < 0 || (size_t)n >= sizeof(im->src))
		return cli_err(CLI_EX_USAGE, "path too long");
	return printable_path(im->src, "FILE");
}

/* Is path inside the target's home?  Then it is read with the target's
 * privileges, like a secret file there (see priv.c). */
static bool
in_home(const struct cli_target *t, const char *path)
{
	size_t n = strlen(t->home);

	while (n > 0 && t->home[n - 1] == '/')
		n--;
	return strncmp(path, t->home, n) == 0 && path[n] == '/';
}

static int
read_error(const struct import *im, bool as_user, int rc, const char *err)
{
	if (rc == FT_ERR_PERM && as_user)
		return cli_err(CLI_EX_PERM,
		    "not imported: %s (a file in the "
		    "home of %s is read with their privileges)",
		    err, im->t.name);
	if (rc == FT_ERR_NOENT)
		return cli_err(
		    CLI_EX_NOTENROLLED, "nothing to import: %s", err);
	if (rc == FT_ERR_UNSAFE && im->owner_given)
		return cli_err(CLI_EX_FAIL,
		    "not imported: %s (with --owner the file must be a "
		    "regular file, not a symlink, owned by uid %lu, with no "
		    "group or other permissions: chmod 600)",
		    err, (unsigned long)im->owner);
	if (rc == FT_ERR_UNSAFE)
		return cli_err(CLI_EX_FAIL,
		    "not imported: %s (a "
		    "google-authenticator file must be a regular file, not a "
		    "symlink, owned by %s%s, with no group or other "
		    "permissions: chmod 600, or --owner NAME for a file of a "
		    "dedicated user)",
		    err, im->t.name, im->t.uid != 0 ? " or root" : "");
	return cli_err(
	    cli_exit_for(rc) == CLI_EX_PERM ? CLI_EX_PERM : CLI_EX_FAIL,
	    "not imported: %s", err);
}

static int
read_ga(struct import *im)
{
	/* With --owner only that user's file (not root's) is taken. */
	struct ft_file_policy pol = {im->owner_given ? im->owner : im->t.uid,
	    !im->owner_given, GA_FORBIDDEN_MODE, CLI_GA_MAX_SIZE};
	struct cli_target rd;
	struct cli_priv p;
	char err[CLI_ERRLEN];
	char *buf = NULL;
	size_t len = 0;
	bool as_user;
	int rc;

	rd = im->t;
	/* A file of another owner is read as root (still walked without
	 * following symlinks); the user's privileges could not read it. */
	rd.in_home = !im->owner_given && in_home(&im->t, im->src);
	as_user = rd.in_home && geteuid() == 0 && rd.uid != 0;
	err[0] = '\0';
	if ((rc = cli_priv_enter(&rd, &p, err, sizeof(err))) != FT_OK)
		return read_error(im, as_user, rc, err);
	rc = ft_safe_read(im->src, &pol, &buf, &len, err, sizeof(err));
	cli_priv_leave(&p);
	if (rc != FT_OK)
		return read_error(im, as_user, rc, err);
	rc = cli_ga_parse(buf, len, &im->ga, err, sizeof(err));
	ft_wipe_free(buf, len);
	if (rc != FT_OK)
		return cli_err(
		    CLI_EX_FAIL, "not imported: %s: %s", im->src, err);
	return CLI_EX_OK;
}

static void
make_secret(struct import *im)
{
	memcpy(im->s.key, im->ga.key, im->ga.keylen);
	im->s.keylen = im->ga.keylen;
	im->s.algo = FT_ALGO_SHA1;
	im->s.digits = GA_DIGITS;
	im->s.period = im->ga.period;
	im->s.created = (int64_t)ft_now();
}

static void
print_ignored_text(const struct import *im)
{
	const char *sep = "";
	unsigned i;

	if (im->ga.ignored == 0)
		return;
	(void)printf("Not taken over: ");
	for (i = 0; i < CLI_GA_NIGNORED; i++) {
		if ((im->ga.ignored & (1U << i)) == 0)
			continue;
		(void)printf("%s%s", sep, cli_ga_ignored_name(i));
		sep = ", ";
	}
	(void)printf("\n(site policy in flowtotp.conf: window, rate limits, "
		     "lockout, replay protection).\n");
}

/* --owner NAME: root only (anyone else could import a file of any user
 * that they can read); resolved before the file is read. */
static int
resolve_owner(const struct cli_ctx *ctx, struct import *im)
{
	const struct passwd *pw;
	int ex;

	if (ctx->o.owner == NULL)
		return CLI_EX_OK;
	if ((ex = cli_require_root(ctx, "import --owner")) != CLI_EX_OK)
		return ex;
	/* Single-threaded program: the static result is safe. */
	// cppcheck-suppress getpwnamCalled
	pw = getpwnam(ctx->o.owner);
	if (pw == NULL)
		return cli_err(
		    CLI_EX_USAGE, "--owner: no such user '%s'", ctx->o.owner);
	im->owner = pw->pw_uid;
	im->owner_given = true;
	return CLI_EX_OK;
}

/* The per-user settings google-authenticator kept that flowtotp does not:
 * said on stderr, since they change how logins behave. */
static void
warn_dropped(const struct cli_ctx *ctx, const struct import *im)
{
	const long long steps = (im->ga.window_size - 1) / 2;

	if ((im->ga.ignored & CLI_GA_WINDOW_SIZE) != 0 &&
	    steps != (long long)ctx->cfg.window)
		cli_warn("WINDOW_SIZE %lld (+-%lld steps) is not taken over: "
			 "the site's window of +-%u steps applies to every "
			 "user; if the site wants it, set 'window = %lld' in "
			 "flowtotp.conf (at most %u)",
		    im->ga.window_size, steps, ctx->cfg.window, steps,
		    FT_WINDOW_MAX);
	if ((im->ga.ignored & CLI_GA_TIME_SKEW) != 0)
		cli_warn(
		    "TIME_SKEW %lld (the app's clock was %lld steps off) "
		    "is dropped: flowtotp keeps no clock correction per "
		    "user; if codes fail, fix the phone's clock ('" CLI_PROG
		    " check' shows the offset)",
		    im->ga.time_skew, im->ga.time_skew);
}

static void
print_result_text(const struct import *im)
{
	size_t i;

	(void)printf(
	    "Imported the google-authenticator secret of %s into "
	    "%s\n(SHA1, 6 digits, every %u seconds); the authenticator app "
	    "keeps working as it is.\n",
	    im->t.name, im->t.path, im->s.period);
	print_ignored_text(im);
	if (im->ga.nscratch > 0)
		(void)printf("The old emergency scratch codes (%u in the file) "
			     "no longer work.\n",
		    im->ga.nscratch);
	if (im->s.nbackup > 0) {
		(void)printf(
		    "\nNew backup codes: each works once, for when "
		    "the phone is not at hand.\nThey are shown only now; keep "
		    "them somewhere safe.\n\n");
		for (i = 0; i < im->s.nbackup; i++)
			(void)printf("  %s\n", im->codes[i]);
	}
	(void)printf("\n%s was left untouched:\nremove it once "
		     "pam_google_authenticator is out of the PAM stack.\n",
	    im->src);
}

static void
print_result_json(const struct import *im)
{
	const char *sep = "";
	char when[64];
	unsigned i;

	cli_time_iso((time_t)im->s.created, when, sizeof(when));
	(void)printf("{\"user\":");
	cli_json_str(stdout, im->t.name);
	(void)printf(",\"path\":");
	cli_json_str(stdout, im->t.path);
	(void)printf(",\"source\":");
	cli_json_str(stdout, im->src);
	(void)printf(",\"algorithm\":\"%s\",\"digits\":%u,\"period\":%u,"
		     "\"created\":%lld,\"created_utc\":\"%s\",\"replaced\":%s,"
		     "\"scratch_codes_dropped\":%u,\"ignored_options\":[",
	    ft_algo_name(im->s.algo), im->s.digits, im->s.period,
	    (long long)im->s.created, when, im->existed ? "true" : "false",
	    im->ga.nscratch);
	for (i = 0; i < CLI_GA_NIGNORED; i++) {
		if ((im->ga.ignored & (1U << i)) == 0)
			continue;
		(void)printf("%s\"%s\"", sep, cli_ga_ignored_name(i));
		sep = ",";
	}
	(void)printf("],\"backup_codes\":[");
	for (i = 0; i < im->s.nbackup; i++)
		(void)printf("%s\"%s\"", i > 0 ? "," : "", im->codes[i]);
	(void)printf("]}\n");
}

/* Through the helper an import is a self-enrolment (a user could write any
 * secret into ~/.google_authenticator first), so it needs self_enroll. */
static int
self_import_allowed(const struct cli_ctx *ctx, const struct cli_target *t)
{
	if (!ctx->helper || ctx->cfg.self_enroll)
		return CLI_EX_OK;
	return cli_err(CLI_EX_PERM,
	    "importing yourself from a shell is turned off here "
	    "(self_enroll): ask an administrator to run '" CLI_PROG
	    " import --user %s %s/" CLI_GA_FILE
	    "' (this keeps the codes your phone shows; a new enrolment "
	    "would not)",
	    t->name, t->home);
}

static int
import(struct cli_ctx *ctx, struct import *im, int argc, char **argv)
{
	char err[CLI_ERRLEN];
	int ex, rc;

	if ((ex = cli_target(ctx, ctx->o.user, &im->t)) != CLI_EX_OK ||
	    (ex = resolve_owner(ctx, im)) != CLI_EX_OK ||
	    (ex = source_path(im, argc, argv)) != CLI_EX_OK ||
	    (ex = self_import_allowed(ctx, &im->t)) != CLI_EX_OK ||
	    (ex = cli_store_writable(ctx, &im->t)) != CLI_EX_OK ||
	    (ex = cli_check_existing(ctx, &im->t, &im->existed)) != CLI_EX_OK ||
	    (ex = read_ga(im)) != CLI_EX_OK ||
	    (ex = cli_secret_prepare(ctx, &im->t)) != CLI_EX_OK)
		return ex;
	make_secret(im);
	if ((ex = cli_make_backup_codes(ctx->cfg.backup_codes, im->codes,
		 im->s.backup, &im->s.nbackup)) != CLI_EX_OK)
		return ex;
	err[0] = '\0';
	rc = cli_secret_save(ctx, &im->t, &im->s, err, sizeof(err));
	if (rc != FT_OK)
		return cli_err(
		    cli_exit_for(rc) == CLI_EX_PERM ? CLI_EX_PERM : CLI_EX_FAIL,
		    "not imported: cannot save %s: %s", im->t.path, err);
	cli_log(ctx, "imported %s from google-authenticator file %s%s",
	    im->t.name, im->src, im->existed ? ", replacing an enrolment" : "");
	cli_state_restart(ctx, im->t.name, 0);
	warn_dropped(ctx, im);
	if (ctx->o.json)
		print_result_json(im);
	else
		print_result_text(im);
	return CLI_EX_OK;
}

/* --from pam_oath: root only (the usersfile is root's and holds everyone's
 * secrets), users as operands, the usersfile named. */
static int
import_oath(struct cli_ctx *ctx, int argc, char **argv)
{
	char path[PATH_MAX];
	int ex;

	if ((ex = cli_require_root(ctx, "import --from pam_oath")) != CLI_EX_OK)
		return ex;
	if (ctx->o.usersfile == NULL)
		return cli_err(CLI_EX_USAGE,
		    "import --from pam_oath needs --usersfile FILE (the "
		    "usersfile= of pam_oath's line in /etc/pam.d)");
	if (ctx->o.user != NULL || ctx->o.owner != NULL)
		return cli_err(CLI_EX_USAGE,
		    "with --from pam_oath, name the users as operands "
		    "(USER...), not with --user or --owner");
	if ((ex = abs_path(ctx->o.usersfile, path, "--usersfile")) != CLI_EX_OK)
		return ex;
	return cli_import_oath(ctx, path, argc, argv);
}

/* Which system to import from: *oath for pam_oath, else
 * google-authenticator (the default). */
static int
import_from(const struct cli_ctx *ctx, bool *oath)
{
	const char *f = ctx->o.from;

	*oath = f != NULL && strcmp(f, "pam_oath") == 0;
	if (f != NULL && !*oath && strcmp(f, "google-authenticator") != 0)
		return cli_err(CLI_EX_USAGE,
		    "--from: expected google-authenticator or pam_oath, "
		    "got '%s'",
		    f);
	if (!*oath && ctx->o.usersfile != NULL)
		return cli_err(CLI_EX_USAGE,
		    "--usersfile applies only with --from pam_oath");
	return CLI_EX_OK;
}

int
cmd_import(struct cli_ctx *ctx, int argc, char **argv)
{
	struct import *im;
	bool oath;
	int ex;

	if ((ex = import_from(ctx, &oath)) != CLI_EX_OK)
		return ex;
	if (oath)
		return import_oath(ctx, argc, argv);
	im = calloc(1, sizeof(*im));
	if (im == NULL)
		return cli_err(CLI_EX_FAIL, "out of memory");
	ex = import(ctx, im, argc, argv);
	ft_wipe(im, sizeof(*im));
	free(im);
	return ex;
}
