/* totp-enroll COMMAND --help: the synopsis, what the command does and the
 * options that apply to it, so an admin asking about one command is not
 * handed the whole manual.  The texts follow totp-enroll(1). */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "cli.h"

struct help {
	const char *cmd;
	const char *text;
};

#define COMMON_OPTS                                                            \
	"  -c, --config FILE    read FILE instead of " FT_CONF_DEFAULT "\n"    \
	"  -o, --option K=V     apply one option as on the module's pam.d "    \
	"line\n"                                                               \
	"  -h, --help           this text\n"
#define USER_OPT "  -u, --user NAME      act on NAME (root only, unless you)\n"
#define JSON_OPT "  -j, --json           machine-readable output\n"
#define YES_OPT "  -y, --yes            do not ask for confirmation\n"

static const struct help helps[] = {
    {"enroll",
	"Usage: " CLI_PROG " [enroll] [--user NAME] [--force] [--no-confirm] "
	"[--json]\n"
	"         [--issuer TEXT] [--label TEXT] [--algorithm "
	"SHA1|SHA256|SHA512]\n"
	"         [--digits 6-8] [--period 15-300] [--qr utf8|ansi|none]\n"
	"Enrol an authenticator app: show the secret, confirm a code, print "
	"backup codes.\n\n" USER_OPT
	"  -f, --force          replace an existing enrolment\n"
	"  -n, --no-confirm     save without asking for a code from the app\n"
	"      --issuer TEXT    issuer shown in the app\n"
	"      --label TEXT     account shown in the app\n"
	"      --algorithm A    SHA1 (default), SHA256 or SHA512\n"
	"      --digits N       6 (default) to 8\n"
	"      --period S       15 to 300 seconds (default 30)\n"
	"      --qr MODE        utf8, ansi or none\n"
	"      --deliver ADDR   no app: codes sent to ADDR by deliver= (root "
	"only)\n" JSON_OPT COMMON_OPTS},
    {"status",
	"Usage: " CLI_PROG " status [USER...] [--user NAME] [--json]\n"
	"Show enrolment and lockout of each user (you when none is named); "
	"read-only.\n\n" USER_OPT JSON_OPT COMMON_OPTS},
    {"list",
	"Usage: " CLI_PROG " list [--json]\n"
	"List every enrolled user with their status (root only).\n\n" JSON_OPT
	    COMMON_OPTS},
    {"reset",
	"Usage: " CLI_PROG " reset USER [--yes]\n"
	"Remove a user's secret and login state so they can enrol again "
	"(root only).\n\n" USER_OPT YES_OPT COMMON_OPTS},
    {"disable",
	"Usage: " CLI_PROG " disable [USER] [--yes]\n"
	"Remove an enrolment (yours after a current code, anyone's as "
	"root).\n\n" USER_OPT YES_OPT COMMON_OPTS},
    {"backup-codes",
	"Usage: " CLI_PROG " backup-codes [USER] [--json]\n"
	"Issue a new set of backup codes; the old ones stop "
	"working.\n\n" USER_OPT JSON_OPT COMMON_OPTS},
    {"unlock",
	"Usage: " CLI_PROG " unlock USER\n"
	"Clear a user's lockout (root only).\n\n" USER_OPT COMMON_OPTS},
    {"check",
	"Usage: " CLI_PROG " check [USER] [--json]\n"
	"Read a TOTP code and say at which time step offset it matches "
	"(not backup codes).\n\n" USER_OPT JSON_OPT COMMON_OPTS},
    {"import",
	"Usage: " CLI_PROG
	" import [--from google-authenticator] [--user NAME] "
	"[--owner NAME]\n"
	"         [--force] [--json] [FILE]\n"
	"       " CLI_PROG " import --from pam_oath --usersfile FILE [--force] "
	"[--json] [USER...]\n"
	"Take users over from pam_google_authenticator (FILE, default "
	"~/.google_authenticator)\nor from pam_oath's usersfile (the USERs "
	"named, or all; root only): same secret,\ndigits and period, new "
	"backup codes.  The old files are left as they are.\n\n" USER_OPT
	"      --owner NAME     FILE belongs to NAME, not the user (root "
	"only)\n"
	"      --from SYSTEM    google-authenticator (default) or pam_oath\n"
	"      --usersfile FILE pam_oath's usersfile= (with --from pam_oath)\n"
	"  -f, --force          replace an existing enrolment\n" JSON_OPT
	    COMMON_OPTS},
    {"grace",
	"Usage: " CLI_PROG " grace USER [--reset | --extend DAYS]\n"
	"Show a user's grace_days record; --reset removes it (the grace "
	"starts again),\n--extend adds DAYS (root only).\n\n"
	"      --reset          remove the grace record\n"
	"      --extend DAYS    add DAYS to the grace\n" USER_OPT COMMON_OPTS},
    {"key",
	"Usage: " CLI_PROG " key init [--sealed|--plain] | key status | key "
	"rotate |\n       key encrypt-store\n"
	"Manage the store key that encrypts the secrets of the root store "
	"(root only):\ninit makes one (sealed with systemd-creds, or "
	"--plain), status counts the\nfiles per key, rotate moves every "
	"file to a new key (run it again to resume),\nencrypt-store "
	"encrypts the plain files.\n\n"
	"      --sealed         key init: seal with systemd-creds (the "
	"default)\n"
	"      --plain          key init: a plain root-only key "
	"file\n" COMMON_OPTS},
    {"rename",
	"Usage: " CLI_PROG " rename OLD NEW\n"
	"After usermod -l, move OLD's secret to NEW, re-encrypted for the "
	"new name (root\nonly).\n\n" COMMON_OPTS},
    {"doctor",
	"Usage: " CLI_PROG " doctor [--json] [--config FILE]\n"
	"Check this machine's PAM, sshd, sudo, store, cache and clock setup "
	"(root only).\n\n" JSON_OPT
	"  -c, --config FILE    check FILE instead of " FT_CONF_DEFAULT "\n"
	"  -h, --help           this text\n"},
};
#define NHELPS (sizeof(helps) / sizeof(helps[0]))

bool
cli_help_command(FILE *out, const char *cmd)
{
	size_t i;

	for (i = 0; i < NHELPS; i++) {
		if (strcmp(helps[i].cmd, cmd) != 0)
			continue;
		(void)fputs(helps[i].text, out);
		(void)fputs("See totp-enroll(1).\n", out);
		return true;
	}
	return false;
}
