/* Prints random TOTP cases for the oathtool cross-check, one per line.
 *   otp-cases COUNT        ALGO DIGITS PERIOD TIME BASE32_SECRET CODE
 *   otp-cases COUNT match  ... CODE WINDOW OFFSET RESULT
 * In match mode CODE is the code of the step at a random OFFSET in
 * [-window-1, window+1] from TIME, and RESULT is what ft_totp_match reports
 * ("none" when it rejects).  Cases where that code also occurs at another
 * step of the range are redrawn, so the answer is unambiguous.  Secrets,
 * times and parameters come from RAND_bytes; every parameter combination
 * is covered in turn. */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base32.h"
#include "otp.h"
#include "random.h"
#include "rc.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define COUNT_MAX 100000UL
#define TIME_MAX 20000000000ULL /* beyond 2038 and 2^32 */
#define B32_BUFSZ 256U

static const enum ft_algo algos[] = {
    FT_ALGO_SHA1, FT_ALGO_SHA256, FT_ALGO_SHA512};
static const unsigned digit_set[] = {6, 7, 8};
static const unsigned periods[] = {30, 60, 15, 300};

#define MATCH_WINDOW_MAX 3U

struct tcase {
	uint8_t key[FT_KEY_MAX];
	uint32_t keylen;
	enum ft_algo algo;
	unsigned digits, period;
	uint64_t t;
};

static uint64_t
random_time(void)
{
	uint64_t t = 0;

	if (ft_random_bytes((uint8_t *)&t, sizeof(t)) != FT_OK)
		exit(2);
	return t % TIME_MAX;
}

static int
random_case(unsigned long i, struct tcase *c)
{
	c->algo = algos[i % NELEM(algos)];
	c->digits = digit_set[(i / NELEM(algos)) % NELEM(digit_set)];
	c->period =
	    periods[(i / (NELEM(algos) * NELEM(digit_set))) % NELEM(periods)];
	if (ft_random_uniform(FT_KEY_MAX - FT_KEY_MIN + 1U, &c->keylen) !=
	    FT_OK)
		return -1;
	c->keylen += FT_KEY_MIN;
	c->t = random_time();
	/* Some cases near the epoch and at step boundaries. */
	if (i % 50U == 0)
		c->t %= (uint64_t)c->period * 4U;
	else if (i % 50U == 1)
		c->t -= c->t % c->period;
	else if (i % 50U == 2)
		c->t = c->t - c->t % c->period + c->period - 1U;
	return ft_random_bytes(c->key, c->keylen) == FT_OK ? 0 : -1;
}

static int
print_code(const struct tcase *c, unsigned long i)
{
	const struct ft_totp_params p = {
	    c->key, c->keylen, c->algo, c->digits, c->period, 0};
	char b32[B32_BUFSZ], code[FT_CODE_BUFSZ];
	uint32_t otp;

	if (ft_base32_encode(
		c->key, c->keylen, i % 2U == 0, b32, sizeof(b32)) != FT_OK ||
	    ft_totp(&p, (time_t)c->t, &otp) != FT_OK ||
	    ft_code_format(otp, c->digits, code, sizeof(code)) != FT_OK)
		return -1;
	printf("%s %u %u %llu %s %s\n", ft_algo_name(c->algo), c->digits,
	    c->period, (unsigned long long)c->t, b32, code);
	return 0;
}

/* 1 if the code of step `target` occurs only once in [lo, hi]. */
static int
unambiguous(const struct tcase *c, uint64_t lo, uint64_t hi, uint64_t target)
{
	uint32_t want, got;
	uint64_t s;

	if (ft_hotp(c->key, c->keylen, c->algo, target, c->digits, &want) !=
	    FT_OK)
		return -1;
	for (s = lo; s <= hi; s++) {
		if (s == target)
			continue;
		if (ft_hotp(c->key, c->keylen, c->algo, s, c->digits, &got) !=
		    FT_OK)
			return -1;
		if (got == want)
			return 0;
	}
	return 1;
}

static int
print_match(struct tcase *c, unsigned long i)
{
	char b32[B32_BUFSZ], code[FT_CODE_BUFSZ], res[FT_CODE_BUFSZ];
	struct ft_totp_params p;
	uint32_t w, r, otp;
	uint64_t step, target, got_step;
	int off, got_off, rc;

	for (;;) {
		if (ft_random_uniform(MATCH_WINDOW_MAX + 1U, &w) != FT_OK ||
		    ft_random_uniform(2U * w + 3U, &r) != FT_OK)
			return -1;
		off = (int)r - (int)w - 1;
		step = c->t / c->period;
		if (step < w + 1U) /* keep the whole range after the epoch */
			c->t += (uint64_t)c->period * (w + 1U);
		step = c->t / c->period;
		target = step + (uint64_t)(int64_t)off;
		rc = unambiguous(c, step - w - 1U, step + w + 1U, target);
		if (rc < 0)
			return -1;
		if (rc == 1)
			break;
		if (random_case(i, c) != 0)
			return -1;
	}
	p = (struct ft_totp_params){
	    c->key, c->keylen, c->algo, c->digits, c->period, w};
	if (ft_hotp(c->key, c->keylen, c->algo, target, c->digits, &otp) !=
		FT_OK ||
	    ft_code_format(otp, c->digits, code, sizeof(code)) != FT_OK ||
	    ft_base32_encode(c->key, c->keylen, false, b32, sizeof(b32)) !=
		FT_OK)
		return -1;
	rc = ft_totp_match(&p, (time_t)c->t, code, &got_off, &got_step);
	if (rc < 0)
		return -1;
	if (rc == 1)
		snprintf(res, sizeof(res), "%d", got_off);
	else
		snprintf(res, sizeof(res), "none");
	printf("%s %u %u %llu %s %s %u %d %s\n", ft_algo_name(c->algo),
	    c->digits, c->period, (unsigned long long)c->t, b32, code, w, off,
	    res);
	return 0;
}

int
main(int argc, char **argv)
{
	struct tcase c;
	unsigned long count, i;
	char *end;
	int match;

	if (argc < 2 || argc > 3)
		return 2;
	match = argc == 3 && strcmp(argv[2], "match") == 0;
	if (argc == 3 && !match)
		return 2;
	count = strtoul(argv[1], &end, 10);
	if (*end != '\0' || count == 0 || count > COUNT_MAX)
		return 2;
	for (i = 0; i < count; i++) {
		if (random_case(i, &c) != 0)
			return 2;
		if ((match ? print_match(&c, i) : print_code(&c, i)) != 0)
			return 2;
	}
	return fflush(stdout) == 0 ? 0 : 2;
}
