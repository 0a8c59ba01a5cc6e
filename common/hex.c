#include <config.h>

#include <string.h>

#include "hex.h"
#include "rc.h"
#include "wipe.h"

#define NIBBLE_BITS 4U
#define NIBBLE_MASK 0x0fU
#define HEX_TEN 10

static int
nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + HEX_TEN;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + HEX_TEN;
	return -1;
}

int
ft_hex_encode(const uint8_t *in, size_t len, char *out, size_t outlen)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	if (out == NULL || outlen == 0 || len > (outlen - 1U) / 2U)
		return FT_ERR_ARG;
	for (i = 0; i < len; i++) {
		out[2U * i] = digits[in[i] >> NIBBLE_BITS];
		out[2U * i + 1U] = digits[in[i] & NIBBLE_MASK];
	}
	out[2U * len] = '\0';
	return FT_OK;
}

int
ft_hex_decode(const char *s, uint8_t *out, size_t outcap, size_t *outlen)
{
	size_t n = strlen(s), i;
	int hi, lo;

	*outlen = 0;
	if (n % 2U != 0)
		return FT_ERR_PARSE;
	if (n / 2U > outcap)
		return FT_ERR_TOOBIG;
	for (i = 0; i < n / 2U; i++) {
		hi = nibble(s[2U * i]);
		lo = nibble(s[2U * i + 1U]);
		if (hi < 0 || lo < 0) {
			ft_wipe(out, outcap);
			return FT_ERR_PARSE;
		}
		out[i] =
		    (uint8_t)(((unsigned)hi << NIBBLE_BITS) | (unsigned)lo);
	}
	*outlen = n / 2U;
	return FT_OK;
}
