/* A QR code of the otpauth URI, drawn in the terminal.
 *
 * libqrencode gives a square of modules (bit 0 of each byte: dark).  Two
 * renderings:
 *  - utf8: one character cell holds two rows of modules with the half
 *    blocks; the character's foreground is a light module and a space is a
 *    dark one (the usual look on a dark terminal, the same convention as
 *    qrencode -t UTF8);
 *  - ansi: one module is two spaces with a white or black background, so it
 *    scans whatever the terminal's colours are.
 * A quiet zone of QR_QUIET modules surrounds the symbol, as the QR
 * specification requires. */
#include <config.h>

#include <langinfo.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <qrencode.h>

#include "cli.h"
#include "rc.h"
#include "wipe.h"

#define QR_QUIET 4
#define QR_DARK_BIT 0x01U
#define QR_VERSION_AUTO 0 /* smallest version that fits */

#define UTF8_FULL "\xe2\x96\x88"  /* U+2588 full block */
#define UTF8_UPPER "\xe2\x96\x80" /* U+2580 upper half block */
#define UTF8_LOWER "\xe2\x96\x84" /* U+2584 lower half block */
#define UTF8_EMPTY " "

#define ANSI_LIGHT "\033[47m" /* white background */
#define ANSI_DARK "\033[40m"  /* black background */
#define ANSI_RESET "\033[0m"
#define ANSI_CELL "  "

enum cli_qr_mode
cli_qr_auto(void)
{
	const char *cs = nl_langinfo(CODESET);

	if (cs != NULL && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0))
		return CLI_QR_UTF8;
	return CLI_QR_ANSI;
}

/* Is the module at (x, y) of the padded square dark?  Outside the symbol
 * (the quiet zone and beyond) everything is light. */
static bool
dark(const QRcode *qr, int x, int y)
{
	int sx = x - QR_QUIET, sy = y - QR_QUIET;

	if (sx < 0 || sy < 0 || sx >= qr->width || sy >= qr->width)
		return false;
	return (qr->data[sy * qr->width + sx] & QR_DARK_BIT) != 0;
}

static const char *
utf8_cell(bool top_dark, bool bottom_dark)
{
	if (!top_dark && !bottom_dark)
		return UTF8_FULL;
	if (!top_dark)
		return UTF8_UPPER;
	if (!bottom_dark)
		return UTF8_LOWER;
	return UTF8_EMPTY;
}

static int
print_utf8(FILE *out, const QRcode *qr)
{
	int size = qr->width + 2 * QR_QUIET, x, y;

	for (y = 0; y < size; y += 2) {
		for (x = 0; x < size; x++)
			if (fputs(utf8_cell(dark(qr, x, y), dark(qr, x, y + 1)),
				out) == EOF)
				return FT_ERR_IO;
		if (fputc('\n', out) == EOF)
			return FT_ERR_IO;
	}
	return FT_OK;
}

static int
print_ansi(FILE *out, const QRcode *qr)
{
	int size = qr->width + 2 * QR_QUIET, x, y, cur;

	for (y = 0; y < size; y++) {
		cur = -1;
		for (x = 0; x < size; x++) {
			int d = dark(qr, x, y) ? 1 : 0;

			if (d != cur &&
			    fputs(d ? ANSI_DARK : ANSI_LIGHT, out) == EOF)
				return FT_ERR_IO;
			cur = d;
			if (fputs(ANSI_CELL, out) == EOF)
				return FT_ERR_IO;
		}
		if (fputs(ANSI_RESET "\n", out) == EOF)
			return FT_ERR_IO;
	}
	return FT_OK;
}

int
cli_qr_print(FILE *out, const char *text, enum cli_qr_mode mode)
{
	QRcode *qr;
	int rc;

	if (mode == CLI_QR_NONE)
		return FT_OK;
	if (mode == CLI_QR_AUTO)
		mode = cli_qr_auto();
	/* 8-bit mode: the URI is bytes, not Kanji or alphanumerics. */
	qr = QRcode_encodeString8bit(text, QR_VERSION_AUTO, QR_ECLEVEL_M);
	if (qr == NULL)
		return FT_ERR_TOOBIG; /* ERANGE: too long; or ENOMEM */
	rc = mode == CLI_QR_UTF8 ? print_utf8(out, qr) : print_ansi(out, qr);
	/* The symbol encodes the secret. */
	ft_wipe(qr->data, (size_t)qr->width * (size_t)qr->width);
	QRcode_free(qr);
	return rc;
}
