/* Base32: RFC 4648 section 10 vectors, decoder tolerance and strictness,
 * random round trips. */
#include <config.h>

#include <stdint.h>
#include <string.h>

#include "base32.h"
#include "random.h"
#include "rc.h"
#include "tap.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define BUFSZ 256U
#define ROUND_TRIPS 500U

struct vec {
	const char *plain, *padded, *unpadded;
};

static const struct vec rfc4648[] = {
    {"", "", ""},
    {"f", "MY======", "MY"},
    {"fo", "MZXQ====", "MZXQ"},
    {"foo", "MZXW6===", "MZXW6"},
    {"foob", "MZXW6YQ=", "MZXW6YQ"},
    {"fooba", "MZXW6YTB", "MZXW6YTB"},
    {"foobar", "MZXW6YTBOI======", "MZXW6YTBOI"},
};

/* Decode s and compare with the n bytes of want. */
static int
decodes_to(const char *s, const void *want, size_t n)
{
	uint8_t out[BUFSZ];
	size_t len = 0;

	return ft_base32_decode(s, out, sizeof(out), &len) == FT_OK &&
	    len == n && memcmp(out, want, n) == 0;
}

static int
decode_rc(const char *s)
{
	uint8_t out[BUFSZ];
	size_t len;

	return ft_base32_decode(s, out, sizeof(out), &len);
}

static void
test_vectors(void)
{
	char buf[BUFSZ];
	size_t i, n;

	for (i = 0; i < NELEM(rfc4648); i++) {
		const struct vec *v = &rfc4648[i];

		n = strlen(v->plain);
		is_int(ft_base32_encoded_len(n, true), strlen(v->padded),
		    "encoded_len(%zu, pad)", n);
		is_int(ft_base32_encoded_len(n, false), strlen(v->unpadded),
		    "encoded_len(%zu, no pad)", n);
		ok(ft_base32_encode((const uint8_t *)v->plain, n, true, buf,
		       sizeof(buf)) == FT_OK &&
			strcmp(buf, v->padded) == 0,
		    "encode \"%s\" padded: \"%s\"", v->plain, buf);
		ok(ft_base32_encode((const uint8_t *)v->plain, n, false, buf,
		       sizeof(buf)) == FT_OK &&
			strcmp(buf, v->unpadded) == 0,
		    "encode \"%s\" unpadded: \"%s\"", v->plain, buf);
		ok(decodes_to(v->padded, v->plain, n), "decode \"%s\"",
		    v->padded);
		ok(decodes_to(v->unpadded, v->plain, n), "decode \"%s\"",
		    v->unpadded);
	}
}

static void
test_tolerance(void)
{
	ok(decodes_to("mzxw6ytboi", "foobar", 6), "lower case");
	ok(decodes_to("MzXw6YtBoI======", "foobar", 6), "mixed case");
	ok(decodes_to("MZXW 6YTB OI", "foobar", 6), "spaces");
	ok(decodes_to("mzxw-6ytb-oi", "foobar", 6), "dashes");
	ok(decodes_to("  MZXW6YTBOI  ", "foobar", 6),
	    "leading and trailing spaces");
	ok(decodes_to("MZXW6YTBOI====== ", "foobar", 6), "space after padding");
	ok(decodes_to("MZXW6YTBOI=== ===", "foobar", 6),
	    "space inside padding");
	ok(decodes_to("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
	       "\x00\x44\x32\x14\xc7\x42\x54\xb6\x35\xcf\x84\x65\x3a\x56\xd7"
	       "\xc6\x75\xbe\x77\xdf",
	       20),
	    "whole alphabet");
	ok(decodes_to("", "", 0), "empty string is zero bytes");
	ok(decodes_to(" - ", "", 0), "only separators is zero bytes");
}

static void
test_strictness(void)
{
	static const struct {
		const char *in, *why;
	} bad[] = {
	    {"MZXW6YTB1", "digit 1"},
	    {"MZXW6YTB0A", "digit 0"},
	    {"MZXW6YTB8A", "digit 8"},
	    {"MZXW6YTB9A", "digit 9"},
	    {"MZXW_6YTB", "underscore"},
	    {"MZXW6YTB.OI", "dot"},
	    {"MZXW\t6YTB", "tab"},
	    {"MZXW6YTB\n", "newline"},
	    {"MZXW6YTB+", "plus"},
	    {"MZXW\xc3\xa9"
	     "6YTB",
		"non-ASCII"},
	    {"MZ=XW6YTB", "padding in the middle"},
	    {"MZXW6===YTB", "data after padding"},
	    {"M", "1 character"},
	    {"MZX", "3 characters"},
	    {"MZXW6Y", "6 characters"},
	    {"MZXW6YTBM", "9 characters"},
	    {"MY=====", "incomplete padding (7 of 8)"},
	    {"MY=", "incomplete padding (1 of 8)"},
	    {"MZXW6YTB========", "a whole block of padding"},
	    {"========", "padding only"},
	    {"MZXW6YTB=", "padding after a full block"},
	    {"MZ======", "non-zero trailing bits (MZ)"},
	    {"MZXR", "non-zero trailing bits (MZXR)"},
	    {"MZXW7", "non-zero trailing bits (MZXW7)"},
	    {"MZXW6YR", "non-zero trailing bits (MZXW6YR)"},
	    {"MZXW6YTBOJ", "non-zero trailing bits (..OJ)"},
	};
	uint8_t out[BUFSZ];
	size_t i, len = 7;

	for (i = 0; i < NELEM(bad); i++)
		is_int(decode_rc(bad[i].in), FT_ERR_PARSE, "rejected: %s",
		    bad[i].why);
	is_int(ft_base32_decode("MZXW6YTBOI", out, 5, &len), FT_ERR_ARG,
	    "output too small");
	is_int(ft_base32_decode("MZXW6YTBOI", out, 6, &len), FT_OK,
	    "output exactly large enough");
	is_int(len, 6, "length reported");
	is_int(ft_base32_decode(NULL, out, sizeof(out), &len), FT_ERR_ARG,
	    "NULL input");
}

static void
test_encode_args(void)
{
	char buf[BUFSZ];

	is_int(ft_base32_encode((const uint8_t *)"foobar", 6, true, buf, 16),
	    FT_ERR_ARG, "encode: no room for NUL");
	is_int(ft_base32_encode((const uint8_t *)"foobar", 6, true, buf, 17),
	    FT_OK, "encode: exact room");
	is_int(ft_base32_encode((const uint8_t *)"foobar", 6, false, buf, 11),
	    FT_OK, "encode unpadded: exact room");
	is_int(ft_base32_encode(NULL, 1, true, buf, sizeof(buf)), FT_ERR_ARG,
	    "encode: NULL input");
}

static void
test_round_trips(void)
{
	uint8_t in[64], out[64];
	char enc[BUFSZ];
	size_t n, len, fails = 0, i;
	uint32_t r;

	for (i = 0; i < ROUND_TRIPS; i++) {
		if (ft_random_uniform(sizeof(in) + 1U, &r) != FT_OK ||
		    ft_random_bytes(in, sizeof(in)) != FT_OK)
			bail_out("RAND_bytes failed");
		n = r;
		if (ft_base32_encode(in, n, i % 2U == 0, enc, sizeof(enc)) !=
			FT_OK ||
		    ft_base32_decode(enc, out, sizeof(out), &len) != FT_OK ||
		    len != n || memcmp(in, out, n) != 0) {
			fails++;
			diag("round trip failed for %zu bytes: %s", n, enc);
		}
	}
	is_int(fails, 0, "%u random round trips", ROUND_TRIPS);
}

int
main(void)
{
	test_vectors();
	test_tolerance();
	test_strictness();
	test_encode_args();
	test_round_trips();
	return done_testing();
}
