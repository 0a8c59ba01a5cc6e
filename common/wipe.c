#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "wipe.h"

void
ft_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		OPENSSL_cleanse(p, len);
}

void
ft_wipe_free(void *p, size_t len)
{
	if (p == NULL)
		return;
	ft_wipe(p, len);
	free(p);
}

void
ft_wipe_free_str(char *s)
{
	if (s == NULL)
		return;
	ft_wipe_free(s, strlen(s));
}

bool
ft_ct_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}
