#include <config.h>

#include <stdlib.h>
#include <string.h>

#ifndef HAVE_EXPLICIT_BZERO
#include <openssl/crypto.h> /* OPENSSL_cleanse */
#endif

#include "wipe.h"

/* explicit_bzero where libc has it: as sure as OPENSSL_cleanse not to be
 * optimised away, and it runs at memset speed, where OPENSSL_cleanse stores
 * 8 bytes at a time; a login wipes some 30 KB. */
void
ft_wipe(void *p, size_t len)
{
	if (p == NULL || len == 0)
		return;
#ifdef HAVE_EXPLICIT_BZERO
	explicit_bzero(p, len);
#else
	OPENSSL_cleanse(p, len);
#endif
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
