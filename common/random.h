/* Randomness: RAND_bytes only. */
#ifndef FLOWTOTP_RANDOM_H
#define FLOWTOTP_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* FT_OK or FT_ERR_CRYPTO. */
int ft_random_bytes(uint8_t *buf, size_t len);
/* Uniform integer in [0, bound) by rejection sampling; bound > 0. */
int ft_random_uniform(uint32_t bound, uint32_t *out);

#endif
