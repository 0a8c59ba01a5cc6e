/* HOTP (RFC 4226) and TOTP (RFC 6238) over OpenSSL HMAC. */
#ifndef FLOWTOTP_OTP_H
#define FLOWTOTP_OTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum ft_algo { FT_ALGO_SHA1 = 0, FT_ALGO_SHA256 = 1, FT_ALGO_SHA512 = 2 };

#define FT_DIGITS_MIN 6U
#define FT_DIGITS_MAX 8U
#define FT_DIGITS_DEFAULT 6U
#define FT_PERIOD_MIN 15U
#define FT_PERIOD_MAX 300U
#define FT_PERIOD_DEFAULT 30U
#define FT_WINDOW_MAX 10U /* steps either side */
#define FT_KEY_MIN                                                             \
	10U /* bytes (80 bits, RFC 4226 minimum is 128 bits recommended 160)   \
	     */
#define FT_KEY_MAX 128U	   /* bytes */
#define FT_KEY_DEFAULT 20U /* bytes: 160 bits */
#define FT_CODE_BUFSZ 16U  /* enough for FT_DIGITS_MAX digits + NUL */

/* "SHA1", "SHA256", "SHA512"; NULL for an invalid value. */
const char *ft_algo_name(enum ft_algo algo);
/* Case-insensitive parse of "SHA1"/"SHA256"/"SHA512"; FT_OK or FT_ERR_ARG. */
int ft_algo_parse(const char *s, enum ft_algo *out);

/* HOTP value (already reduced modulo 10^digits).  FT_OK or an error. */
int ft_hotp(const uint8_t *key, size_t keylen, enum ft_algo algo,
    uint64_t counter, unsigned digits, uint32_t *code_out);

/* Write code zero-padded to digits into buf; FT_OK or FT_ERR_ARG. */
int ft_code_format(uint32_t code, unsigned digits, char *buf, size_t buflen);

/* floor(now / period); now < 0 is an error. */
int ft_totp_step(time_t now, unsigned period, uint64_t *step_out);

struct ft_totp_params {
	const uint8_t *key;
	size_t keylen;
	enum ft_algo algo;
	unsigned digits;
	unsigned period;
	unsigned window; /* steps either side, 0..FT_WINDOW_MAX */
};

/* TOTP value for the given time (p->window is not used). */
int ft_totp(const struct ft_totp_params *p, time_t now, uint32_t *code_out);

/* Check a user-supplied code (exactly `digits` ASCII digits, nothing else)
 * against every step in [step-window, step+window].  Every candidate is
 * computed and compared in constant time (no early exit), so timing does not
 * reveal which offset matched.  Returns 1 on a match (offset_out and
 * step_out set; if several steps match, the one closest to now wins, ties to
 * the earlier), 0 on no match or malformed code, negative ft_rc on error. */
int ft_totp_match(const struct ft_totp_params *p, time_t now, const char *code,
    int *offset_out, uint64_t *step_out);

#endif
