/* otpauth:// key URIs (the Google Authenticator key-uri format). */
#ifndef FLOWTOTP_URI_H
#define FLOWTOTP_URI_H

#include <stddef.h>
#include "otp.h"

/* Percent-encode everything except RFC 3986 unreserved characters
 * (A-Z a-z 0-9 - . _ ~).  Bytes >= 0x80 (UTF-8) are encoded byte by byte.
 * FT_OK, or FT_ERR_ARG if out is too small. */
int ft_percent_encode(const char *in, char *out, size_t outlen);

/* Build otpauth://totp/ISSUER:ACCOUNT?secret=B32&issuer=ISSUER&algorithm=..
 * &digits=..&period=..  Issuer may be NULL or "" (then no prefix and no
 * issuer parameter).  The ':' between issuer and account is literal;
 * issuer and account are percent-encoded (an issuer containing ':' is
 * rejected, FT_ERR_ARG, because apps split the label there).  secret_b32 is
 * emitted without padding; algorithm, digits and period come from p (its key
 * and window are not used).  Returns a malloc'd string in *out (caller wipes
 * and frees: it contains the secret). */
int ft_otpauth_uri(const char *issuer, const char *account,
    const char *secret_b32, const struct ft_totp_params *p, char **out);

#endif
