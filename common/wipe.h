/* Secret hygiene: wiping and constant-time comparison. */
#ifndef FLOWTOTP_WIPE_H
#define FLOWTOTP_WIPE_H

#include <stdbool.h>
#include <stddef.h>

/* OPENSSL_cleanse; NULL-safe. */
void ft_wipe(void *p, size_t len);
/* Wipe strlen(s) bytes then free(s); NULL-safe. */
void ft_wipe_free_str(char *s);
/* Wipe len bytes then free(p); NULL-safe. */
void ft_wipe_free(void *p, size_t len);
/* Constant-time equality of two equal-length buffers (CRYPTO_memcmp). */
bool ft_ct_equal(const void *a, const void *b, size_t len);

#endif
