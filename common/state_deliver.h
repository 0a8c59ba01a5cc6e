/* Internal: the delivered-code record and its rules (no I/O), shared by
 * the gdbm backend and mirrored by the Redis script.  See state.h,
 * "delivered codes", and flowtotp(5), "Delivery records". */
#ifndef FLOWTOTP_STATE_DELIVER_H
#define FLOWTOTP_STATE_DELIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state.h"

#define FT_DELIVER_REC_VERSION 1U
#define FT_DELIVER_REC_SIZE 72U

struct ft_deliver_rec {
	uint32_t n_minute;    /* requests granted in the minute window */
	int64_t start_minute; /* when that window began, 0 = none */
	uint32_t n_hour;
	int64_t start_hour;
	int64_t expires; /* the code is valid while now < expires; 0 none */
	uint8_t mac[FT_DELIVER_MAC_LEN];
};

void ft_deliver_rec_encode(
    const struct ft_deliver_rec *r, uint8_t out[FT_DELIVER_REC_SIZE]);
/* FT_OK, FT_ERR_VERSION (newer), FT_ERR_CORRUPT. */
int ft_deliver_rec_decode(
    const void *data, size_t len, struct ft_deliver_rec *r);

/* Apply d's action to r and set d->verdict; true if r changed and must
 * be stored. */
bool ft_deliver_apply(struct ft_state_deliver *d, struct ft_deliver_rec *r);

#endif
