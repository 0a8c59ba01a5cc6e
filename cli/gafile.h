/* Reading a google-authenticator-libpam file (~/.google_authenticator) for
 * `totp-enroll import`.  Pure: the caller reads the file safely and hands
 * over the bytes.
 *
 *   JBSWY3DPEHPK3PXP...     line 1: the base32 secret (any case; spaces
 *                           between groups are allowed, as in flowtotp(5))
 *   " TOTP_AUTH              option lines: a double quote, a space, a word
 *   " STEP_SIZE 30
 *   " WINDOW_SIZE 17
 *   12345678                up to 10 emergency scratch codes (8 digits)
 *
 * The algorithm is always SHA1 and codes have 6 digits.  Only the secret
 * and STEP_SIZE are taken over; HOTP_COUNTER is refused (flowtotp is TOTP
 * only); the other options are checked for their syntax, noted and ignored.
 * Scratch codes are counted, never kept. */
#ifndef FLOWTOTP_GAFILE_H
#define FLOWTOTP_GAFILE_H

#include <stddef.h>
#include <stdint.h>

#include "otp.h"
#include "secretfile.h"

#define CLI_GA_FILE ".google_authenticator"
#define CLI_GA_MAX_SIZE FT_SECRETFILE_MAX_SIZE
#define CLI_GA_SCRATCH_MAX 10U
#define CLI_GA_SCRATCH_DIGITS 8U

/* Options seen and not taken over, as bits. */
enum cli_ga_ignored {
	CLI_GA_WINDOW_SIZE = 1U << 0,
	CLI_GA_RATE_LIMIT = 1U << 1,
	CLI_GA_DISALLOW_REUSE = 1U << 2,
	CLI_GA_TIME_SKEW = 1U << 3,
	CLI_GA_RESETTING_TIME_SKEW = 1U << 4,
	CLI_GA_OTHER = 1U << 5, /* an option flowtotp does not know */
};
#define CLI_GA_NIGNORED 6U

struct cli_ga {
	uint8_t key[FT_KEY_MAX];
	size_t keylen;
	unsigned period;   /* STEP_SIZE, else FT_PERIOD_DEFAULT */
	unsigned ignored;  /* enum cli_ga_ignored */
	unsigned nscratch; /* scratch code lines seen (not kept) */
	/* The values of WINDOW_SIZE (codes accepted, e.g. 17 for +-8 steps)
	 * and TIME_SKEW (steps the app's clock was off), when given, for the
	 * warnings: neither is taken over. */
	long long window_size, time_skew;
};

/* Parse buf[0..len).  FT_OK; FT_ERR_UNSUPPORTED for an HOTP file;
 * FT_ERR_PARSE for anything else that is not a well-formed TOTP file
 * (NUL bytes, bad or short secret, a malformed option or other line).  err
 * names the line and the problem, never the secret or a code.  On error
 * *out is wiped. */
int cli_ga_parse(
    const char *buf, size_t len, struct cli_ga *out, char *err, size_t errlen);

/* The option name of bit i (0 .. CLI_GA_NIGNORED-1) of `ignored`. */
const char *cli_ga_ignored_name(unsigned i);

void cli_ga_wipe(struct cli_ga *g);

#endif
