/* The delivered-code record (state_deliver.h): layout and rules.
 *
 * Layout, little-endian, FT_DELIVER_REC_SIZE bytes:
 *   0  u8    version (1)      1  u8[3] zero
 *   4  u32   requests in the minute window
 *   8  i64   start of the minute window
 *  16  u32   requests in the hour window    20  u32 zero
 *  24  i64   start of the hour window
 *  32  i64   expiry of the code (0: none)
 *  40  u8[32] HMAC-SHA256 of the code (zero when none)
 * Rate windows are fixed: a window starts with the first request after the
 * previous one ended, and a refused request is not counted, so a flood of
 * requests never pushes the end of a window out. */
#include <config.h>

#include <string.h>

#include <openssl/crypto.h>

#include "le.h"
#include "rc.h"
#include "state_deliver.h"
#include "wipe.h"

#define OFF_N_MINUTE 4U
#define OFF_START_MINUTE 8U
#define OFF_N_HOUR 16U
#define OFF_PAD 20U
#define OFF_START_HOUR 24U
#define OFF_EXPIRES 32U
#define OFF_MAC 40U
#define U32 4U
#define U64 8U

void
ft_deliver_rec_encode(
    const struct ft_deliver_rec *r, uint8_t out[FT_DELIVER_REC_SIZE])
{
	memset(out, 0, FT_DELIVER_REC_SIZE);
	out[0] = (uint8_t)FT_DELIVER_REC_VERSION;
	ft_put_le(out + OFF_N_MINUTE, r->n_minute, U32);
	ft_put_le(out + OFF_START_MINUTE, (uint64_t)r->start_minute, U64);
	ft_put_le(out + OFF_N_HOUR, r->n_hour, U32);
	ft_put_le(out + OFF_START_HOUR, (uint64_t)r->start_hour, U64);
	ft_put_le(out + OFF_EXPIRES, (uint64_t)r->expires, U64);
	memcpy(out + OFF_MAC, r->mac, FT_DELIVER_MAC_LEN);
}

int
ft_deliver_rec_decode(const void *data, size_t len, struct ft_deliver_rec *r)
{
	const uint8_t *p = data;

	memset(r, 0, sizeof(*r));
	if (len < 1U || p[0] == 0)
		return FT_ERR_CORRUPT;
	if (p[0] > FT_DELIVER_REC_VERSION)
		return FT_ERR_VERSION;
	if (len != FT_DELIVER_REC_SIZE || p[1] != 0 || p[2] != 0 || p[3] != 0 ||
	    ft_get_le(p + OFF_PAD, U32) != 0)
		return FT_ERR_CORRUPT;
	r->n_minute = (uint32_t)ft_get_le(p + OFF_N_MINUTE, U32);
	r->start_minute = (int64_t)ft_get_le(p + OFF_START_MINUTE, U64);
	r->n_hour = (uint32_t)ft_get_le(p + OFF_N_HOUR, U32);
	r->start_hour = (int64_t)ft_get_le(p + OFF_START_HOUR, U64);
	r->expires = (int64_t)ft_get_le(p + OFF_EXPIRES, U64);
	memcpy(r->mac, p + OFF_MAC, FT_DELIVER_MAC_LEN);
	if (r->start_minute < 0 || r->start_hour < 0 || r->expires < 0) {
		ft_wipe(r, sizeof(*r));
		return FT_ERR_CORRUPT;
	}
	return FT_OK;
}

/* Start a new window when the old one is over (or the clock went back
 * before its start); true if the window still has room. */
static bool
window_room(
    uint32_t *n, int64_t *start, int64_t now, int64_t len, unsigned limit)
{
	if (*start == 0 || now < *start || now - *start >= len) {
		*start = now;
		*n = 0;
	}
	return *n < limit;
}

static void
issue(struct ft_state_deliver *d, struct ft_deliver_rec *r)
{
	const int64_t now = (int64_t)d->now;
	bool m, h;

	m = window_room(&r->n_minute, &r->start_minute, now, FT_DELIVER_MINUTE,
	    d->per_minute);
	h = window_room(
	    &r->n_hour, &r->start_hour, now, FT_DELIVER_HOUR, d->per_hour);
	if (!m || !h) {
		d->verdict = FT_DELIVER_LIMITED;
		return;
	}
	r->n_minute++;
	r->n_hour++;
	/* A new code replaces the one before: one valid code at a time. */
	memcpy(r->mac, d->mac, FT_DELIVER_MAC_LEN);
	r->expires = now + (int64_t)d->ttl;
	d->verdict = FT_DELIVER_ISSUED;
}

static bool
redeem(struct ft_state_deliver *d, struct ft_deliver_rec *r)
{
	const int64_t now = (int64_t)d->now;
	bool live = r->expires != 0 && now < r->expires;

	/* Compared whether or not a code is live: the time does not say. */
	if (CRYPTO_memcmp(r->mac, d->mac, FT_DELIVER_MAC_LEN) == 0 && live) {
		d->verdict = FT_DELIVER_REDEEMED;
	} else {
		d->verdict = FT_DELIVER_NO_MATCH;
		if (live || r->expires == 0)
			return false; /* a wrong guess leaves the code */
	}
	/* Used, or expired: gone. */
	ft_wipe(r->mac, sizeof(r->mac));
	r->expires = 0;
	return true;
}

bool
ft_deliver_apply(struct ft_state_deliver *d, struct ft_deliver_rec *r)
{
	d->verdict = FT_DELIVER_REFUSED;
	if (d->action == FT_DELIVER_ISSUE) {
		issue(d, r);
		return true; /* windows may have moved */
	}
	if (d->action == FT_DELIVER_REDEEM)
		return redeem(d, r);
	return false;
}
