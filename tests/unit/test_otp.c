/* HOTP/TOTP against RFC 4226 Appendix D and RFC 6238 Appendix B, plus the
 * window matcher and argument checks. */
#include <config.h>

#include <stdint.h>
#include <string.h>

#include "otp.h"
#include "rc.h"
#include "tap.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const uint8_t key20[] = "12345678901234567890";
static const uint8_t key32[] = "12345678901234567890123456789012";
static const uint8_t key64[] =
    "1234567890123456789012345678901234567890123456789012345678901234";
#define KEY20_LEN 20U
#define KEY32_LEN 32U
#define KEY64_LEN 64U

static void
test_hotp_rfc4226(void)
{
	static const char *const want[] = {"755224", "287082", "359152",
	    "969429", "338314", "254676", "287922", "162583", "399871",
	    "520489"};
	char buf[FT_CODE_BUFSZ];
	uint32_t code;
	size_t i;
	int rc;

	for (i = 0; i < NELEM(want); i++) {
		rc = ft_hotp(key20, KEY20_LEN, FT_ALGO_SHA1, i, 6, &code);
		is_int(rc, FT_OK, "hotp count %zu rc", i);
		rc = ft_code_format(code, 6, buf, sizeof(buf));
		is_int(rc, FT_OK, "format count %zu", i);
		is_str(buf, want[i], "RFC 4226 HOTP count %zu", i);
	}
}

struct totp_vec {
	long long t;
	const char *sha1, *sha256, *sha512;
};

static void
test_totp_rfc6238(void)
{
	static const struct totp_vec v[] = {
	    {59LL, "94287082", "46119246", "90693936"},
	    {1111111109LL, "07081804", "68084774", "25091201"},
	    {1111111111LL, "14050471", "67062674", "99943326"},
	    {1234567890LL, "89005924", "91819424", "93441116"},
	    {2000000000LL, "69279037", "90698825", "38618901"},
	    {20000000000LL, "65353130", "77737706", "47863826"},
	};
	const struct ft_totp_params p20 = {
	    key20, KEY20_LEN, FT_ALGO_SHA1, 8, 30, 0};
	const struct ft_totp_params p32 = {
	    key32, KEY32_LEN, FT_ALGO_SHA256, 8, 30, 0};
	const struct ft_totp_params p64 = {
	    key64, KEY64_LEN, FT_ALGO_SHA512, 8, 30, 0};
	char buf[FT_CODE_BUFSZ];
	uint32_t code;
	size_t i;
	int rc;

	for (i = 0; i < NELEM(v); i++) {
		rc = ft_totp(&p20, (time_t)v[i].t, &code);
		(void)ft_code_format(code, 8, buf, sizeof(buf));
		ok(rc == FT_OK && strcmp(buf, v[i].sha1) == 0,
		    "RFC 6238 SHA1 t=%lld: %s", v[i].t, buf);
		rc = ft_totp(&p32, (time_t)v[i].t, &code);
		(void)ft_code_format(code, 8, buf, sizeof(buf));
		ok(rc == FT_OK && strcmp(buf, v[i].sha256) == 0,
		    "RFC 6238 SHA256 t=%lld: %s", v[i].t, buf);
		rc = ft_totp(&p64, (time_t)v[i].t, &code);
		(void)ft_code_format(code, 8, buf, sizeof(buf));
		ok(rc == FT_OK && strcmp(buf, v[i].sha512) == 0,
		    "RFC 6238 SHA512 t=%lld: %s", v[i].t, buf);
	}
}

static void
test_algo_names(void)
{
	enum ft_algo a;

	is_str(ft_algo_name(FT_ALGO_SHA1), "SHA1", "name SHA1");
	is_str(ft_algo_name(FT_ALGO_SHA256), "SHA256", "name SHA256");
	is_str(ft_algo_name(FT_ALGO_SHA512), "SHA512", "name SHA512");
	ok(ft_algo_name((enum ft_algo)3) == NULL, "name of invalid algo");
	ok(ft_algo_parse("sha256", &a) == FT_OK && a == FT_ALGO_SHA256,
	    "parse sha256 lower case");
	ok(ft_algo_parse("Sha512", &a) == FT_OK && a == FT_ALGO_SHA512,
	    "parse Sha512");
	ok(ft_algo_parse("SHA1", &a) == FT_OK && a == FT_ALGO_SHA1,
	    "parse SHA1");
	is_int(ft_algo_parse("SHA-1", &a), FT_ERR_ARG, "parse SHA-1 rejected");
	is_int(ft_algo_parse("MD5", &a), FT_ERR_ARG, "parse MD5 rejected");
	is_int(ft_algo_parse("", &a), FT_ERR_ARG, "parse empty rejected");
	is_int(ft_algo_parse("SHA1 ", &a), FT_ERR_ARG,
	    "parse trailing space rejected");
}

static void
test_args(void)
{
	char buf[FT_CODE_BUFSZ];
	uint64_t step;
	uint32_t code;

	is_int(ft_hotp(key20, KEY20_LEN, FT_ALGO_SHA1, 0, 5, &code), FT_ERR_ARG,
	    "5 digits rejected");
	is_int(ft_hotp(key20, KEY20_LEN, FT_ALGO_SHA1, 0, 9, &code), FT_ERR_ARG,
	    "9 digits rejected");
	is_int(ft_hotp(key20, FT_KEY_MIN - 1U, FT_ALGO_SHA1, 0, 6, &code),
	    FT_ERR_ARG, "short key rejected");
	is_int(ft_hotp(NULL, KEY20_LEN, FT_ALGO_SHA1, 0, 6, &code), FT_ERR_ARG,
	    "NULL key rejected");
	is_int(ft_hotp(key20, KEY20_LEN, (enum ft_algo)7, 0, 6, &code),
	    FT_ERR_ARG, "bad algo rejected");
	is_int(ft_hotp(key20, KEY20_LEN, FT_ALGO_SHA1, 0, 7, &code), FT_OK,
	    "7 digits accepted");
	is_int(ft_code_format(code, 7, buf, sizeof(buf)), FT_OK, "format 7");
	is_int((int)strlen(buf), 7, "7-digit code has 7 characters");
	is_int(ft_code_format(42, 6, buf, sizeof(buf)), FT_OK, "format 42");
	is_str(buf, "000042", "zero padded");
	is_int(ft_code_format(1000000, 6, buf, sizeof(buf)), FT_ERR_ARG,
	    "code too large for digits rejected");
	is_int(ft_code_format(1, 6, buf, 6), FT_ERR_ARG,
	    "buffer without room for NUL rejected");
	is_int(ft_totp_step(-1, 30, &step), FT_ERR_ARG, "negative time");
	is_int(ft_totp_step(100, 14, &step), FT_ERR_ARG, "period 14");
	is_int(ft_totp_step(100, 301, &step), FT_ERR_ARG, "period 301");
	ok(ft_totp_step(89, 30, &step) == FT_OK && step == 2, "step(89,30)");
	ok(ft_totp_step(90, 30, &step) == FT_OK && step == 3, "step(90,30)");
	ok(ft_totp_step(300, 300, &step) == FT_OK && step == 1,
	    "step(300,300)");
	ok(ft_totp_step(14, 15, &step) == FT_OK && step == 0, "step(14,15)");
}

/* Code for step s of the SHA1 RFC key, as a string. */
static void
code_at(uint64_t s, unsigned digits, char *buf)
{
	uint32_t code = 0;

	if (ft_hotp(key20, KEY20_LEN, FT_ALGO_SHA1, s, digits, &code) !=
		FT_OK ||
	    ft_code_format(code, digits, buf, FT_CODE_BUFSZ) != FT_OK)
		bail_out("cannot compute reference code");
}

static void
test_match(void)
{
	struct ft_totp_params p = {key20, KEY20_LEN, FT_ALGO_SHA1, 6, 30, 0};
	const time_t now = 1700000015; /* step 56666667 */
	const uint64_t step = (uint64_t)now / 30U;
	char buf[FT_CODE_BUFSZ], bad[FT_CODE_BUFSZ + 4];
	uint64_t got_step;
	unsigned w;
	int off, got_off, rc;

	for (w = 0; w <= 3; w++) {
		p.window = w;
		for (off = -(int)w - 1; off <= (int)w + 1; off++) {
			code_at(step + (uint64_t)(int64_t)off, 6, buf);
			got_off = 99;
			got_step = 0;
			rc = ft_totp_match(&p, now, buf, &got_off, &got_step);
			if (off >= -(int)w && off <= (int)w)
				ok(rc == 1 && got_off == off &&
					got_step ==
					    step + (uint64_t)(int64_t)off,
				    "window %u offset %+d matched (rc %d, "
				    "offset %d)",
				    w, off, rc, got_off);
			else
				ok(rc == 0,
				    "window %u offset %+d rejected "
				    "(rc %d)",
				    w, off, rc);
		}
	}
	p.window = FT_WINDOW_MAX;
	code_at(step + FT_WINDOW_MAX, 6, buf);
	rc = ft_totp_match(&p, now, buf, &got_off, &got_step);
	ok(rc == 1 && got_off == (int)FT_WINDOW_MAX, "window max +%u",
	    FT_WINDOW_MAX);
	p.window = FT_WINDOW_MAX + 1U;
	is_int(ft_totp_match(&p, now, buf, &got_off, &got_step), FT_ERR_ARG,
	    "window above max rejected");

	/* 8 digits */
	p.window = 1;
	p.digits = 8;
	code_at(step - 1U, 8, buf);
	rc = ft_totp_match(&p, now, buf, &got_off, &got_step);
	ok(rc == 1 && got_off == -1, "8-digit code at -1");
	buf[6] = '\0';
	is_int(ft_totp_match(&p, now, buf, &got_off, &got_step), 0,
	    "6 digits where 8 expected rejected");

	/* Malformed codes around a correct one. */
	p.digits = 6;
	p.window = 1;
	code_at(step, 6, buf);
	snprintf(bad, sizeof(bad), "%s ", buf);
	is_int(ft_totp_match(&p, now, bad, &got_off, &got_step), 0,
	    "trailing space rejected");
	snprintf(bad, sizeof(bad), " %s", buf);
	is_int(ft_totp_match(&p, now, bad, &got_off, &got_step), 0,
	    "leading space rejected");
	snprintf(bad, sizeof(bad), "%s\n", buf);
	is_int(ft_totp_match(&p, now, bad, &got_off, &got_step), 0,
	    "trailing newline rejected");
	snprintf(bad, sizeof(bad), "%s0", buf);
	is_int(ft_totp_match(&p, now, bad, &got_off, &got_step), 0,
	    "7 digits where 6 expected rejected");
	snprintf(bad, sizeof(bad), "%.5s", buf);
	is_int(ft_totp_match(&p, now, bad, &got_off, &got_step), 0,
	    "5 digits rejected");
	snprintf(bad, sizeof(bad), "+%.5s", buf);
	is_int(ft_totp_match(&p, now, bad, &got_off, &got_step), 0,
	    "sign rejected");
	snprintf(bad, sizeof(bad), "%.3s-%.3s", buf, buf + 3);
	is_int(ft_totp_match(&p, now, bad, &got_off, &got_step), 0,
	    "dash inside rejected");
	snprintf(bad, sizeof(bad), "%.5s\xd9", buf);
	is_int(ft_totp_match(&p, now, bad, &got_off, &got_step), 0,
	    "non-ASCII rejected");
	is_int(ft_totp_match(&p, now, "", &got_off, &got_step), 0,
	    "empty rejected");
	is_int(ft_totp_match(&p, now, "abcdef", &got_off, &got_step), 0,
	    "letters rejected");
	is_int(ft_totp_match(&p, now, NULL, &got_off, &got_step), FT_ERR_ARG,
	    "NULL code is an error");
	is_int(ft_totp_match(&p, -5, buf, &got_off, &got_step), FT_ERR_ARG,
	    "negative time is an error");

	/* Near the epoch the window does not wrap below step 0. */
	p.window = 2;
	code_at(0, 6, buf);
	rc = ft_totp_match(&p, 10, buf, &got_off, &got_step);
	ok(rc == 1 && got_off == 0 && got_step == 0, "step 0 at t=10");
	code_at(UINT64_MAX, 6, buf);
	rc = ft_totp_match(&p, 10, buf, &got_off, &got_step);
	ok(rc == 0, "no wrap to step 2^64-1 near the epoch");
}

/* If two steps in the window give the same code, the closer one wins and
 * ties go to the earlier step.  Search for such a collision (1 in 10^6 per
 * pair; the key is fixed, so the search is deterministic). */
#define SCAN_STEPS 1000000U

static void
test_match_preference(void)
{
	struct ft_totp_params p = {
	    key20, KEY20_LEN, FT_ALGO_SHA1, 6, 30, FT_WINDOW_MAX};
	char a[FT_CODE_BUFSZ];
	uint32_t *codes;
	uint64_t s, got_step, found_s = 0;
	unsigned d, found_d = 0;
	int got_off, rc;

	codes = calloc(SCAN_STEPS + 2U * FT_WINDOW_MAX + 1U, sizeof(*codes));
	if (codes == NULL)
		bail_out("out of memory");
	/* Find counters s < s + d (d even, <= window) with equal codes,
	 * computing each code once, as far as needed. */
	for (s = 0; s < SCAN_STEPS + 2U * FT_WINDOW_MAX && found_d == 0; s++) {
		if (ft_hotp(key20, KEY20_LEN, FT_ALGO_SHA1, s, 6, &codes[s]) !=
		    FT_OK)
			bail_out("hotp failed");
		for (d = 2; d <= FT_WINDOW_MAX && d <= s; d += 2) {
			if (codes[s - d] == codes[s]) {
				found_s = s - d;
				found_d = d;
				break;
			}
		}
	}
	free(codes);
	if (found_d == 0) {
		ok(0, "found a code collision to test the preference");
		return;
	}
	code_at(found_s, 6, a);
	diag("steps %llu and %llu share a code", (unsigned long long)found_s,
	    (unsigned long long)(found_s + found_d));
	/* now = the later step: offsets -d and 0; 0 wins */
	rc = ft_totp_match(
	    &p, (time_t)((found_s + found_d) * 30U), a, &got_off, &got_step);
	ok(rc == 1 && got_off == 0, "closer (current) step preferred");
	/* now in the middle (or half-way): the earlier wins a tie */
	rc = ft_totp_match(&p, (time_t)((found_s + found_d / 2U) * 30U), a,
	    &got_off, &got_step);
	ok(rc == 1 && got_off == -(int)(found_d / 2U) && got_step == found_s,
	    "tie goes to the earlier step");
	/* one step before the middle: the earlier one is closer */
	rc = ft_totp_match(&p, (time_t)((found_s + found_d / 2U - 1U) * 30U), a,
	    &got_off, &got_step);
	ok(rc == 1 && got_step == found_s, "closer earlier step preferred");
	/* one step after the middle: the later one is closer */
	rc = ft_totp_match(&p, (time_t)((found_s + found_d / 2U + 1U) * 30U), a,
	    &got_off, &got_step);
	ok(rc == 1 && got_step == found_s + found_d,
	    "closer later step preferred");
}

int
main(void)
{
	test_hotp_rfc4226();
	test_totp_rfc6238();
	test_algo_names();
	test_args();
	test_match();
	test_match_preference();
	return done_testing();
}
