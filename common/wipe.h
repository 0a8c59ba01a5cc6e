/* Secret hygiene: zeroing memory that held a secret, in a way the
 * compiler may not optimise away. */
#ifndef FLOWTOTP_WIPE_H
#define FLOWTOTP_WIPE_H

#include <stddef.h>

/* Zero len bytes at p: explicit_bzero where libc has it, else
 * OPENSSL_cleanse (see wipe.c for why).  NULL-safe. */
void ft_wipe(void *p, size_t len);
/* Wipe strlen(s) bytes then free(s); NULL-safe. */
void ft_wipe_free_str(char *s);
/* Wipe len bytes then free(p); NULL-safe. */
void ft_wipe_free(void *p, size_t len);

#endif
