/* totp-enroll run by a user whose secret lives in the system store: the
 * self-service commands go through flowtotp-helper (helper.c), which is
 * set-user-ID root.  totp-enroll itself never runs privileged; it checks
 * what it can say clearly here (options the helper does not take) and
 * execs the helper, which trusts none of it and checks everything again. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "rc.h"

/* cli/Makefile.inc always sets it from $(libexecdir); this default only
 * serves tools that read the file without the build's flags. */
#ifndef FT_HELPER_PATH
#define FT_HELPER_PATH "/usr/local/libexec/flowtotp/flowtotp-helper"
#endif

/* Options the helper has an equivalent for; --user is checked to be the
 * caller, --yes means nothing for a user. */
#define HELPER_OPTS (CLI_O_USER | CLI_O_JSON | CLI_O_QR | CLI_O_YES)
#define HELPER_ARGV_MAX 5U

static const char *const self_service[] = {
    "status", "check", "enroll", "backup-codes", "disable", "import"};
#define NSELF (sizeof(self_service) / sizeof(self_service[0]))

static bool
is_self_service(const char *cmd)
{
	size_t i;

	for (i = 0; i < NSELF; i++)
		if (strcmp(cmd, self_service[i]) == 0)
			return true;
	return false;
}

/* The store is one the caller can change without help. */
static bool
store_is_mine(const struct cli_ctx *ctx, const struct cli_target *t)
{
	char tmp[PATH_MAX], *slash;
	struct stat sb;

	if (t->in_home)
		return true;
	if (snprintf(tmp, sizeof(tmp), "%s", t->path) >= (int)sizeof(tmp))
		return false;
	slash = strrchr(tmp, '/');
	if (slash == NULL || slash == tmp)
		return false;
	*slash = '\0';
	return lstat(tmp, &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    sb.st_uid == ctx->uid;
}

/* Every operand must name the caller (one message for anyone else). */
static int
operands_ok(const struct cli_ctx *ctx, const char *cmd, int argc, char **argv)
{
	struct cli_target t;
	int i, ex;

	if (strcmp(cmd, "import") == 0 && argc > 0)
		return cli_err(CLI_EX_USAGE,
		    "import of your own enrolment reads "
		    "~/.google_authenticator "
		    "only; for another file ask an administrator to run "
		    "'" CLI_PROG " import --user %s FILE'",
		    ctx->name);
	for (i = 0; i < argc; i++)
		if ((ex = cli_target(ctx, argv[i], &t)) != CLI_EX_OK)
			return ex;
	return CLI_EX_OK;
}

static void
qr_arg(const struct cli_ctx *ctx, const char **word)
{
	enum cli_qr_mode m =
	    ctx->o.qr == CLI_QR_AUTO ? cli_qr_auto() : ctx->o.qr;

	*word = m == CLI_QR_UTF8	? "--qr=utf8"
	    : m == CLI_QR_UTF8_INVERTED ? "--qr=utf8-inverted"
	    : m == CLI_QR_NONE		? "--qr=none"
					: "--qr=ansi";
}

static const char *
helper_path(void)
{
#ifdef FT_HELPER_TEST
	/* The test build (never installed) runs a test copy. */
	if (getenv("FLOWTOTP_TEST_HELPER") != NULL)
		return getenv("FLOWTOTP_TEST_HELPER");
#endif
	return FT_HELPER_PATH;
}

int
cli_helper_handoff(const struct cli_ctx *ctx, const char *cmd, int argc,
    char **argv, bool configured)
{
	const char *av[HELPER_ARGV_MAX];
	struct cli_target t;
	size_t n = 0;
	int ex;

	if (ctx->root || !is_self_service(cmd))
		return -1;
	if ((ex = cli_target(ctx, ctx->o.user, &t)) != CLI_EX_OK)
		return ex;
	if (store_is_mine(ctx, &t))
		return -1;
	if ((ex = operands_ok(ctx, cmd, argc, argv)) != CLI_EX_OK)
		return ex;
	if (configured)
		return cli_err(CLI_EX_PERM,
		    "the system store is changed only through flowtotp-helper, "
		    "which reads " FT_CONF_DEFAULT " and nothing else: leave "
		    "out --config and --option, or ask an administrator");
	if ((ctx->o.seen & ~(unsigned)HELPER_OPTS) != 0 ||
	    (ctx->o.json && strcmp(cmd, "enroll") == 0))
		return cli_err(CLI_EX_PERM,
		    "for your own enrolment in the system store only --json "
		    "(and --qr for enroll) apply: ask an administrator for "
		    "more");
	av[n++] = "flowtotp-helper";
	av[n++] = cmd;
	if (ctx->o.json)
		av[n++] = "--json";
	if (strcmp(cmd, "enroll") == 0)
		qr_arg(ctx, &av[n++]);
	av[n] = NULL;
	(void)fflush(stdout);
	(void)execv(helper_path(), (char *const *)(uintptr_t)av);
	return cli_err(CLI_EX_FAIL,
	    "cannot run %s (%s): it is installed set-user-ID root by 'make "
	    "install'; or ask an administrator",
	    helper_path(), strerror(errno));
}
