/* Base32 (RFC 4648, section 6 alphabet). */
#ifndef FLOWTOTP_BASE32_H
#define FLOWTOTP_BASE32_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Characters needed to encode n bytes (with or without '=' padding), not
 * counting the NUL. */
size_t ft_base32_encoded_len(size_t n, bool pad);

/* Encode upper-case; out must hold ft_base32_encoded_len()+1 bytes.
 * FT_OK or FT_ERR_ARG (too small). */
int ft_base32_encode(
    const uint8_t *in, size_t n, bool pad, char *out, size_t outlen);

/* Decode, tolerant of lower case, spaces, '-' and missing or present '='
 * padding (only at the end); strict about everything else: any other
 * character, padding in the middle, a length that cannot be valid base32,
 * or non-zero trailing bits give FT_ERR_PARSE.  *outlen receives the number of
 * bytes written.  FT_ERR_ARG if outcap is too small. */
int ft_base32_decode(
    const char *in, uint8_t *out, size_t outcap, size_t *outlen);

#endif
