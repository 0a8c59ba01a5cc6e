/* flowtotp-helper: self-service against the root-owned store.
 *
 * Installed set-user-ID root in $(libexecdir)/flowtotp (the unix_chkpwd
 * model: a small program, run by the user, that does one thing for the
 * invoking user only).  totp-enroll, run by a user whose secrets live in
 * the system store, execs it for status, check, enroll, backup-codes,
 * disable and import; it may also be run directly.  It talks to the
 * terminal itself (stdin, stdout, stderr), so no protocol between it and
 * totp-enroll exists to get wrong.
 *
 * What the caller controls, and what is done about it:
 *   environment   cleared before anything reads it (the loader already
 *                 ignored LD_* for a set-uid program); the configuration
 *                 path is fixed at build time, there is no --config/-o;
 *   descriptors   0, 1 and 2 opened on /dev/null when closed (so no file
 *                 the helper opens becomes "stdout"), all others closed;
 *   signals       dispositions and mask back to the defaults; the writes
 *                 hold signals off themselves (store.c);
 *   limits, cwd, umask   no core files, file size up to the hard limit,
 *                 cwd "/", umask 022 (the modes are explicit anyway);
 *   arguments     one verb and fixed flags, nothing else (helper_args.c);
 *   identity      the real uid only (getuid, getpwuid): no user operand,
 *                 so it cannot act on, or tell anything about, another
 *                 user;
 *   codes         every code is a counted login attempt (verify.c).
 * Each action is logged to authpriv with the user. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "helper.h"
#include "rc.h"

#define HELPER_UMASK 022
#define FIRST_EXTRA_FD 3U

#ifdef FT_HELPER_TEST
/* The test build (never installed) keeps its clock, syslog capture and a
 * private configuration across the clearing of the environment. */
#define TEST_CONF_ENV "FLOWTOTP_TEST_HELPER_CONF"
static const char *const test_env[] = {"FLOWTOTP_TEST_NOW",
    "FLOWTOTP_TEST_OFFSET", "FT_TEST_SYSLOG", TEST_CONF_ENV};
#define NTEST_ENV (sizeof(test_env) / sizeof(test_env[0]))
#define TEST_ENV_MAX 4096U
#endif

/* 0, 1, 2 open (on /dev/null when the caller closed them), the rest
 * closed.  -1 when that cannot be done: then nothing is safe to print. */
static int
sane_fds(void)
{
	int fd, nfd;
	long max;

	for (fd = 0; fd < (int)FIRST_EXTRA_FD; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		nfd = open("/dev/null", O_RDWR | O_NOCTTY);
		if (nfd != fd) {
			if (nfd >= 0)
				(void)close(nfd);
			return -1;
		}
	}
	if (close_range(FIRST_EXTRA_FD, ~0U, 0) == 0)
		return 0;
	max = sysconf(_SC_OPEN_MAX);
	for (fd = (int)FIRST_EXTRA_FD; fd < max; fd++)
		(void)close(fd); /* EBADF for most: nothing to do */
	return 0;
}

static int
clear_env(void)
{
#ifdef FT_HELPER_TEST
	char keep[NTEST_ENV][TEST_ENV_MAX];
	const char *v;
	size_t i;

	for (i = 0; i < NTEST_ENV; i++) {
		v = getenv(test_env[i]);
		keep[i][0] = '\0';
		if (v != NULL)
			(void)snprintf(keep[i], sizeof(keep[i]), "%s", v);
	}
	if (clearenv() != 0)
		return -1;
	for (i = 0; i < NTEST_ENV; i++)
		if (keep[i][0] != '\0' && setenv(test_env[i], keep[i], 1) != 0)
			return -1;
	return 0;
#else
	return clearenv();
#endif
}

/* Default dispositions (an ignored SIGTERM or SIGPIPE is the caller's
 * choice, not ours) and an empty mask. */
static int
reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	if (sigemptyset(&sa.sa_mask) != 0 || sigemptyset(&none) != 0)
		return -1;
	for (sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		/* glibc reserves a few real-time signals: EINVAL there. */
		if (sigaction(sig, &sa, NULL) != 0 && errno != EINVAL)
			return -1;
	}
	return sigprocmask(SIG_SETMASK, &none, NULL);
}

static int
reset_process(void)
{
	struct rlimit rl = {0, 0};

	if (setrlimit(RLIMIT_CORE, &rl) != 0 ||
	    getrlimit(RLIMIT_FSIZE, &rl) != 0)
		return -1;
	rl.rlim_cur = rl.rlim_max; /* a tiny limit would cut a write */
	if (setrlimit(RLIMIT_FSIZE, &rl) != 0 || chdir("/") != 0)
		return -1;
	(void)umask(HELPER_UMASK);
	return 0;
}

static int
load_config(struct cli_ctx *ctx)
{
	const char *path = FT_CONF_DEFAULT;
	char err[CLI_ERRLEN];
	int rc;

#ifdef FT_HELPER_TEST
	if (getenv(TEST_CONF_ENV) != NULL)
		path = getenv(TEST_CONF_ENV);
#endif
	err[0] = '\0';
	ft_config_defaults(&ctx->cfg);
	rc = ft_config_load_file(&ctx->cfg, path, true, err, sizeof(err));
	if (rc != FT_OK)
		return cli_err(CLI_EX_FAIL,
		    "the configuration %s is not usable (%s): ask an "
		    "administrator",
		    path, err);
	return CLI_EX_OK;
}

static void
set_opts(struct cli_opts *o, const struct cli_helper_req *req)
{
	static const enum cli_qr_mode qr[] = {
	    [CLI_HQR_AUTO] = CLI_QR_AUTO,
	    [CLI_HQR_UTF8] = CLI_QR_UTF8,
	    [CLI_HQR_ANSI] = CLI_QR_ANSI,
	    [CLI_HQR_NONE] = CLI_QR_NONE,
	    [CLI_HQR_UTF8_INVERTED] = CLI_QR_UTF8_INVERTED,
	};

	memset(o, 0, sizeof(*o));
	o->algo = FT_ALGO_SHA1;
	o->digits = FT_DIGITS_DEFAULT;
	o->period = FT_PERIOD_DEFAULT;
	o->qr = qr[req->qr];
	/* The environment is gone: auto would mean the C locale. */
	if (o->qr == CLI_QR_AUTO)
		o->qr = CLI_QR_ANSI;
	o->json = req->json;
}

static int
dispatch(struct cli_ctx *ctx, const struct cli_helper_req *req)
{
	char *none[] = {NULL};

	switch (req->verb) {
	case CLI_HV_STATUS: return cmd_status(ctx, 0, none);
	case CLI_HV_CHECK: return cmd_check(ctx, 0, none);
	case CLI_HV_ENROLL: return cmd_enroll(ctx, 0, none);
	case CLI_HV_BACKUP: return cmd_backup(ctx, 0, none);
	case CLI_HV_DISABLE: return cmd_disable(ctx, 0, none);
	case CLI_HV_IMPORT: return cmd_import(ctx, 0, none);
	default: return CLI_EX_USAGE;
	}
}

static int
run(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_helper_req req;
	const char *why = NULL;
	int ex;

	if (cli_helper_parse(argc, (const char *const *)argv, &req, &why) != 0)
		return cli_err(CLI_EX_USAGE, "%s", why);
	if ((ex = cli_caller_helper(ctx)) != CLI_EX_OK ||
	    (ex = load_config(ctx)) != CLI_EX_OK)
		return ex;
	set_opts(&ctx->o, &req);
	cli_log(ctx, "self-service %s for %s", req.verb_name, ctx->name);
	ex = dispatch(ctx, &req);
	cli_log(ctx, "self-service %s for %s: exit %d", req.verb_name,
	    ctx->name, ex);
	return ex;
}

int
main(int argc, char **argv)
{
	struct cli_ctx *ctx;
	int ex;

	if (sane_fds() != 0)
		return CLI_EX_FAIL;
	if (clear_env() != 0 || reset_signals() != 0 || reset_process() != 0)
		return cli_err(CLI_EX_FAIL, "cannot set up a clean process");
	(void)setlocale(LC_ALL, "C");
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return cli_err(CLI_EX_FAIL, "out of memory");
	ex = run(ctx, argc, argv);
	free(ctx);
	if (fflush(stdout) != 0 || ferror(stdout))
		return cli_err(CLI_EX_FAIL, "error writing output");
	return ex;
}
