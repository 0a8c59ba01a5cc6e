/* flowtotp-helper's argument grammar, in a file of its own so that the
 * fuzz target (tests/fuzz/fuzz_helper_args.c) links it alone.
 *
 *   flowtotp-helper VERB [FLAG...]
 *   VERB  status | check | enroll | backup-codes | disable | import
 *   FLAG  --json (status, check, backup-codes, import)
 *         --qr=utf8 | --qr=utf8-inverted | --qr=ansi | --qr=none (enroll)
 * Each flag at most once; nothing else (no user, no file, no config). */
#ifndef FLOWTOTP_CLI_HELPER_H
#define FLOWTOTP_CLI_HELPER_H

#include <stdbool.h>
#include <stddef.h>

#define CLI_HELPER_ARGC_MAX 4U /* program, verb, two flags */
#define CLI_HELPER_ARG_MAX 32U /* longer than any word of the grammar */

enum cli_helper_verb {
	CLI_HV_STATUS = 0,
	CLI_HV_CHECK,
	CLI_HV_ENROLL,
	CLI_HV_BACKUP,
	CLI_HV_DISABLE,
	CLI_HV_IMPORT,
};

enum cli_helper_qr {
	CLI_HQR_AUTO = 0,
	CLI_HQR_UTF8,
	CLI_HQR_ANSI,
	CLI_HQR_NONE,
	CLI_HQR_UTF8_INVERTED
};

struct cli_helper_req {
	enum cli_helper_verb verb;
	const char *verb_name; /* static, for messages and the log */
	bool json;
	enum cli_helper_qr qr;
};

/* 0 with req filled, or -1 with *why a static message. */
int cli_helper_parse(int argc, const char *const *argv,
    struct cli_helper_req *req, const char **why);

#endif
