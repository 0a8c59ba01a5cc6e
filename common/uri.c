#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base32.h"
#include "otp.h"
#include "rc.h"
#include "uri.h"
#include "wipe.h"

#define PCT_WIDTH 3U	    /* "%XX" per encoded byte */
#define URI_FIELD_MAX 1024U /* label parts: far more than any QR holds */
#define URI_B32_MAX (((FT_KEY_MAX + 4U) / 5U) * 8U + 1U)
/* "&algorithm=SHA512&digits=8&period=300" and its NUL, with room to spare */
#define URI_PARAMS_MAX 64U

static const char pct_hex[] = "0123456789ABCDEF";

static bool
pct_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

int
ft_percent_encode(const char *in, char *out, size_t outlen)
{
	const unsigned char *s;
	size_t o = 0;

	if (in == NULL || out == NULL || outlen == 0)
		return FT_ERR_ARG;
	for (s = (const unsigned char *)in; *s != '\0'; s++) {
		if (pct_unreserved(*s)) {
			if (outlen - o < 2U)
				goto small;
			out[o++] = (char)*s;
			continue;
		}
		if (outlen - o < PCT_WIDTH + 1U)
			goto small;
		out[o++] = '%';
		out[o++] = pct_hex[*s >> 4];
		out[o++] = pct_hex[*s & 0x0fU];
	}
	out[o] = '\0';
	return FT_OK;
small:
	out[0] = '\0';
	return FT_ERR_ARG;
}

/* Percent-encoded copy of s (at most URI_FIELD_MAX bytes) in *out. */
static int
pct_dup(const char *s, char **out)
{
	size_t len = strlen(s), cap;
	int rc;

	*out = NULL;
	if (len > URI_FIELD_MAX)
		return FT_ERR_ARG;
	cap = len * PCT_WIDTH + 1U;
	if ((*out = malloc(cap)) == NULL)
		return FT_ERR_NOMEM;
	if ((rc = ft_percent_encode(s, *out, cap)) != FT_OK) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

/* Canonical unpadded upper-case form of a base32 secret, so that whatever
 * the caller holds (spaces, lower case, padding) the URI is clean. */
static int
canon_secret(const char *b32, char *out, size_t outlen)
{
	uint8_t key[FT_KEY_MAX];
	size_t keylen = 0;
	int rc;

	rc = ft_base32_decode(b32, key, sizeof(key), &keylen);
	if (rc != FT_OK || keylen == 0) {
		rc = FT_ERR_ARG;
		goto out;
	}
	rc = ft_base32_encode(key, keylen, false, out, outlen);
out:
	ft_wipe(key, sizeof(key));
	return rc;
}

/* The parameters that differ from the defaults every app assumes (Key Uri
 * Format: SHA1, 6 digits, 30 s), so that a default enrolment's URI, and so
 * its QR code, is as short as it can be: on an 80 x 24 terminal every byte
 * counts. */
static int
uri_params(const struct ft_totp_params *p, char *out, size_t outlen)
{
	size_t o = 0;
	int n;

	out[0] = '\0';
	if (p->algo != FT_ALGO_SHA1) {
		n = snprintf(
		    out, outlen, "&algorithm=%s", ft_algo_name(p->algo));
		if (n < 0 || (size_t)n >= outlen)
			return FT_ERR_ARG;
		o = (size_t)n;
	}
	if (p->digits != FT_DIGITS_DEFAULT) {
		n = snprintf(out + o, outlen - o, "&digits=%u", p->digits);
		if (n < 0 || (size_t)n >= outlen - o)
			return FT_ERR_ARG;
		o += (size_t)n;
	}
	if (p->period != FT_PERIOD_DEFAULT) {
		n = snprintf(out + o, outlen - o, "&period=%u", p->period);
		if (n < 0 || (size_t)n >= outlen - o)
			return FT_ERR_ARG;
	}
	return FT_OK;
}

static bool
params_ok(const struct ft_totp_params *p)
{
	return ft_algo_name(p->algo) != NULL && p->digits >= FT_DIGITS_MIN &&
	    p->digits <= FT_DIGITS_MAX && p->period >= FT_PERIOD_MIN &&
	    p->period <= FT_PERIOD_MAX;
}

int
ft_otpauth_uri(const char *issuer, const char *account, const char *secret_b32,
    const struct ft_totp_params *p, char **out)
{
	char secret[URI_B32_MAX], params[URI_PARAMS_MAX];
	char *iss = NULL, *acct = NULL, *uri = NULL;
	bool has_issuer = issuer != NULL && issuer[0] != '\0';
	size_t len = 0;
	int n, rc;

	if (out == NULL)
		return FT_ERR_ARG;
	*out = NULL;
	if (p == NULL || account == NULL || account[0] == '\0' ||
	    secret_b32 == NULL || !params_ok(p))
		return FT_ERR_ARG;
	/* Apps split the label at the first ':'; an issuer holding one would
	 * be misread even when encoded (some decode before splitting). */
	if (has_issuer && strchr(issuer, ':') != NULL)
		return FT_ERR_ARG;
	if ((rc = uri_params(p, params, sizeof(params))) != FT_OK)
		goto out;
	if ((rc = canon_secret(secret_b32, secret, sizeof(secret))) != FT_OK)
		goto out;
	if ((rc = pct_dup(account, &acct)) != FT_OK)
		goto out;
	if (has_issuer && (rc = pct_dup(issuer, &iss)) != FT_OK)
		goto out;
	/* Two passes: measure, then write. */
	for (;;) {
		n = snprintf(uri, len, "otpauth://totp/%s%s%s?secret=%s%s%s%s",
		    has_issuer ? iss : "", has_issuer ? ":" : "", acct, secret,
		    has_issuer ? "&issuer=" : "", has_issuer ? iss : "",
		    params);
		if (n < 0) {
			rc = FT_ERR_ARG;
			goto out;
		}
		if (uri != NULL)
			break;
		len = (size_t)n + 1U;
		if ((uri = malloc(len)) == NULL) {
			rc = FT_ERR_NOMEM;
			goto out;
		}
	}
	*out = uri;
	uri = NULL;
	rc = FT_OK;
out:
	ft_wipe(secret, sizeof(secret));
	free(iss);
	free(acct);
	ft_wipe_free(uri, len);
	return rc;
}
