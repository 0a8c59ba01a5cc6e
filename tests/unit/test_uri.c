/* otpauth:// URIs and percent-encoding. */
#include <config.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "random.h"
#include "rc.h"
#include "tap.h"
#include "uri.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define BUFSZ 1024U
#define RANDOM_STRINGS 300U
#define RANDOM_LEN_MAX 40U

static const char *const secret = "JBSWY3DPEHPK3PXP";

/* The URI of one key, its parameters given one by one as the cases list
 * them. */
static int
uri_of(const char *issuer, const char *account, const char *b32,
    enum ft_algo algo, unsigned digits, unsigned period, char **out)
{
	const struct ft_totp_params p = {
	    .algo = algo, .digits = digits, .period = period};

	return ft_otpauth_uri(issuer, account, b32, &p, out);
}

static void
test_percent(void)
{
	static const struct {
		const char *in, *want;
	} v[] = {
	    {"", ""},
	    {"alice", "alice"},
	    {"AZaz09-._~", "AZaz09-._~"},
	    {"Alice Smith", "Alice%20Smith"},
	    {"a:b", "a%3Ab"},
	    {"alice@example.com", "alice%40example.com"},
	    {"R&D", "R%26D"},
	    {"a/b", "a%2Fb"},
	    {"why?", "why%3F"},
	    {"100%", "100%25"},
	    {"a+b=c#d", "a%2Bb%3Dc%23d"},
	    {"\"<>\\^`{|}", "%22%3C%3E%5C%5E%60%7B%7C%7D"},
	    {"tab\there", "tab%09here"},
	    {"Soci\xc3\xa9t\xc3\xa9", "Soci%C3%A9t%C3%A9"},
	    {"\xe6\x97\xa5\xe6\x9c\xac", "%E6%97%A5%E6%9C%AC"},
	    {"\xf0\x9f\x94\x91 key", "%F0%9F%94%91%20key"},
	    {"\x7f\xff", "%7F%FF"},
	};
	char buf[BUFSZ];
	size_t i;

	for (i = 0; i < NELEM(v); i++) {
		ok(ft_percent_encode(v[i].in, buf, sizeof(buf)) == FT_OK &&
			strcmp(buf, v[i].want) == 0,
		    "percent-encode -> %s (got %s)", v[i].want, buf);
	}
	is_int(ft_percent_encode("a b", buf, 6), FT_OK, "exact room");
	is_str(buf, "a%20b", "exact room result");
	is_int(ft_percent_encode("a b", buf, 5), FT_ERR_ARG,
	    "no room for the NUL");
	is_int(ft_percent_encode("ab", buf, 2), FT_ERR_ARG, "plain: no room");
	is_int(ft_percent_encode("ab", buf, 3), FT_OK, "plain: exact room");
	is_int(ft_percent_encode(NULL, buf, sizeof(buf)), FT_ERR_ARG, "NULL");
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1; /* the encoder must use upper case */
}

/* Independent decoder: returns 0 if s is not strictly well formed. */
static int
pct_decode(const char *s, char *out)
{
	int hi, lo;

	for (; *s != '\0'; s++) {
		if (*s != '%') {
			if (!isalnum((unsigned char)*s) &&
			    strchr("-._~", *s) == NULL)
				return 0;
			*out++ = *s;
			continue;
		}
		if ((hi = hexval(s[1])) < 0 || (lo = hexval(s[2])) < 0)
			return 0;
		if (strchr("-._~", hi * 16 + lo) != NULL ||
		    isalnum(hi * 16 + lo))
			return 0; /* unreserved must not be encoded */
		*out++ = (char)(hi * 16 + lo);
		s += 2;
	}
	*out = '\0';
	return 1;
}

static void
test_percent_random(void)
{
	char in[RANDOM_LEN_MAX + 1], enc[BUFSZ], dec[BUFSZ];
	uint32_t len, b;
	size_t i, j, fails = 0;

	for (i = 0; i < RANDOM_STRINGS; i++) {
		if (ft_random_uniform(RANDOM_LEN_MAX + 1U, &len) != FT_OK)
			bail_out("random failed");
		for (j = 0; j < len; j++) {
			if (ft_random_uniform(255, &b) != FT_OK)
				bail_out("random failed");
			in[j] = (char)(b + 1U); /* 1..255, no NUL */
		}
		in[len] = '\0';
		if (ft_percent_encode(in, enc, sizeof(enc)) != FT_OK ||
		    !pct_decode(enc, dec) || strcmp(in, dec) != 0)
			fails++;
	}
	is_int(fails, 0, "%u random byte strings round-trip", RANDOM_STRINGS);
}

struct uri_case {
	const char *issuer, *account, *secret;
	enum ft_algo algo;
	unsigned digits, period;
	const char *want;
};

static void
test_uri(void)
{
	static const struct uri_case v[] = {
	    {"ACME Co", "alice@example.com", "JBSWY3DPEHPK3PXP", FT_ALGO_SHA1,
		6, 30,
		"otpauth://totp/ACME%20Co:alice%40example.com?"
		"secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co"},
	    {"example", "bob", "JBSWY3DPEHPK3PXP", FT_ALGO_SHA256, 8, 60,
		"otpauth://totp/example:bob?secret=JBSWY3DPEHPK3PXP&"
		"issuer=example&algorithm=SHA256&digits=8&period=60"},
	    {"example", "bob", "JBSWY3DPEHPK3PXP", FT_ALGO_SHA512, 7, 15,
		"otpauth://totp/example:bob?secret=JBSWY3DPEHPK3PXP&"
		"issuer=example&algorithm=SHA512&digits=7&period=15"},
	    {NULL, "carol", "JBSWY3DPEHPK3PXP", FT_ALGO_SHA1, 6, 30,
		"otpauth://totp/carol?secret=JBSWY3DPEHPK3PXP"},
	    {"", "carol", "JBSWY3DPEHPK3PXP", FT_ALGO_SHA1, 6, 300,
		"otpauth://totp/carol?secret=JBSWY3DPEHPK3PXP&"
		"period=300"},
	    {"R&D / Lab?", "dave:ops@host", "JBSWY3DPEHPK3PXP", FT_ALGO_SHA1, 6,
		30,
		"otpauth://totp/R%26D%20%2F%20Lab%3F:dave%3Aops%40host?"
		"secret=JBSWY3DPEHPK3PXP&issuer=R%26D%20%2F%20Lab%3F"},
	    {"100% Soci\xc3\xa9t\xc3\xa9", "j\xc3\xb6rg m\xc3\xbcller",
		"JBSWY3DPEHPK3PXP", FT_ALGO_SHA1, 6, 30,
		"otpauth://totp/100%25%20Soci%C3%A9t%C3%A9:"
		"j%C3%B6rg%20m%C3%BCller?secret=JBSWY3DPEHPK3PXP&"
		"issuer=100%25%20Soci%C3%A9t%C3%A9"},
	    {"\xe6\x97\xa5\xe6\x9c\xac", "a=b&c", "JBSWY3DPEHPK3PXP",
		FT_ALGO_SHA1, 6, 30,
		"otpauth://totp/%E6%97%A5%E6%9C%AC:a%3Db%26c?"
		"secret=JBSWY3DPEHPK3PXP&issuer=%E6%97%A5%E6%9C%AC"},
	    /* only the parameters that differ from the defaults are written */
	    {"x", "y", "JBSWY3DPEHPK3PXP", FT_ALGO_SHA256, 6, 30,
		"otpauth://totp/x:y?secret=JBSWY3DPEHPK3PXP&issuer=x&"
		"algorithm=SHA256"},
	    {"x", "y", "JBSWY3DPEHPK3PXP", FT_ALGO_SHA1, 8, 30,
		"otpauth://totp/x:y?secret=JBSWY3DPEHPK3PXP&issuer=x&digits=8"},
	    /* secret normalized: case, spaces, padding */
	    {"x", "y", "jbsw y3dp ehpk 3pxp", FT_ALGO_SHA1, 6, 30,
		"otpauth://totp/x:y?secret=JBSWY3DPEHPK3PXP&issuer=x"},
	    {"x", "y", "MZXW6YTBOI======", FT_ALGO_SHA1, 6, 30,
		"otpauth://totp/x:y?secret=MZXW6YTBOI&issuer=x"},
	};
	char *uri;
	size_t i;
	int rc;

	for (i = 0; i < NELEM(v); i++) {
		uri = NULL;
		rc = uri_of(v[i].issuer, v[i].account, v[i].secret, v[i].algo,
		    v[i].digits, v[i].period, &uri);
		is_int(rc, FT_OK, "uri case %zu rc", i);
		is_str(uri, v[i].want, "uri case %zu", i);
		free(uri);
	}
}

static void
test_uri_rejects(void)
{
	char *uri = (char *)1;

	is_int(uri_of("a:b", "alice", secret, FT_ALGO_SHA1, 6, 30, &uri),
	    FT_ERR_ARG, "issuer with ':' rejected");
	ok(uri == NULL, "out is NULL after an error");
	is_int(uri_of(":", "alice", secret, FT_ALGO_SHA1, 6, 30, &uri),
	    FT_ERR_ARG, "issuer ':' rejected");
	is_int(uri_of("x", "", secret, FT_ALGO_SHA1, 6, 30, &uri), FT_ERR_ARG,
	    "empty account rejected");
	is_int(uri_of("x", NULL, secret, FT_ALGO_SHA1, 6, 30, &uri), FT_ERR_ARG,
	    "NULL account rejected");
	is_int(uri_of("x", "a", "JBSWY3DP1", FT_ALGO_SHA1, 6, 30, &uri),
	    FT_ERR_ARG, "bad base32 secret rejected");
	is_int(uri_of("x", "a", "", FT_ALGO_SHA1, 6, 30, &uri), FT_ERR_ARG,
	    "empty secret rejected");
	is_int(uri_of("x", "a", secret, (enum ft_algo)9, 6, 30, &uri),
	    FT_ERR_ARG, "bad algorithm rejected");
	is_int(uri_of("x", "a", secret, FT_ALGO_SHA1, 5, 30, &uri), FT_ERR_ARG,
	    "5 digits rejected");
	is_int(uri_of("x", "a", secret, FT_ALGO_SHA1, 9, 30, &uri), FT_ERR_ARG,
	    "9 digits rejected");
	is_int(uri_of("x", "a", secret, FT_ALGO_SHA1, 6, 14, &uri), FT_ERR_ARG,
	    "period 14 rejected");
	is_int(uri_of("x", "a", secret, FT_ALGO_SHA1, 6, 301, &uri), FT_ERR_ARG,
	    "period 301 rejected");
	is_int(uri_of("x", "a", secret, FT_ALGO_SHA1, 6, 30, NULL), FT_ERR_ARG,
	    "NULL out rejected");
}

int
main(void)
{
	test_percent();
	test_percent_random();
	test_uri();
	test_uri_rejects();
	return done_testing();
}
