/* The google-authenticator file parser of `totp-enroll import`
 * (cli/gafile.c): the secret, STEP_SIZE, the options that are ignored, the
 * scratch codes, and every refusal; an error never quotes the secret. */
#include <config.h>

#include <string.h>

#include "gafile.h"
#include "otp.h"
#include "rc.h"
#include "tap.h"

/* RFC 6238's SHA1 test key, "12345678901234567890". */
#define KEY20 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
#define KEY20_LC "gezdgnbvgy3tqojqgezdgnbvgy3tqojq"
#define ERRLEN 256U

static int
parse(const char *text, struct cli_ga *g, char *err)
{
	err[0] = '\0';
	return cli_ga_parse(text, strlen(text), g, err, ERRLEN);
}

static void
test_good(void)
{
	struct cli_ga g;
	char err[ERRLEN];
	int rc;

	rc = parse(KEY20
	    "\n\" RATE_LIMIT 3 30 1700000000 1700000001\n"
	    "\" WINDOW_SIZE 17\n\" DISALLOW_REUSE 56666666\n\" TOTP_AUTH\n"
	    "12345678\n23456789\n34567890\n",
	    &g, err);
	is_int(rc, FT_OK, "a typical file parses (%s)", err);
	ok(g.keylen == 20 && memcmp(g.key, "12345678901234567890", 20) == 0,
	    "the secret decodes to the 20 key bytes");
	is_int(g.period, FT_PERIOD_DEFAULT, "no STEP_SIZE: 30 seconds");
	is_int(g.nscratch, 3, "three scratch codes counted");
	is_int(g.ignored,
	    CLI_GA_RATE_LIMIT | CLI_GA_WINDOW_SIZE | CLI_GA_DISALLOW_REUSE,
	    "ignored options noted");
	cli_ga_wipe(&g);

	rc = parse(KEY20_LC "\n\" STEP_SIZE 60\n\" TOTP_AUTH\n", &g, err);
	ok(rc == FT_OK && g.keylen == 20 && g.period == 60,
	    "lower case secret, STEP_SIZE 60");
	rc = parse(KEY20, &g, err);
	ok(rc == FT_OK && g.keylen == 20 && g.nscratch == 0,
	    "just the secret, no newline");
	rc = parse(KEY20 "\r\n\" TOTP_AUTH\r\n12345678\r\n", &g, err);
	ok(rc == FT_OK && g.nscratch == 1, "CRLF line ends");
	rc = parse(KEY20 "\n\" TIME_SKEW -2\n\" RESETTING_TIME_SKEW "
			 "1700000000+2 1700000030-1\n\" FUTURE_THING a b\n\n",
	    &g, err);
	ok(rc == FT_OK &&
		g.ignored ==
		    (CLI_GA_TIME_SKEW | CLI_GA_RESETTING_TIME_SKEW |
			CLI_GA_OTHER),
	    "TIME_SKEW, RESETTING_TIME_SKEW, unknown options, a blank line");
	rc = parse("GEZDGNBVGY3TQOJQ\n", &g, err);
	ok(rc == FT_OK && g.keylen == FT_KEY_MIN,
	    "16 characters (10 bytes, the minimum)");
	cli_ga_wipe(&g);
	/* flowtotp(5) takes spaces in a secret; so does the import. */
	rc = parse("GEZDGNBV GY3TQOJQ\n", &g, err);
	ok(rc == FT_OK && g.keylen == FT_KEY_MIN,
	    "a space in the secret is skipped (%s)", err);
	rc = parse(KEY20 "\n\" STEP_SIZE 15\n", &g, err);
	ok(rc == FT_OK && g.period == 15, "STEP_SIZE 15 (the lowest)");
	rc = parse(KEY20 "\n\" STEP_SIZE 300\n", &g, err);
	ok(rc == FT_OK && g.period == 300, "STEP_SIZE 300 (the highest)");
	cli_ga_wipe(&g);
}

struct bad {
	const char *text;
	size_t len; /* 0: strlen */
	int rc;
	const char *msg; /* expected in err */
	const char *what;
};

static const struct bad bads[] = {
    {"", 0, FT_ERR_PARSE, "empty", "an empty file"},
    {"\n" KEY20 "\n", 0, FT_ERR_PARSE, "line 1", "a blank first line"},
    {"\" TOTP_AUTH\n" KEY20 "\n", 0, FT_ERR_PARSE, "line 1", "an option first"},
    {"GEZDGNBVGY3TQOJ1GEZDGNBVGY3TQOJQ\n", 0, FT_ERR_PARSE, "base32",
	"a '1' in the secret"},
    {"GEZDGNBVGY3TQOJQG\n", 0, FT_ERR_PARSE, "base32",
	"an impossible base32 length"},
    {"GEZDGNBVGY3TQOJQGEZDGNBVGB\n", 0, FT_ERR_PARSE, "base32",
	"stray trailing bits"},
    {"GEZDGNBVGY3TQ===\n", 0, FT_ERR_PARSE, "too short", "8 bytes: too short"},
    {KEY20 "\n\" HOTP_COUNTER 1\n", 0, FT_ERR_UNSUPPORTED, "HOTP",
	"HOTP refused"},
    {KEY20 "\n\" STEP_SIZE 10\n", 0, FT_ERR_PARSE, "15 to 300", "STEP_SIZE 10"},
    {KEY20 "\n\" STEP_SIZE 301\n", 0, FT_ERR_PARSE, "15 to 300",
	"STEP_SIZE 301"},
    {KEY20 "\n\" STEP_SIZE 99999999999999999999999\n", 0, FT_ERR_PARSE,
	"STEP_SIZE", "STEP_SIZE overlong"},
    {KEY20 "\n\" STEP_SIZE abc\n", 0, FT_ERR_PARSE, "one number",
	"STEP_SIZE abc"},
    {KEY20 "\n\" STEP_SIZE 30\n\" STEP_SIZE 60\n", 0, FT_ERR_PARSE, "twice",
	"STEP_SIZE twice"},
    {KEY20 "\n\"TOTP_AUTH\n", 0, FT_ERR_PARSE, "line 2",
	"no space after the quote"},
    {KEY20 "\n\" \n", 0, FT_ERR_PARSE, "line 2", "no option name"},
    {KEY20 "\n\" totp_auth\n", 0, FT_ERR_PARSE, "line 2",
	"a lower case option name"},
    {KEY20 "\n\" TOTP_AUTH yes\n", 0, FT_ERR_PARSE, "TOTP_AUTH",
	"TOTP_AUTH with an argument"},
    {KEY20 "\n\" WINDOW_SIZE\n", 0, FT_ERR_PARSE, "WINDOW_SIZE",
	"WINDOW_SIZE without a number"},
    {KEY20 "\n\" RATE_LIMIT 3\n", 0, FT_ERR_PARSE, "RATE_LIMIT",
	"RATE_LIMIT with one number"},
    {KEY20 "\n\" TIME_SKEW x\n", 0, FT_ERR_PARSE, "TIME_SKEW", "TIME_SKEW x"},
    {KEY20 "\n1234567\n", 0, FT_ERR_PARSE, "line 2", "a 7-digit scratch code"},
    {KEY20 "\nhello\n", 0, FT_ERR_PARSE, "line 2", "a stray line"},
    {KEY20 "\n\" TOTP_AUTH\tx\n", 0, FT_ERR_PARSE, "control", "a tab"},
    {KEY20 "\n10000001\n10000002\n10000003\n10000004\n10000005\n"
	   "10000006\n10000007\n10000008\n10000009\n10000010\n10000011\n",
	0, FT_ERR_PARSE, "more than 10", "eleven scratch codes"},
    {KEY20 "\n\" TOTP_AUTH\n\0\n", sizeof(KEY20) + 14, FT_ERR_PARSE,
	"line 3: NUL", "a NUL byte"},
};

static void
test_bad(void)
{
	struct cli_ga g;
	char err[ERRLEN];
	size_t i, len;
	int rc;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		len = bads[i].len != 0 ? bads[i].len : strlen(bads[i].text);
		memset(&g, 0xa5, sizeof(g));
		err[0] = '\0';
		rc = cli_ga_parse(bads[i].text, len, &g, err, sizeof(err));
		ok(rc == bads[i].rc && strstr(err, bads[i].msg) != NULL &&
			g.keylen == 0 && g.key[0] == 0,
		    "refused: %s", bads[i].what);
		if (rc != bads[i].rc || strstr(err, bads[i].msg) == NULL)
			diag("rc %d, err \"%s\"", rc, err);
		ok(strstr(err, "GEZDGNBV") == NULL &&
			strstr(err, "1000000") == NULL,
		    "the message quotes no secret or code: %s", bads[i].what);
	}
}

static void
test_args(void)
{
	struct cli_ga g;
	char err[ERRLEN];

	is_int(cli_ga_parse(KEY20, strlen(KEY20), NULL, err, sizeof(err)),
	    FT_ERR_ARG, "NULL output");
	is_int(cli_ga_parse(NULL, 0, &g, err, sizeof(err)), FT_ERR_ARG,
	    "NULL input");
	is_int(cli_ga_parse(KEY20, CLI_GA_MAX_SIZE + 1U, &g, err, sizeof(err)),
	    FT_ERR_PARSE, "over the size bound");
	ok(cli_ga_ignored_name(0) != NULL &&
		strcmp(cli_ga_ignored_name(0), "WINDOW_SIZE") == 0 &&
		cli_ga_ignored_name(CLI_GA_NIGNORED) == NULL,
	    "ignored names");
}

int
main(void)
{
	test_good();
	test_bad();
	test_args();
	return done_testing();
}
