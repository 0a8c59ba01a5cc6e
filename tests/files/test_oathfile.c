/* The oath-toolkit usersfile parser of `totp-enroll import --from pam_oath`
 * (cli/oathfile.c): every TYPE, the PIN flag, the optional state fields,
 * comments and blank lines, and every refusal; an error never quotes the
 * secret. */
#include <config.h>

#include <string.h>

#include "oathfile.h"
#include "otp.h"
#include "rc.h"
#include "tap.h"

/* RFC 6238's SHA1 test key, "12345678901234567890", in hex. */
#define HEX20 "3132333435363738393031323334353637383930"
#define ERRLEN 256U
#define NENTRIES 8U

struct got {
	struct cli_oath_entry e[NENTRIES];
	unsigned n;
	char err[ERRLEN];
};

/* Read every entry of text into g; the last return code. */
static int
read_all(const char *text, size_t len, struct got *g)
{
	struct cli_oath_reader r;
	struct cli_oath_entry e;
	int rc;

	memset(g, 0, sizeof(*g));
	rc = cli_oath_begin(&r, text, len, g->err, sizeof(g->err));
	if (rc != FT_OK)
		return rc;
	while ((rc = cli_oath_next(&r, &e, g->err, sizeof(g->err))) == 1)
		if (g->n < NENTRIES)
			g->e[g->n++] = e;
	cli_oath_wipe(&e);
	return rc;
}

static int
read_str(const char *text, struct got *g)
{
	return read_all(text, strlen(text), g);
}

static void
test_types(void)
{
	static const struct {
		const char *type;
		enum cli_oath_kind kind;
		unsigned digits, period;
	} cases[] = {
	    {"HOTP/T30", CLI_OATH_TOTP, 6, 30},
	    {"HOTP/T30/6", CLI_OATH_TOTP, 6, 30},
	    {"HOTP/T30/7", CLI_OATH_TOTP, 7, 30},
	    {"HOTP/T30/8", CLI_OATH_TOTP, 8, 30},
	    {"HOTP/T60", CLI_OATH_TOTP, 6, 60},
	    {"HOTP/T60/8", CLI_OATH_TOTP, 8, 60},
	    {"HOTP", CLI_OATH_HOTP, 6, 0},
	    {"HOTP/E", CLI_OATH_HOTP, 6, 0},
	    {"HOTP/E/8", CLI_OATH_HOTP, 8, 0},
	};
	char line[ERRLEN];
	struct got g;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		(void)snprintf(line, sizeof(line), "%s alice - " HEX20 "\n",
		    cases[i].type);
		rc = read_str(line, &g);
		ok(rc == 0 && g.n == 1 && g.e[0].kind == cases[i].kind &&
			g.e[0].digits == cases[i].digits &&
			g.e[0].period == cases[i].period,
		    "TYPE %s: kind, %u digits, period %u", cases[i].type,
		    cases[i].digits, cases[i].period);
	}
}

static void
test_good(void)
{
	struct got g;
	int rc;

	rc = read_str("# a comment\n\n   \n  # indented comment\n"
		      "HOTP/T30\talice\t-\t" HEX20 "\n"
		      "HOTP/T60/8   bob  1234  " HEX20
		      "  0  12345678  2024-01-02T03:04:05L\r\n"
		      "HOTP carol - " HEX20 " 17\n"
		      "HOTP/T30 dave - 00112233445566778899AaBbCcDdEeFf",
	    &g);
	is_int(rc, 0, "a file of four entries reads to the end (%s)", g.err);
	is_int(g.n, 4, "four entries, comments and blank lines skipped");
	ok(strcmp(g.e[0].user, "alice") == 0 && g.e[0].line == 5 &&
		!g.e[0].pin && g.e[0].keylen == 20 &&
		memcmp(g.e[0].key, "12345678901234567890", 20) == 0,
	    "tab separated: user, line 5, no PIN, the 20 key bytes");
	ok(strcmp(g.e[1].user, "bob") == 0 && g.e[1].pin &&
		g.e[1].digits == 8 && g.e[1].period == 60,
	    "a PIN, the state fields and CRLF");
	ok(g.e[2].kind == CLI_OATH_HOTP && g.e[2].line == 7,
	    "an HOTP entry with a counter is returned as HOTP");
	ok(g.e[3].keylen == 16 && g.e[3].key[0] == 0x00 &&
		g.e[3].key[10] == 0xaa && g.e[3].key[15] == 0xff,
	    "mixed case hex, no final newline");

	rc = read_str("", &g);
	ok(rc == 0 && g.n == 0, "an empty file has no entries");
	rc = read_str("# only\n# comments\n", &g);
	ok(rc == 0 && g.n == 0, "only comments: no entries");
	rc = read_str("HOTP/T30 u - 31323334353637383930\n", &g);
	ok(rc == 0 && g.e[0].keylen == FT_KEY_MIN, "10 bytes: the minimum");
}

struct bad {
	const char *text;
	size_t len; /* 0: strlen */
	const char *msg;
	const char *what;
};

static const struct bad bads[] = {
    {"HOTP/T30 alice -\n", 0, "line 1: expected", "three fields"},
    {"HOTP/T30 alice - " HEX20 " 0 123456 2024-01-01T00:00:00L extra\n", 0,
	"more than 7", "eight fields"},
    {"TOTP alice - " HEX20 "\n", 0, "unknown TYPE", "TOTP"},
    {"hotp/t30 alice - " HEX20 "\n", 0, "unknown TYPE", "lower case TYPE"},
    {"HOTP/T90 alice - " HEX20 "\n", 0, "unknown TYPE", "HOTP/T90"},
    {"HOTP/T30/9 alice - " HEX20 "\n", 0, "unknown TYPE", "9 digits"},
    {"HOTP/T30/5 alice - " HEX20 "\n", 0, "unknown TYPE", "5 digits"},
    {"HOTP/T308 alice - " HEX20 "\n", 0, "unknown TYPE", "no slash"},
    {"HOTP/6 alice - " HEX20 "\n", 0, "unknown TYPE", "HOTP/6"},
    {"HOTP/T30 alice - " HEX20 "0\n", 0, "odd number", "odd hex length"},
    {"HOTP/T30 alice - 313233343536373839\n", 0, "9 bytes", "9 bytes"},
    {"HOTP/T30 alice - 3132333435363738393g\n", 0, "not hexadecimal",
	"a g in the hex"},
    {"HOTP/T30 alice - " HEX20 " x\n", 0, "counter", "a bad counter"},
    {"HOTP/T30 alice - " HEX20 " 0 12ab56\n", 0, "last OTP", "a bad OTP"},
    {"# fine\nHOTP/T30 alice - " HEX20 "\x01\n", 0, "line 2: control",
	"a control character"},
    {"HOTP/T30 alice - " HEX20 "\n\0\n", sizeof(HEX20) + 19, "line 2: NUL",
	"a NUL byte"},
};

static void
test_bad(void)
{
	struct got g;
	size_t i, len;
	int rc;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		len = bads[i].len != 0 ? bads[i].len : strlen(bads[i].text);
		rc = read_all(bads[i].text, len, &g);
		ok(rc == FT_ERR_PARSE && strstr(g.err, bads[i].msg) != NULL,
		    "refused: %s", bads[i].what);
		if (rc != FT_ERR_PARSE || strstr(g.err, bads[i].msg) == NULL)
			diag("rc %d, err \"%s\"", rc, g.err);
		ok(strstr(g.err, "31323334") == NULL,
		    "the message quotes no secret: %s", bads[i].what);
	}
}

static void
test_limits(void)
{
	static char big[CLI_OATH_MAX_SIZE + 2U];
	char line[CLI_OATH_LINE_MAX + 64U];
	struct got g;
	size_t n;
	int rc;

	memset(big, '#', sizeof(big));
	is_int(read_all(big, CLI_OATH_MAX_SIZE + 1U, &g), FT_ERR_PARSE,
	    "over the size bound");
	n = (size_t)snprintf(line, sizeof(line), "HOTP/T30 ");
	memset(line + n, 'u', CLI_OATH_USER_MAX);
	n += CLI_OATH_USER_MAX;
	(void)snprintf(line + n, sizeof(line) - n, " - " HEX20 "\n");
	rc = read_str(line, &g);
	ok(rc == FT_ERR_PARSE && strstr(g.err, "user name") != NULL,
	    "an overlong user name");
	memset(line, 'a', sizeof(line) - 1U);
	memcpy(line, "# ", 2);
	line[sizeof(line) - 1U] = '\0';
	rc = read_str(line, &g);
	ok(rc == FT_ERR_PARSE && strstr(g.err, "longer than") != NULL,
	    "an overlong line, even a comment");
	(void)snprintf(line, sizeof(line), "HOTP/T30 a - %0256d\n", 0);
	rc = read_str(line, &g);
	ok(rc == 0 && g.e[0].keylen == FT_KEY_MAX, "128 bytes: the maximum");
	(void)snprintf(line, sizeof(line), "HOTP/T30 a - %0258d\n", 0);
	rc = read_str(line, &g);
	ok(rc == FT_ERR_PARSE && strstr(g.err, "129 bytes") != NULL,
	    "129 bytes: too long");
	is_int(read_all(NULL, 0, &g), FT_ERR_ARG, "NULL input");
}

int
main(void)
{
	test_types();
	test_good();
	test_bad();
	test_limits();
	return done_testing();
}
