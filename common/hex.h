/* Lower-case hex, strict: the store key file and secret_enc (flowtotp(5)). */
#ifndef FLOWTOTP_HEX_H
#define FLOWTOTP_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Encode len bytes into out (2 * len + 1 bytes, NUL-terminated).
 * FT_OK or FT_ERR_ARG (no room). */
int ft_hex_encode(const uint8_t *in, size_t len, char *out, size_t outlen);

/* Decode the NUL-terminated string s (digits 0-9a-fA-F only, even length)
 * into out (at most outcap bytes); *outlen receives the length.
 * FT_ERR_PARSE for a bad digit or an odd length, FT_ERR_TOOBIG when it
 * does not fit (out is then wiped). */
int ft_hex_decode(const char *s, uint8_t *out, size_t outcap, size_t *outlen);

#endif
