/* totp-enroll: command line, configuration and dispatch.
 *
 *   totp-enroll [enroll] [options]        enrol (yourself, or --user as root)
 *   totp-enroll status|list|reset|disable|backup-codes|unlock|check ...
 *   totp-enroll import [FILE]             take over a google-authenticator
 *                                         enrolment
 *
 * Options may appear anywhere (GNU getopt permutes); the first operand is
 * the command.  See totp-enroll(1). */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "grace.h"
#include "rc.h"

#define STORE_UMASK 022 /* directories get exactly the modes we ask */

enum {
	OPT_ISSUER = CHAR_MAX + 1,
	OPT_LABEL,
	OPT_ALGO,
	OPT_DIGITS,
	OPT_PERIOD,
	OPT_QR,
	OPT_OWNER,
	OPT_RESET,
	OPT_EXTEND,
	OPT_FROM,
	OPT_USERSFILE,
	OPT_SEALED,
	OPT_PLAIN,
	OPT_DELIVER,
};

static const struct option longopts[] = {
    {"user", required_argument, NULL, 'u'},
    {"config", required_argument, NULL, 'c'},
    {"option", required_argument, NULL, 'o'},
    {"force", no_argument, NULL, 'f'},
    {"yes", no_argument, NULL, 'y'},
    {"no-confirm", no_argument, NULL, 'n'},
    {"json", no_argument, NULL, 'j'},
    {"issuer", required_argument, NULL, OPT_ISSUER},
    {"label", required_argument, NULL, OPT_LABEL},
    {"algorithm", required_argument, NULL, OPT_ALGO},
    {"digits", required_argument, NULL, OPT_DIGITS},
    {"period", required_argument, NULL, OPT_PERIOD},
    {"qr", required_argument, NULL, OPT_QR},
    {"owner", required_argument, NULL, OPT_OWNER},
    {"reset", no_argument, NULL, OPT_RESET},
    {"extend", required_argument, NULL, OPT_EXTEND},
    {"from", required_argument, NULL, OPT_FROM},
    {"usersfile", required_argument, NULL, OPT_USERSFILE},
    {"sealed", no_argument, NULL, OPT_SEALED},
    {"plain", no_argument, NULL, OPT_PLAIN},
    {"deliver", required_argument, NULL, OPT_DELIVER},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};
#define SHORTOPTS "u:c:o:fynjhV"

#define ENROLL_OPTS                                                            \
	(CLI_O_USER | CLI_O_FORCE | CLI_O_NOCONFIRM | CLI_O_JSON |             \
	    CLI_O_ISSUER | CLI_O_LABEL | CLI_O_ALGO | CLI_O_DIGITS |           \
	    CLI_O_PERIOD | CLI_O_QR | CLI_O_DELIVER)

struct command {
	const char *name;
	int (*fn)(struct cli_ctx *, int, char **);
	unsigned opts; /* enum cli_optbit allowed */
};

static const struct command commands[] = {
    {"enroll", cmd_enroll, ENROLL_OPTS},
    {"status", cmd_status, CLI_O_USER | CLI_O_JSON},
    {"list", cmd_list, CLI_O_JSON},
    {"reset", cmd_reset, CLI_O_USER | CLI_O_YES},
    {"disable", cmd_disable, CLI_O_USER | CLI_O_YES},
    {"backup-codes", cmd_backup, CLI_O_USER | CLI_O_JSON},
    {"unlock", cmd_unlock, CLI_O_USER},
    {"check", cmd_check, CLI_O_USER | CLI_O_JSON},
    {"import", cmd_import,
	CLI_O_USER | CLI_O_OWNER | CLI_O_FORCE | CLI_O_JSON | CLI_O_FROM |
	    CLI_O_USERSFILE},
    {"doctor", cmd_doctor, CLI_O_JSON},
    {"grace", cmd_grace, CLI_O_USER | CLI_O_RESET | CLI_O_EXTEND},
    {"key", cmd_key, CLI_O_SEALED | CLI_O_PLAIN},
    {"rename", cmd_rename, 0},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char *const optbit_names[] = {
    "--user",
    "--force",
    "--yes",
    "--no-confirm",
    "--json",
    "--issuer",
    "--label",
    "--algorithm",
    "--digits",
    "--period",
    "--qr",
    "--owner",
    "--reset",
    "--extend",
    "--from",
    "--usersfile",
    "--sealed",
    "--plain",
    "--deliver",
};
#define NOPTBITS (sizeof(optbit_names) / sizeof(optbit_names[0]))

static void
usage(FILE *out)
{
	(void)fprintf(out,
	    "Usage: " CLI_PROG
	    " [enroll] [--user NAME] [--force] [--no-confirm] [--json]\n"
	    "         [--issuer TEXT] [--label TEXT] [--algorithm "
	    "SHA1|SHA256|SHA512]\n"
	    "         [--digits 6-8] [--period 15-300] [--qr utf8|ansi|none]\n"
	    "       " CLI_PROG " --user NAME --deliver ADDRESS [--digits N]\n"
	    "       " CLI_PROG " status [USER...] [--json]\n"
	    "       " CLI_PROG " list [--json]\n"
	    "       " CLI_PROG " reset USER [--yes]\n"
	    "       " CLI_PROG " disable [USER] [--yes]\n"
	    "       " CLI_PROG " backup-codes [USER] [--json]\n"
	    "       " CLI_PROG " unlock USER\n"
	    "       " CLI_PROG " check [USER] [--json]\n"
	    "       " CLI_PROG
	    " import [--user NAME] [--owner NAME] [--force] [--json] "
	    "[FILE]\n"
	    "       " CLI_PROG " import --from pam_oath --usersfile FILE "
	    "[USER...]\n"
	    "       " CLI_PROG " doctor [--json]\n"
	    "       " CLI_PROG " grace USER [--reset | --extend DAYS]\n"
	    "       " CLI_PROG " key init [--sealed|--plain]|status|rotate|"
	    "encrypt-store\n       " CLI_PROG " rename OLD NEW\n"
	    "Common options: --config FILE, --option KEY=VALUE, --help, "
	    "--version\n\n"
	    "Enrol a TOTP authenticator app for pam_flowtotp logins, and "
	    "manage\n"
	    "enrolments.  Non-root callers act only on themselves.  'import' "
	    "takes\nusers over from pam_google_authenticator (FILE, default "
	    "~/.google_authenticator)\nor pam_oath: same secret, new backup "
	    "codes; the old files are left alone.\n\n"
	    "  -u, --user NAME      act on NAME (root only, unless NAME is "
	    "you)\n"
	    "  -c, --config FILE    read FILE instead of " FT_CONF_DEFAULT "\n"
	    "  -o, --option K=V     apply one option as on the module's pam.d "
	    "line\n"
	    "  -f, --force          replace an existing enrolment (enroll, "
	    "import)\n"
	    "  -n, --no-confirm     save without asking for a code from the "
	    "app\n"
	    "  -y, --yes            do not ask before reset or disable\n"
	    "  -j, --json           machine-readable output\n"
	    "      --issuer TEXT    issuer shown in the app (default: config, "
	    "hostname)\n"
	    "      --label TEXT     account shown in the app (default: user or "
	    "user@host)\n"
	    "      --algorithm A    SHA1 (default), SHA256 or SHA512\n"
	    "      --digits N       6 (default) to 8\n"
	    "      --period S       15 to 300 seconds (default 30)\n"
	    "      --qr MODE        utf8, ansi or none (default: utf8 in a "
	    "UTF-8 locale)\n"
	    "      --owner NAME     import a FILE owned by NAME (root only)\n"
	    "  -h, --help           this text (COMMAND --help: that "
	    "command's)\n"
	    "  -V, --version        the version\n"
	    "\n"
	    "Exit status: 0 ok, 1 failure or code not accepted, 2 usage, 3 not "
	    "enrolled,\n"
	    "4 permission denied, 5 already enrolled; doctor: 6 warnings, 7 "
	    "errors.\nSee totp-enroll(1).\n");
}

/* ---- option values ---- */

static int
parse_uint(
    const char *s, unsigned lo, unsigned hi, const char *opt, unsigned *out)
{
	unsigned long v;
	char *end = NULL;

	errno = 0;
	if (s[0] < '0' || s[0] > '9')
		goto bad;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		goto bad;
	*out = (unsigned)v;
	return CLI_EX_OK;
bad:
	return cli_err(CLI_EX_USAGE,
	    "%s: expected a number from %u to %u, "
	    "got '%s'",
	    opt, lo, hi, s);
}

static int
parse_qr(const char *s, enum cli_qr_mode *out)
{
	if (strcmp(s, "utf8") == 0)
		*out = CLI_QR_UTF8;
	else if (strcmp(s, "ansi") == 0)
		*out = CLI_QR_ANSI;
	else if (strcmp(s, "none") == 0)
		*out = CLI_QR_NONE;
	else if (strcmp(s, "utf8-inverted") == 0)
		*out = CLI_QR_UTF8_INVERTED;
	else
		return cli_err(CLI_EX_USAGE,
		    "--qr: expected utf8, utf8-inverted, ansi or none, "
		    "got '%s'",
		    s);
	return CLI_EX_OK;
}

static int
parse_text(const char *s, const char *opt, const char **out)
{
	const unsigned char *p;

	if (s[0] == '\0' || strlen(s) >= CLI_LABEL_MAX)
		return cli_err(CLI_EX_USAGE, "%s: expected 1 to %u bytes", opt,
		    CLI_LABEL_MAX - 1);
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < ' ' || *p == 0x7fU)
			return cli_err(CLI_EX_USAGE,
			    "%s: control characters are not allowed", opt);
	*out = s;
	return CLI_EX_OK;
}

struct parsed {
	const char *config;
	const char **setopts; /* --option values, in order */
	size_t nsetopts;
};

/* import --from SYSTEM, --usersfile FILE: checked by the command. */
static int
parse_import(int c, struct cli_opts *o)
{
	if (c == OPT_FROM) {
		o->seen |= CLI_O_FROM;
		o->from = optarg;
	} else {
		o->seen |= CLI_O_USERSFILE;
		o->usersfile = optarg;
	}
	return CLI_EX_OK;
}

/* grace --reset, grace --extend DAYS. */
static int
parse_grace(int c, struct cli_opts *o)
{
	if (c == OPT_RESET) {
		o->seen |= CLI_O_RESET;
		o->reset = true;
		return CLI_EX_OK;
	}
	o->seen |= CLI_O_EXTEND;
	return parse_uint(
	    optarg, 1, FT_GRACE_DAYS_MAX, "--extend", &o->extend_days);
}

/* The options of one command each: import --from/--usersfile, key init
 * --sealed/--plain (where the new store key goes), enroll --deliver. */
static int
parse_command_opt(int c, struct cli_opts *o)
{
	switch (c) {
	case OPT_FROM:
	case OPT_USERSFILE: return parse_import(c, o);
	case OPT_SEALED:
	case OPT_PLAIN:
		o->seen |= c == OPT_SEALED ? CLI_O_SEALED : CLI_O_PLAIN;
		o->key_mode = c == OPT_SEALED ? CLI_KEY_SEALED : CLI_KEY_PLAIN;
		break;
	default:
		o->seen |= CLI_O_DELIVER;
		o->deliver = optarg;
		break;
	}
	return CLI_EX_OK;
}

static int
parse_one(int c, struct cli_opts *o, struct parsed *pa)
{
	switch (c) {
	case 'u':
		o->seen |= CLI_O_USER;
		o->user = optarg;
		break;
	case 'c': pa->config = optarg; break;
	case 'o': pa->setopts[pa->nsetopts++] = optarg; break;
	case 'f':
		o->seen |= CLI_O_FORCE;
		o->force = true;
		break;
	case 'y':
		o->seen |= CLI_O_YES;
		o->yes = true;
		break;
	case 'n':
		o->seen |= CLI_O_NOCONFIRM;
		o->no_confirm = true;
		break;
	case 'j':
		o->seen |= CLI_O_JSON;
		o->json = true;
		break;
	case OPT_ISSUER:
		o->seen |= CLI_O_ISSUER;
		return parse_text(optarg, "--issuer", &o->issuer);
	case OPT_LABEL:
		o->seen |= CLI_O_LABEL;
		return parse_text(optarg, "--label", &o->label);
	case OPT_ALGO:
		o->seen |= CLI_O_ALGO;
		if (ft_algo_parse(optarg, &o->algo) != FT_OK)
			return cli_err(CLI_EX_USAGE,
			    "--algorithm: expected "
			    "SHA1, SHA256 or SHA512, got '%s'",
			    optarg);
		break;
	case OPT_DIGITS:
		o->seen |= CLI_O_DIGITS;
		return parse_uint(optarg, FT_DIGITS_MIN, FT_DIGITS_MAX,
		    "--digits", &o->digits);
	case OPT_PERIOD:
		o->seen |= CLI_O_PERIOD;
		return parse_uint(optarg, FT_PERIOD_MIN, FT_PERIOD_MAX,
		    "--period", &o->period);
	case OPT_QR: o->seen |= CLI_O_QR; return parse_qr(optarg, &o->qr);
	case OPT_OWNER:
		o->seen |= CLI_O_OWNER;
		o->owner = optarg;
		break;
	case OPT_RESET:
	case OPT_EXTEND: return parse_grace(c, o);
	case OPT_FROM:
	case OPT_USERSFILE:
	case OPT_SEALED:
	case OPT_PLAIN:
	case OPT_DELIVER: return parse_command_opt(c, o);
	default: return CLI_EX_USAGE; /* getopt printed why */
	}
	return CLI_EX_OK;
}

/* ---- configuration ---- */

static int
load_config(struct cli_ctx *ctx, const struct parsed *pa)
{
	char err[CLI_ERRLEN];
	size_t i;
	int rc;

	ft_config_defaults(&ctx->cfg);
	err[0] = '\0';
	if (pa->config != NULL)
		rc = ft_config_load_file(
		    &ctx->cfg, pa->config, false, err, sizeof(err));
	else
		rc = ft_config_load_file(
		    &ctx->cfg, FT_CONF_DEFAULT, true, err, sizeof(err));
	/* err already names the file (and the line); every configuration
	 * problem is a usage error, as totp-enroll(1) says. */
	if (rc != FT_OK)
		return cli_err(CLI_EX_USAGE, "%s", err);
	for (i = 0; i < pa->nsetopts; i++) {
		rc = ft_config_set_arg(
		    &ctx->cfg, pa->setopts[i], err, sizeof(err));
		if (rc != FT_OK)
			return cli_err(CLI_EX_USAGE, "--option %s: %s",
			    pa->setopts[i], err);
	}
	if (ft_config_check(&ctx->cfg, err, sizeof(err)) != FT_OK)
		return cli_err(CLI_EX_USAGE, "%s", err);
	return CLI_EX_OK;
}

static const struct command *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int
check_options(const struct command *cmd, unsigned seen)
{
	size_t i;

	for (i = 0; i < NOPTBITS; i++)
		if ((seen & (1U << i)) != 0 && (cmd->opts & (1U << i)) == 0)
			return cli_err(CLI_EX_USAGE, "%s does not apply to %s",
			    optbit_names[i], cmd->name);
	return CLI_EX_OK;
}

static void
opts_defaults(struct cli_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->algo = FT_ALGO_SHA1;
	o->digits = FT_DIGITS_DEFAULT;
	o->period = FT_PERIOD_DEFAULT;
	o->qr = CLI_QR_AUTO;
}

/* --help and --version are answered once every option has been read, since
 * GNU getopt permutes and the command may come after them: `list --help`
 * is list's text, `-V extra` a usage error. */
enum early { EARLY_NONE, EARLY_HELP, EARLY_VERSION };

/* CLI_EX_OK and *done false to go on; else an exit code. */
static int
answer_early(enum early e, int argc, char **argv, bool *done)
{
	*done = e != EARLY_NONE;
	if (e == EARLY_VERSION) {
		if (optind < argc)
			return cli_err(CLI_EX_USAGE,
			    "--version takes no operands (got '%s')",
			    argv[optind]);
		(void)printf(
		    CLI_PROG " (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
	} else if (e == EARLY_HELP) {
		if (optind >= argc)
			usage(stdout);
		else if (!cli_help_command(stdout, argv[optind]))
			return cli_err(
			    CLI_EX_USAGE, "unknown command '%s'", argv[optind]);
	}
	return CLI_EX_OK;
}

/* Read every option; *cmd is the command named (enroll by default). */
static int
parse_args(struct cli_ctx *ctx, struct parsed *pa, int argc, char **argv,
    const struct command **cmd, bool *done)
{
	enum early e = EARLY_NONE;
	int c, ex = CLI_EX_OK;

	/* GNU getopt permutes: options may follow the command and users. */
	while ((c = getopt_long(argc, argv, SHORTOPTS, longopts, NULL)) != -1 &&
	    ex == CLI_EX_OK) {
		if (c == 'h')
			e = EARLY_HELP;
		else if (c == 'V' && e == EARLY_NONE)
			e = EARLY_VERSION;
		else if (c != 'V')
			ex = parse_one(c, &ctx->o, pa);
	}
	if (ex != CLI_EX_OK)
		return ex;
	if ((ex = answer_early(e, argc, argv, done)) != CLI_EX_OK || *done)
		return ex;
	if (optind < argc) {
		*cmd = find_command(argv[optind]);
		if (*cmd == NULL)
			return cli_err(
			    CLI_EX_USAGE, "unknown command '%s'", argv[optind]);
		optind++;
	}
	return check_options(*cmd, ctx->o.seen);
}

static int
run(struct cli_ctx *ctx, int argc, char **argv)
{
	const struct command *cmd = &commands[0];
	struct parsed pa = {NULL, NULL, 0};
	bool done = false;
	int ex;

	pa.setopts = calloc((size_t)argc + 1, sizeof(*pa.setopts));
	if (pa.setopts == NULL)
		return cli_err(CLI_EX_FAIL, "out of memory");
	opts_defaults(&ctx->o);
	if ((ex = parse_args(ctx, &pa, argc, argv, &cmd, &done)) != CLI_EX_OK)
		goto usage;
	if (done)
		goto out;
	if ((ex = cli_caller_init(ctx)) != CLI_EX_OK)
		goto out;
	ctx->config_path = pa.config != NULL ? pa.config : FT_CONF_DEFAULT;
	/* doctor reads the file itself (a broken one is a finding, not a
	 * failure) and checks what the module reads, which --option is not. */
	if (cmd->fn == cmd_doctor && pa.nsetopts > 0) {
		ex = cli_err(CLI_EX_USAGE, "--option does not apply to doctor");
		goto usage;
	}
	if (cmd->fn != cmd_doctor && (ex = load_config(ctx, &pa)) != CLI_EX_OK)
		goto out;
	/* A user's own commands against the root store: the helper. */
	ex = cli_helper_handoff(ctx, cmd->name, argc - optind, argv + optind,
	    pa.config != NULL || pa.nsetopts > 0);
	if (ex < 0)
		ex = cmd->fn(ctx, argc - optind, argv + optind);
	goto out;
usage:
	(void)fputs("Try '" CLI_PROG " --help'.\n", stderr);
out:
	free(pa.setopts);
	return ex;
}

int
main(int argc, char **argv)
{
	struct cli_ctx *ctx;
	int ex;

	(void)setlocale(LC_CTYPE, "");
	(void)umask(STORE_UMASK);
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return cli_err(CLI_EX_FAIL, "out of memory");
	ex = run(ctx, argc, argv);
	free(ctx);
	if (fflush(stdout) != 0 || ferror(stdout))
		return cli_err(CLI_EX_FAIL, "error writing output");
	return ex;
}
