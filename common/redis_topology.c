/* The pure text logic of Redis Sentinel and Cluster (redis_topology.h). */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rc.h"
#include "redis_topology.h"

#define PORT_MAX 65535U
#define PORT_DIGITS_MAX 5U
#define SLOT_DIGITS_MAX 5U
#define DECIMAL_BASE 10U
#define CRC16_POLY 0x1021U /* CRC16-CCITT (XMODEM), as Redis Cluster uses */
#define CRC16_TOP 0x8000U
#define CRC16_MASK 0xffffU
#define BITS_PER_BYTE 8U
#define SHOWN_MAX 64 /* characters of a bad entry quoted */

/* How much of a bad entry a message quotes: at most SHOWN_MAX characters,
 * and nothing from the first control character on (it could start a
 * forged log line). */
static int
shown(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < (size_t)SHOWN_MAX; i++)
		if ((unsigned char)s[i] < 0x20U || (unsigned char)s[i] == 0x7fU)
			break;
	return (int)i;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* n bytes of decimal digits, 1..max_digits of them, at most max. */
static bool
parse_uint(
    const char *s, size_t n, size_t max_digits, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (n < 1 || n > max_digits)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * DECIMAL_BASE + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* A host: printable, no blank, comma or brace (that would not name one
 * host), no ':' unless it came in brackets. */
static bool
good_host(const char *h, size_t n, bool bracketed)
{
	size_t i;

	if (n == 0 || n >= FT_REDIS_HOST_MAX)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)h[i];

		if (c <= 0x20U || c >= 0x7fU || c == ',' || c == '[' ||
		    c == ']' || (c == ':' && !bracketed))
			return false;
	}
	return true;
}

int
ft_redis_addr_parse(const char *s, size_t n, struct ft_redis_addr *out,
    char *err, size_t errlen)
{
	const char *colon, *host = s;
	size_t hlen;
	bool br = n > 0 && s[0] == '[';

	memset(out, 0, sizeof(*out));
	colon = n > 0 ? memrchr(s, ':', n) : NULL;
	if (colon == NULL)
		goto bad;
	hlen = (size_t)(colon - s);
	if (br) {
		if (hlen < 2 || s[hlen - 1] != ']')
			goto bad;
		host = s + 1;
		hlen -= 2;
	}
	if (!good_host(host, hlen, br) ||
	    !parse_uint(colon + 1, n - (size_t)(colon + 1 - s), PORT_DIGITS_MAX,
		PORT_MAX, &out->port) ||
	    out->port == 0)
		goto bad;
	memcpy(out->host, host, hlen);
	out->host[hlen] = '\0';
	return FT_OK;
bad:
	memset(out, 0, sizeof(*out));
	return ft_seterr(err, errlen, FT_ERR_PARSE, "\"%.*s\" is not host:port",
	    shown(s, n), s);
}

int
ft_redis_addr_list(const char *list, struct ft_redis_addr *out, size_t max,
    size_t *n, char *err, size_t errlen)
{
	const char *p = list, *end, *a, *b;
	int rc;

	*n = 0;
	for (;;) {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		for (a = p; a < end && is_blank(*a); a++)
			;
		for (b = end; b > a && is_blank(b[-1]); b--)
			;
		if (*n >= max)
			return ft_seterr(err, errlen, FT_ERR_PARSE,
			    "more than %zu addresses", max);
		rc = ft_redis_addr_parse(
		    a, (size_t)(b - a), &out[*n], err, errlen);
		if (rc != FT_OK)
			return rc;
		(*n)++;
		if (*end == '\0')
			return FT_OK;
		p = end + 1;
	}
}

int
ft_redis_prefix_check(const char *prefix, char *err, size_t errlen)
{
	if (prefix[0] == '\0' || strpbrk(prefix, "{}") != NULL)
		return ft_seterr(err, errlen, FT_ERR_PARSE,
		    "redis_prefix must be non-empty and hold no { or } (the "
		    "user name is the keys' hash tag)");
	return FT_OK;
}

int
ft_redis_user_key(const char *prefix, const char *user, const char *suffix,
    char *out, size_t outlen)
{
	int n;

	if (outlen == 0)
		return FT_ERR_TOOBIG;
	out[0] = '\0';
	if (ft_redis_prefix_check(prefix, NULL, 0) != FT_OK)
		return FT_ERR_PARSE;
	if (user[0] == '\0' || strchr(user, '}') != NULL)
		return FT_ERR_ARG;
	n = snprintf(out, outlen, "%s:{%s}:%s", prefix, user, suffix);
	if (n < 0 || (size_t)n >= outlen) {
		out[0] = '\0';
		return FT_ERR_TOOBIG;
	}
	return FT_OK;
}

static unsigned
crc16(const unsigned char *p, size_t n)
{
	unsigned crc = 0;
	size_t i;
	unsigned b;

	for (i = 0; i < n; i++) {
		crc ^= (unsigned)p[i] << BITS_PER_BYTE;
		for (b = 0; b < BITS_PER_BYTE; b++)
			crc = (crc & CRC16_TOP) ? ((crc << 1) ^ CRC16_POLY)
						: (crc << 1);
		crc &= CRC16_MASK;
	}
	return crc;
}

unsigned
ft_redis_key_slot(const char *key, size_t len)
{
	const char *open = memchr(key, '{', len), *close;

	/* The tag is what lies between the first { and the first } after
	 * it, if that is not empty. */
	if (open != NULL) {
		close = memchr(open + 1, '}', len - (size_t)(open + 1 - key));
		if (close != NULL && close > open + 1)
			return crc16((const unsigned char *)open + 1,
				   (size_t)(close - open - 1)) %
			    FT_REDIS_SLOTS;
	}
	return crc16((const unsigned char *)key, len) % FT_REDIS_SLOTS;
}

/* Does s start with the word (then a blank, or the end)? */
static bool
starts(const char *s, size_t n, const char *word)
{
	size_t w = strlen(word);

	return n >= w && memcmp(s, word, w) == 0 && (n == w || s[w] == ' ');
}

int
ft_redis_redirect_parse(const char *s, size_t n, struct ft_redis_redirect *out,
    char *err, size_t errlen)
{
	const char *p, *sp;
	size_t left;

	memset(out, 0, sizeof(*out));
	if (starts(s, n, "MOVED"))
		p = s + sizeof("MOVED") - 1;
	else if (starts(s, n, "ASK"))
		p = s + sizeof("ASK") - 1;
	else
		return FT_OK;
	left = n - (size_t)(p - s);
	if (left == 0)
		goto bad;
	p++; /* the blank */
	left--;
	sp = memchr(p, ' ', left);
	if (sp == NULL ||
	    !parse_uint(p, (size_t)(sp - p), SLOT_DIGITS_MAX,
		FT_REDIS_SLOTS - 1U, &out->slot))
		goto bad;
	left -= (size_t)(sp + 1 - p);
	p = sp + 1;
	if (left > 0 && p[0] == ':') {
		/* ":port": the node knows no endpoint; the caller's host. */
		if (!parse_uint(p + 1, left - 1, PORT_DIGITS_MAX, PORT_MAX,
			&out->to.port) ||
		    out->to.port == 0)
			goto bad;
	} else if (ft_redis_addr_parse(p, left, &out->to, err, errlen) != FT_OK)
		goto bad;
	out->kind = s[0] == 'M' ? FT_REDIS_MOVED : FT_REDIS_ASK;
	return FT_OK;
bad:
	memset(out, 0, sizeof(*out));
	return ft_seterr(err, errlen, FT_ERR_PARSE,
	    "malformed cluster redirect \"%.*s\"", shown(s, n), s);
}
