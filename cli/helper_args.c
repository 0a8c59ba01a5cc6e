/* flowtotp-helper's argument grammar (see helper.h).  It sees words from
 * an untrusted caller before anything else does, so it only compares them
 * with a fixed table: no allocation, no conversion, bounded lengths. */
#include <config.h>

#include <string.h>

#include "helper.h"

struct verb {
	const char *name;
	enum cli_helper_verb verb;
	bool json_ok;
	bool qr_ok;
};

static const struct verb verbs[] = {
    {"status", CLI_HV_STATUS, true, false},
    {"check", CLI_HV_CHECK, true, false},
    {"enroll", CLI_HV_ENROLL, false, true},
    {"backup-codes", CLI_HV_BACKUP, true, false},
    {"disable", CLI_HV_DISABLE, false, false},
    {"import", CLI_HV_IMPORT, true, false},
};
#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

struct qrword {
	const char *word;
	enum cli_helper_qr qr;
};

static const struct qrword qrwords[] = {
    {"--qr=utf8", CLI_HQR_UTF8},
    {"--qr=ansi", CLI_HQR_ANSI},
    {"--qr=none", CLI_HQR_NONE},
    {"--qr=utf8-inverted", CLI_HQR_UTF8_INVERTED},
};
#define NQRWORDS (sizeof(qrwords) / sizeof(qrwords[0]))

/* A word of bounded length (argv strings come from the caller). */
static bool
word_ok(const char *w)
{
	return w != NULL && strnlen(w, CLI_HELPER_ARG_MAX) < CLI_HELPER_ARG_MAX;
}

static int
parse_flag(const char *w, const struct verb *v, struct cli_helper_req *req,
    const char **why)
{
	size_t i;

	if (strcmp(w, "--json") == 0) {
		if (!v->json_ok || req->json)
			goto bad;
		req->json = true;
		return 0;
	}
	for (i = 0; i < NQRWORDS; i++)
		if (strcmp(w, qrwords[i].word) == 0) {
			if (!v->qr_ok || req->qr != CLI_HQR_AUTO)
				goto bad;
			req->qr = qrwords[i].qr;
			return 0;
		}
bad:
	*why = "unexpected argument (the helper takes a command and "
	       "--json or --qr=MODE only)";
	return -1;
}

int
cli_helper_parse(int argc, const char *const *argv, struct cli_helper_req *req,
    const char **why)
{
	const struct verb *v = NULL;
	size_t i;
	int k;

	memset(req, 0, sizeof(*req));
	*why = "usage: flowtotp-helper status|check|enroll|backup-codes|"
	       "disable|import [--json] [--qr=MODE]";
	if (argv == NULL || argc < 2 || (unsigned)argc > CLI_HELPER_ARGC_MAX)
		return -1;
	for (k = 1; k < argc; k++)
		if (!word_ok(argv[k]))
			return -1;
	for (i = 0; i < NVERBS && v == NULL; i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			v = &verbs[i];
	if (v == NULL)
		return -1;
	req->verb = v->verb;
	req->verb_name = v->name;
	for (k = 2; k < argc; k++)
		if (parse_flag(argv[k], v, req, why) != 0)
			return -1;
	return 0;
}
