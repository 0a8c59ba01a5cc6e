/* Reading oath-toolkit's usersfile (pam_oath's usersfile=, often
 * /etc/users.oath) for `totp-enroll import --from pam_oath`.  Pure: the
 * caller reads the file safely and hands over the bytes.
 *
 *   # comment                          lines starting with '#', and blank
 *   HOTP/T30     alice  -  3132...30   lines, say nothing
 *   HOTP/T60/8   bob    -  0011...ff  0  12345678  2024-01-02T03:04:05L
 *
 * Fields are separated by spaces or tabs: TYPE USER PIN SECRET_HEX, then
 * optionally COUNTER, LAST_OTP and TIMESTAMP (pam_oath's own bookkeeping,
 * checked for their form and not kept).  TYPE is HOTP, HOTP/E, HOTP/E/6..8
 * (counter based), HOTP/T30[/6..8] or HOTP/T60[/6..8] (time based, 30 or
 * 60 second steps; 6 digits when not given).  PIN "-" means none.
 *
 * Entries are read one at a time; a malformed line is an error (the file
 * is never half understood).  HOTP entries and PINs are returned as read:
 * refusing them is the importer's job, per user. */
#ifndef FLOWTOTP_OATHFILE_H
#define FLOWTOTP_OATHFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otp.h"

/* A few thousand users at well under 100 bytes a line. */
#define CLI_OATH_MAX_SIZE (1024U * 1024U)
#define CLI_OATH_LINE_MAX 1024U
#define CLI_OATH_USER_MAX 256U /* bytes, with the NUL (CLI_NAME_MAX) */
#define CLI_OATH_KEY_MIN FT_KEY_MIN
#define CLI_OATH_KEY_MAX FT_KEY_MAX

enum cli_oath_kind {
	CLI_OATH_HOTP, /* counter based: flowtotp cannot take it over */
	CLI_OATH_TOTP,
};

struct cli_oath_entry {
	unsigned line; /* 1-based line number in the file */
	enum cli_oath_kind kind;
	unsigned digits; /* 6..8 */
	unsigned period; /* seconds (TOTP); 0 for HOTP */
	bool pin;	 /* a PIN other than "-" */
	char user[CLI_OATH_USER_MAX];
	uint8_t key[CLI_OATH_KEY_MAX];
	size_t keylen;
};

struct cli_oath_reader {
	const char *p, *end;
	unsigned no; /* lines read so far */
};

/* Start reading buf[0..len) (need not be NUL-terminated).  FT_OK, or
 * FT_ERR_PARSE (err set) for a buffer over CLI_OATH_MAX_SIZE or with a NUL
 * byte. */
int cli_oath_begin(struct cli_oath_reader *r, const char *buf, size_t len,
    char *err, size_t errlen);

/* The next entry: 1 with *e filled, 0 at the end of the file, or
 * FT_ERR_PARSE with err naming the line and the field (never its
 * content, except a user name), *e wiped. */
int cli_oath_next(struct cli_oath_reader *r, struct cli_oath_entry *e,
    char *err, size_t errlen);

void cli_oath_wipe(struct cli_oath_entry *e);

#endif
