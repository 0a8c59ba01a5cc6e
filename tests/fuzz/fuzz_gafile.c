/* libFuzzer target: the google-authenticator file reader of
 * `totp-enroll import` (cli/gafile.c).
 *
 * Any input is either refused with a message that holds no line of the
 * input long enough to be a secret or a scratch code, or read into a key
 * of a usable length and a period flowtotp supports. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gafile.h"
#include "otp.h"
#include "rc.h"

#define ERRLEN 256U
#define SHOWN_MIN 8U /* a scratch code: 8 digits */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Does err contain the first line of the input (the secret), when that
 * line is long enough to matter? */
static int
leaks_first_line(const uint8_t *data, size_t size, const char *err)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t len = nl != NULL ? (size_t)(nl - data) : size;
	char line[ERRLEN];

	if (len < SHOWN_MIN || len >= sizeof(line) ||
	    memchr(data, '\0', len) != NULL)
		return 0;
	memcpy(line, data, len);
	line[len] = '\0';
	return strstr(err, line) != NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cli_ga g;
	char err[ERRLEN];
	int rc;

	err[0] = '\0';
	rc = cli_ga_parse((const char *)data, size, &g, err, sizeof(err));
	if (rc != FT_OK) {
		if (err[0] == '\0' || leaks_first_line(data, size, err))
			abort();
		return 0;
	}
	if (g.keylen < FT_KEY_MIN || g.keylen > FT_KEY_MAX ||
	    g.period < FT_PERIOD_MIN || g.period > FT_PERIOD_MAX ||
	    g.nscratch > CLI_GA_SCRATCH_MAX)
		abort();
	cli_ga_wipe(&g);
	return 0;
}
