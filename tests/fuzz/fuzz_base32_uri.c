/* libFuzzer target: base32 decoding/encoding and otpauth:// URI building.
 *
 * Invariants: a decoded input re-encodes and decodes to the same bytes;
 * the percent-encoder emits only unreserved characters and %XX; a URI built
 * from fuzzed issuer/account/secret is either refused or well-formed. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base32.h"
#include "otp.h"
#include "rc.h"
#include "uri.h"
#include "wipe.h"

#define BIN_MAX 4096U
#define PCT_OUT_MAX (3U * 1024U + 1U)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_base32(const char *s)
{
	static uint8_t bin[BIN_MAX], bin2[BIN_MAX];
	static char enc[BIN_MAX * 2U];
	size_t n = 0, n2 = 0;
	int rc;

	rc = ft_base32_decode(s, bin, sizeof(bin), &n);
	if (rc != FT_OK)
		return;
	if (n > sizeof(bin))
		abort();
	if (ft_base32_encode(bin, n, (s[0] & 1) != 0, enc, sizeof(enc)) !=
	    FT_OK)
		abort();
	if (strlen(enc) != ft_base32_encoded_len(n, (s[0] & 1) != 0))
		abort();
	if (ft_base32_decode(enc, bin2, sizeof(bin2), &n2) != FT_OK ||
	    n2 != n || memcmp(bin, bin2, n) != 0)
		abort();
	/* A too-small buffer is refused, never overrun. */
	if (n > 0 && ft_base32_decode(s, bin2, n - 1U, &n2) == FT_OK)
		abort();
}

static void
fuzz_pct(const char *s, size_t outlen)
{
	static char out[PCT_OUT_MAX];
	size_t i;

	if (outlen > sizeof(out))
		outlen = sizeof(out);
	if (ft_percent_encode(s, out, outlen) != FT_OK)
		return;
	for (i = 0; out[i] != '\0'; i++) {
		char c = out[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '-' || c == '.' ||
			c == '_' || c == '~' || c == '%'))
			abort();
	}
	if (i >= outlen)
		abort();
}

static void
fuzz_uri(
    const char *issuer, const char *account, const char *secret, uint8_t knobs)
{
	static const enum ft_algo algos[] = {
	    FT_ALGO_SHA1, FT_ALGO_SHA256, FT_ALGO_SHA512};
	const struct ft_totp_params p = {.algo = algos[knobs % 3U],
	    .digits = 6U + (knobs >> 2) % 4U,
	    .period = (knobs & 0x80) != 0 ? 30U : 60U};
	char *uri = NULL;

	if (ft_otpauth_uri(issuer, account, secret, &p, &uri) != FT_OK)
		return;
	if (strncmp(uri, "otpauth://totp/", 15) != 0)
		abort();
	if (strpbrk(uri, " \t\r\n\"<>") != NULL)
		abort();
	ft_wipe_free_str(uri);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *b, *c;
	char *copy, *a, *p;
	uint8_t knobs;

	if (size < 1)
		return 0;
	knobs = data[0];
	copy = malloc(size);
	if (copy == NULL)
		return 0;
	memcpy(copy, data + 1, size - 1U);
	copy[size - 1U] = '\0';
	fuzz_base32(copy);
	fuzz_pct(copy, (size_t)knobs * 8U + 1U);
	/* ISSUER \t ACCOUNT \t SECRET */
	a = copy;
	b = c = "";
	if ((p = strchr(a, '\t')) != NULL) {
		*p = '\0';
		b = p + 1;
		if ((p = strchr(b, '\t')) != NULL) {
			*p = '\0';
			c = p + 1;
		}
	}
	fuzz_uri((knobs & 0x40) != 0 ? NULL : a, b, c, knobs);
	free(copy);
	return 0;
}
