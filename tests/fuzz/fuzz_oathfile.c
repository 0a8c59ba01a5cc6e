/* libFuzzer target: the oath-toolkit usersfile reader of `totp-enroll
 * import --from pam_oath` (cli/oathfile.c).
 *
 * Any input is read to its end or refused with a message that holds no run
 * of hex digits long enough to be (part of) a secret; every entry it
 * returns has a user name, a key of a usable length and a type that
 * flowtotp can tell apart (TOTP with 30 or 60 s steps, or HOTP). */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oathfile.h"
#include "otp.h"
#include "rc.h"

#define ERRLEN 256U
#define HEX_RUN_MAX 8U /* longest hex run a message may hold */
#define PERIOD_T30 30U
#define PERIOD_T60 60U

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
hex_run(const char *s)
{
	size_t run = 0;

	for (; *s != '\0'; s++) {
		run = ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
			  (*s >= 'A' && *s <= 'F'))
		    ? run + 1U
		    : 0U;
		if (run > HEX_RUN_MAX)
			return 1;
	}
	return 0;
}

static int
entry_bad(const struct cli_oath_entry *e)
{
	if (e->user[0] == '\0' || e->keylen < CLI_OATH_KEY_MIN ||
	    e->keylen > CLI_OATH_KEY_MAX || e->digits < FT_DIGITS_MIN ||
	    e->digits > FT_DIGITS_MAX || e->line == 0)
		return 1;
	if (e->kind == CLI_OATH_TOTP)
		return e->period != PERIOD_T30 && e->period != PERIOD_T60;
	return e->kind != CLI_OATH_HOTP || e->period != 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cli_oath_entry e;
	struct cli_oath_reader r;
	char err[ERRLEN];
	int rc;

	err[0] = '\0';
	rc = cli_oath_begin(&r, (const char *)data, size, err, sizeof(err));
	while (rc == FT_OK &&
	    (rc = cli_oath_next(&r, &e, err, sizeof(err))) == 1) {
		if (entry_bad(&e))
			abort();
		rc = FT_OK;
	}
	if (rc != 0 && (err[0] == '\0' || hex_run(err)))
		abort();
	cli_oath_wipe(&e);
	return 0;
}
