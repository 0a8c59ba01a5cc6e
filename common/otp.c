#include <config.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "otp.h"
#include "rc.h"
#include "wipe.h"
#include "workcount.h"

#define OTP_MAC_MAX 64U	     /* SHA-512 output, the largest we use */
#define OTP_COUNTER_BYTES 8U /* RFC 4226: 8-byte big-endian counter */
#define OTP_TRUNC_MASK 0x0fU /* RFC 4226 5.3: low 4 bits pick the offset */
#define OTP_SIGN_MASK 0x7fU  /* drop the top bit of the first byte */

/* 10^digits for FT_DIGITS_MIN..FT_DIGITS_MAX, indexed by digits. */
static const uint32_t otp_modulus[FT_DIGITS_MAX + 1] = {
    1U, 10U, 100U, 1000U, 10000U, 100000U, 1000000U, 10000000U, 100000000U};

struct otp_algo_desc {
	const char *name;   /* as in URIs and secret files */
	const char *digest; /* OpenSSL digest name */
	size_t maclen;
};

static const struct otp_algo_desc otp_algos[] = {
    [FT_ALGO_SHA1] = {"SHA1", "SHA1", 20U},
    [FT_ALGO_SHA256] = {"SHA256", "SHA2-256", 32U},
    [FT_ALGO_SHA512] = {"SHA512", "SHA2-512", 64U},
};
#define OTP_NALGOS (sizeof(otp_algos) / sizeof(otp_algos[0]))

/* One HMAC key schedule reused for every counter of a call. */
struct otp_hmac {
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
	size_t maclen;
};

static const struct otp_algo_desc *
otp_algo(enum ft_algo algo)
{
	if ((unsigned)algo >= OTP_NALGOS)
		return NULL;
	return &otp_algos[algo];
}

const char *
ft_algo_name(enum ft_algo algo)
{
	const struct otp_algo_desc *d = otp_algo(algo);

	return d == NULL ? NULL : d->name;
}

int
ft_algo_parse(const char *s, enum ft_algo *out)
{
	size_t i;

	if (s == NULL || out == NULL)
		return FT_ERR_ARG;
	for (i = 0; i < OTP_NALGOS; i++) {
		if (strcasecmp(s, otp_algos[i].name) == 0) {
			*out = (enum ft_algo)i;
			return FT_OK;
		}
	}
	return FT_ERR_ARG;
}

static bool
otp_digits_ok(unsigned digits)
{
	return digits >= FT_DIGITS_MIN && digits <= FT_DIGITS_MAX;
}

static bool
otp_period_ok(unsigned period)
{
	return period >= FT_PERIOD_MIN && period <= FT_PERIOD_MAX;
}

static bool
otp_key_ok(const uint8_t *key, size_t keylen)
{
	return key != NULL && keylen >= FT_KEY_MIN && keylen <= FT_KEY_MAX;
}

static void
otp_hmac_free(struct otp_hmac *h)
{
	/* EVP_MAC_CTX_free cleanses the key schedule. */
	EVP_MAC_CTX_free(h->ctx);
	EVP_MAC_free(h->mac);
	h->ctx = NULL;
	h->mac = NULL;
}

static int
otp_hmac_init(
    struct otp_hmac *h, const uint8_t *key, size_t keylen, enum ft_algo algo)
{
	const struct otp_algo_desc *d = otp_algo(algo);
	OSSL_PARAM params[2];

	h->mac = NULL;
	h->ctx = NULL;
	if (d == NULL || !otp_key_ok(key, keylen))
		return FT_ERR_ARG;
	h->maclen = d->maclen;
	if ((h->mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL)) == NULL)
		goto fail;
	if ((h->ctx = EVP_MAC_CTX_new(h->mac)) == NULL)
		goto fail;
	/* OSSL_PARAM wants a non-const pointer but only reads the name. */
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_MAC_PARAM_DIGEST, (char *)(uintptr_t)d->digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(h->ctx, key, keylen, params) != 1)
		goto fail;
	return FT_OK;
fail:
	otp_hmac_free(h);
	return FT_ERR_CRYPTO;
}

/* HMAC(key, counter) with the key already set, then RFC 4226 dynamic
 * truncation reduced modulo 10^digits. */
static int
otp_hmac_code(
    struct otp_hmac *h, uint64_t counter, unsigned digits, uint32_t *code_out)
{
	uint8_t msg[OTP_COUNTER_BYTES], mac[OTP_MAC_MAX];
	size_t i, maclen = 0;
	unsigned off;
	uint32_t bin;
	int rc = FT_ERR_CRYPTO;

	for (i = 0; i < OTP_COUNTER_BYTES; i++)
		msg[i] =
		    (uint8_t)(counter >> (8U * (OTP_COUNTER_BYTES - 1U - i)));
	ft_work_note(FT_WORK_HMAC);
	/* A NULL key restarts HMAC with the key already loaded. */
	if (EVP_MAC_init(h->ctx, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(h->ctx, msg, sizeof(msg)) != 1 ||
	    EVP_MAC_final(h->ctx, mac, &maclen, sizeof(mac)) != 1)
		goto out;
	if (maclen != h->maclen)
		goto out;
	off = mac[maclen - 1U] & OTP_TRUNC_MASK;
	bin = ((uint32_t)(mac[off] & OTP_SIGN_MASK) << 24) |
	    ((uint32_t)mac[off + 1U] << 16) | ((uint32_t)mac[off + 2U] << 8) |
	    (uint32_t)mac[off + 3U];
	*code_out = bin % otp_modulus[digits];
	rc = FT_OK;
out:
	ft_wipe(mac, sizeof(mac));
	return rc;
}

int
ft_hotp(const uint8_t *key, size_t keylen, enum ft_algo algo, uint64_t counter,
    unsigned digits, uint32_t *code_out)
{
	struct otp_hmac h;
	int rc;

	if (code_out == NULL || !otp_digits_ok(digits))
		return FT_ERR_ARG;
	if ((rc = otp_hmac_init(&h, key, keylen, algo)) != FT_OK)
		return rc;
	rc = otp_hmac_code(&h, counter, digits, code_out);
	otp_hmac_free(&h);
	return rc;
}

int
ft_code_format(uint32_t code, unsigned digits, char *buf, size_t buflen)
{
	int n;

	if (buf == NULL || !otp_digits_ok(digits) || buflen < digits + 1U ||
	    code >= otp_modulus[digits])
		return FT_ERR_ARG;
	n = snprintf(buf, buflen, "%0*u", (int)digits, (unsigned)code);
	if (n < 0 || (size_t)n != digits)
		return FT_ERR_ARG;
	return FT_OK;
}

int
ft_totp_step(time_t now, unsigned period, uint64_t *step_out)
{
	if (now < 0 || step_out == NULL || !otp_period_ok(period))
		return FT_ERR_ARG;
	*step_out = (uint64_t)now / period;
	return FT_OK;
}

int
ft_totp(const struct ft_totp_params *p, time_t now, uint32_t *code_out)
{
	uint64_t step;
	int rc;

	if (p == NULL)
		return FT_ERR_ARG;
	if ((rc = ft_totp_step(now, p->period, &step)) != FT_OK)
		return rc;
	return ft_hotp(p->key, p->keylen, p->algo, step, p->digits, code_out);
}

/* Exactly `digits` ASCII digits and nothing else. */
static bool
otp_code_parse(const char *code, unsigned digits, uint32_t *out)
{
	uint32_t v = 0;
	unsigned i;

	for (i = 0; i < digits; i++) {
		if (code[i] < '0' || code[i] > '9')
			return false;
		v = v * 10U + (uint32_t)(code[i] - '0');
	}
	if (code[digits] != '\0')
		return false;
	*out = v;
	return true;
}

/* All-ones if a == b, else zero, without a data-dependent branch. */
static uint32_t
otp_ct_eq_mask(uint32_t a, uint32_t b)
{
	uint64_t x = (uint64_t)(a ^ b);

	/* x - 1 borrows into the high half only when x == 0. */
	return (uint32_t)((x - 1U) >> 32);
}

int
ft_totp_match(const struct ft_totp_params *p, time_t now, const char *code,
    int *offset_out, uint64_t *step_out)
{
	struct otp_hmac h;
	uint64_t step, cand;
	uint32_t want = 0, got = 0, eq, found = 0, best = 0;
	unsigned i, w;
	int rc, sign;

	if (p == NULL || code == NULL || offset_out == NULL ||
	    step_out == NULL || !otp_digits_ok(p->digits) ||
	    p->window > FT_WINDOW_MAX)
		return FT_ERR_ARG;
	if ((rc = ft_totp_step(now, p->period, &step)) != FT_OK)
		return rc;
	if ((rc = otp_hmac_init(&h, p->key, p->keylen, p->algo)) != FT_OK)
		return rc;
	if (!otp_code_parse(code, p->digits, &want)) {
		rc = 0;
		goto out;
	}
	/* Candidates in order of preference (0, -1, +1, -2, +2, ...): the
	 * first match is kept by masking, every candidate is computed. */
	for (i = 0; i <= 2U * p->window; i++) {
		w = (i + 1U) / 2U;
		sign = (i % 2U == 1U) ? -1 : 1;
		if (sign < 0 && step < w)
			continue; /* before the epoch: depends on now only */
		cand = sign < 0 ? step - w : step + w;
		if ((rc = otp_hmac_code(&h, cand, p->digits, &got)) != FT_OK)
			goto out;
		eq = otp_ct_eq_mask(got, want) & ~found;
		best |= eq & i;
		found |= eq;
	}
	rc = found != 0 ? 1 : 0;
	if (rc == 1) {
		w = (best + 1U) / 2U;
		*offset_out = (best % 2U == 1U) ? -(int)w : (int)w;
		*step_out = (best % 2U == 1U) ? step - w : step + w;
	}
out:
	ft_wipe(&want, sizeof(want));
	ft_wipe(&got, sizeof(got));
	otp_hmac_free(&h);
	return rc;
}
