#include <config.h>

#include <limits.h>

#include <openssl/rand.h>

#include "rc.h"
#include "random.h"

int
ft_random_bytes(uint8_t *buf, size_t len)
{
	if (buf == NULL || len > INT_MAX)
		return FT_ERR_ARG;
	if (RAND_bytes(buf, (int)len) != 1)
		return FT_ERR_CRYPTO;
	return FT_OK;
}

int
ft_random_uniform(uint32_t bound, uint32_t *out)
{
	/* Reject values in the incomplete last block so every result is
	 * equally likely. */
	uint32_t limit, v;
	int rc;

	if (bound == 0 || out == NULL)
		return FT_ERR_ARG;
	limit = UINT32_MAX - (UINT32_MAX % bound);
	do {
		rc = ft_random_bytes((uint8_t *)&v, sizeof(v));
		if (rc != FT_OK)
			return rc;
	} while (v >= limit);
	*out = v % bound;
	return FT_OK;
}
