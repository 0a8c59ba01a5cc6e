#include <config.h>

#include <string.h>

#include "base32.h"
#include "rc.h"
#include "wipe.h"

#define B32_BLOCK_BYTES 5U /* 5 bytes <-> 8 characters */
#define B32_BLOCK_CHARS 8U
#define B32_BITS 5U
#define B32_MASK 0x1fU
#define B32_LETTERS 26U /* 'A'..'Z' are 0..25, '2'..'7' are 26..31 */
#define B32_PAD '='

/* Characters used by a final partial block of 0..4 bytes. */
static const size_t b32_tail_chars[B32_BLOCK_BYTES] = {0, 2, 4, 5, 7};
/* Bytes carried by a final partial block of 0..7 characters; -1: invalid. */
static const int b32_tail_bytes[B32_BLOCK_CHARS] = {0, -1, 1, -1, 2, 3, -1, 4};

/* Secrets go through these, so the character mapping is done with masks
 * instead of table lookups or branches on the secret value. */

/* All-ones if lo <= c <= hi (c, lo, hi < 2^31), else zero. */
static uint32_t
b32_ct_range(uint32_t c, uint32_t lo, uint32_t hi)
{
	return ((((c - lo) | (hi - c)) >> 31) & 1U) - 1U;
}

/* Value 0..31 of a base32 character (either case), or -1. */
static int
b32_value(unsigned char ch)
{
	uint32_t c = ch, up, dig, v;

	c -= b32_ct_range(c, 'a', 'z') & ('a' - 'A');
	up = b32_ct_range(c, 'A', 'Z');
	dig = b32_ct_range(c, '2', '7');
	v = (up & (c - 'A' + 1U)) | (dig & (c - '2' + B32_LETTERS + 1U));
	return (int)v - 1;
}

static char
b32_char(uint32_t v)
{
	uint32_t digit = ~b32_ct_range(v, 0, B32_LETTERS - 1U);

	return (char)(((uint32_t)'A' + v) +
	    (digit & ((uint32_t)'2' - (uint32_t)'A' - B32_LETTERS)));
}

size_t
ft_base32_encoded_len(size_t n, bool pad)
{
	size_t full = n / B32_BLOCK_BYTES, rem = n % B32_BLOCK_BYTES;

	if (rem == 0)
		return full * B32_BLOCK_CHARS;
	return full * B32_BLOCK_CHARS +
	    (pad ? B32_BLOCK_CHARS : b32_tail_chars[rem]);
}

int
ft_base32_encode(
    const uint8_t *in, size_t n, bool pad, char *out, size_t outlen)
{
	size_t i, o = 0, need;
	uint32_t acc = 0;
	unsigned bits = 0;

	if ((in == NULL && n > 0) || out == NULL ||
	    n > (SIZE_MAX - B32_BLOCK_CHARS) / B32_BLOCK_CHARS)
		return FT_ERR_ARG;
	need = ft_base32_encoded_len(n, pad);
	if (outlen < need + 1U)
		return FT_ERR_ARG;
	for (i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8U;
		while (bits >= B32_BITS) {
			bits -= B32_BITS;
			out[o++] = b32_char((acc >> bits) & B32_MASK);
		}
	}
	if (bits > 0)
		out[o++] = b32_char((acc << (B32_BITS - bits)) & B32_MASK);
	while (o < need)
		out[o++] = B32_PAD;
	out[o] = '\0';
	ft_wipe(&acc, sizeof(acc));
	return FT_OK;
}

static bool
b32_skippable(char c)
{
	return c == ' ' || c == '-';
}

/* Count data characters and check the syntax: alphabet, padding only at the
 * end and (if present) complete, a possible length. */
static int
b32_scan(const char *in, size_t *ndata_out)
{
	size_t ndata = 0, npad = 0;
	const char *s;

	for (s = in; *s != '\0'; s++) {
		if (b32_skippable(*s))
			continue;
		if (*s == B32_PAD) {
			npad++;
			continue;
		}
		if (b32_value((unsigned char)*s) < 0 || npad > 0)
			return FT_ERR_PARSE;
		ndata++;
	}
	if (b32_tail_bytes[ndata % B32_BLOCK_CHARS] < 0)
		return FT_ERR_PARSE;
	if (npad > 0 && (ndata + npad) % B32_BLOCK_CHARS != 0)
		return FT_ERR_PARSE;
	if (npad >= B32_BLOCK_CHARS)
		return FT_ERR_PARSE;
	*ndata_out = ndata;
	return FT_OK;
}

int
ft_base32_decode(const char *in, uint8_t *out, size_t outcap, size_t *outlen)
{
	size_t ndata, nbytes, o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	const char *s;
	int rc, v;

	if (in == NULL || outlen == NULL || (out == NULL && outcap > 0))
		return FT_ERR_ARG;
	*outlen = 0;
	if ((rc = b32_scan(in, &ndata)) != FT_OK)
		return rc;
	nbytes = ndata / B32_BLOCK_CHARS * B32_BLOCK_BYTES +
	    (size_t)b32_tail_bytes[ndata % B32_BLOCK_CHARS];
	if (nbytes > outcap)
		return FT_ERR_ARG;
	for (s = in; *s != '\0' && *s != B32_PAD; s++) {
		if (b32_skippable(*s))
			continue;
		v = b32_value((unsigned char)*s);
		acc = (acc << B32_BITS) | (uint32_t)v;
		bits += B32_BITS;
		if (bits >= 8U) {
			bits -= 8U;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* Leftover bits must be zero, otherwise two strings decode alike. */
	if ((acc & ((1U << bits) - 1U)) != 0) {
		ft_wipe(out, o);
		rc = FT_ERR_PARSE;
		goto out;
	}
	*outlen = o;
	rc = FT_OK;
out:
	ft_wipe(&acc, sizeof(acc));
	return rc;
}
