/* The QR code of the otpauth URI on totp-enroll's terminal: the drawing is
 * common/qr.c's (shared with the module's enrolment at login); here we
 * pick the style and print it.  totp-enroll links libqrencode. */
#include <config.h>

#include <langinfo.h>
#include <stdio.h>
#include <string.h>

#include <qrencode.h>

#include "cli.h"
#include "qr.h"
#include "rc.h"
#include "wipe.h"

#define ANSI_COLS_PER_MODULE 2U /* two spaces make a square module */

static const struct ft_qr_lib qrencode = {QRcode_encodeString8bit, QRcode_free};

enum cli_qr_mode
cli_qr_auto(void)
{
	const char *cs = nl_langinfo(CODESET);

	if (cs != NULL && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0))
		return CLI_QR_UTF8;
	return CLI_QR_ANSI;
}

static enum ft_qr_style
style_of(enum cli_qr_mode mode)
{
	if (mode == CLI_QR_UTF8)
		return FT_QR_STYLE_UTF8;
	if (mode == CLI_QR_UTF8_INVERTED)
		return FT_QR_STYLE_UTF8_INVERTED;
	return FT_QR_STYLE_ANSI;
}

/* The ansi drawing has one line per module row and, a module being square,
 * two columns per module: count its lines to say how wide it is. */
static size_t
ansi_columns(const char *drawing, size_t len)
{
	size_t i, rows = 0;

	for (i = 0; i < len; i++)
		if (drawing[i] == '\n')
			rows++;
	return rows * ANSI_COLS_PER_MODULE;
}

int
cli_qr_print(FILE *out, const char *text, enum cli_qr_mode mode)
{
	char *drawing = NULL;
	size_t len = 0;
	int rc;

	if (mode == CLI_QR_NONE)
		return FT_OK;
	if (mode == CLI_QR_AUTO)
		mode = cli_qr_auto();
	rc = ft_qr_render(&qrencode, text, style_of(mode), &drawing, &len);
	if (rc != FT_OK)
		return rc;
	/* Said before the drawing, which would wrap on a narrower terminal
	 * and not scan: the fix is a UTF-8 locale, not a smaller code. */
	if (mode == CLI_QR_ANSI &&
	    fprintf(out,
		"This QR code needs %zu columns; if it wraps, use a UTF-8 "
		"locale or --qr=utf8 (half as wide).\n",
		ansi_columns(drawing, len)) < 0)
		rc = FT_ERR_IO;
	if (rc == FT_OK && fwrite(drawing, 1, len, out) != len)
		rc = FT_ERR_IO;
	ft_wipe_free(drawing, len);
	return rc;
}
