/* A QR code of a text (the otpauth URI), drawn as text (see qr.h).
 *
 * libqrencode gives a square of modules (bit 0 of each byte: dark).  The
 * utf8 style puts two rows of modules in one character cell with the half
 * blocks; the character's foreground is a light module and a space is a
 * dark one (the usual look on a dark terminal, the same convention as
 * qrencode -t UTF8); the inverted utf8 style swaps them, for dark text on a
 * light background.  The ansi style draws one module as two spaces with a
 * white or black background.  A quiet zone of QR_QUIET modules surrounds
 * the symbol: the specification asks for 4, but every phone scanner we
 * know reads 2 on a screen, and the 4 rows saved are what lets a default
 * enrolment fit an 80 x 24 terminal with the prompt below it.
 *
 * Error correction L (7 %) is enough on a screen, which is not dirtied or
 * torn as paper is; a higher level would need a larger symbol.
 *
 * The whole drawing is sized before it is written, into one buffer: the
 * module sends it as one PAM message, and totp-enroll prints it. */
#include <config.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "qr.h"
#include "rc.h"
#include "wipe.h"

#define QR_QUIET 2
#define QR_DARK_BIT 0x01U
#define QR_VERSION_AUTO 0 /* smallest version that fits */
#define QR_WIDTH_MAX 177  /* version 40 */

#define UTF8_FULL "\xe2\x96\x88"  /* U+2588 full block */
#define UTF8_UPPER "\xe2\x96\x80" /* U+2580 upper half block */
#define UTF8_LOWER "\xe2\x96\x84" /* U+2584 lower half block */
#define UTF8_EMPTY " "
#define UTF8_CELL_MAX (sizeof(UTF8_FULL) - 1U)

#define ANSI_LIGHT "\033[47m" /* white background */
#define ANSI_DARK "\033[40m"  /* black background */
#define ANSI_RESET "\033[0m"
#define ANSI_CELL "  "
#define ANSI_COLOUR_LEN (sizeof(ANSI_LIGHT) - 1U)

/* The drawing being written: never past cap (sized by draw_size). */
struct qr_text {
	char *buf;
	size_t len, cap;
};

static void
put(struct qr_text *t, const char *s)
{
	size_t n = strlen(s);

	if (n > t->cap - t->len)
		n = t->cap -
		    t->len; /* not reached: draw_size is an upper bound */
	memcpy(t->buf + t->len, s, n);
	t->len += n;
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

/* The character for two stacked modules; `inverted` draws the dark ones
 * with the foreground (for a light terminal background). */
static const char *
utf8_cell(bool top_dark, bool bottom_dark, bool inverted)
{
	if (inverted) {
		top_dark = !top_dark;
		bottom_dark = !bottom_dark;
	}
	if (!top_dark && !bottom_dark)
		return UTF8_FULL;
	if (!top_dark)
		return UTF8_UPPER;
	if (!bottom_dark)
		return UTF8_LOWER;
	return UTF8_EMPTY;
}

static void
draw_utf8(struct qr_text *t, const QRcode *qr, bool inverted)
{
	int size = qr->width + 2 * QR_QUIET, x, y;

	for (y = 0; y < size; y += 2) {
		for (x = 0; x < size; x++)
			put(t,
			    utf8_cell(
				dark(qr, x, y), dark(qr, x, y + 1), inverted));
		put(t, "\n");
	}
}

static void
draw_ansi(struct qr_text *t, const QRcode *qr)
{
	int size = qr->width + 2 * QR_QUIET, x, y, cur;

	for (y = 0; y < size; y++) {
		cur = -1;
		for (x = 0; x < size; x++) {
			int d = dark(qr, x, y) ? 1 : 0;

			if (d != cur)
				put(t, d ? ANSI_DARK : ANSI_LIGHT);
			cur = d;
			put(t, ANSI_CELL);
		}
		put(t, ANSI_RESET "\n");
	}
}

/* The most bytes a drawing of a symbol `width` modules wide can take. */
static size_t
draw_size(int width, enum ft_qr_style style)
{
	size_t side = (size_t)width + 2U * QR_QUIET;

	if (style != FT_QR_STYLE_ANSI)
		return (side + 1U) / 2U * (side * UTF8_CELL_MAX + 1U);
	return side *
	    (side * (ANSI_COLOUR_LEN + strlen(ANSI_CELL)) + strlen(ANSI_RESET) +
		1U);
}

static int
draw(const QRcode *qr, enum ft_qr_style style, char **out, size_t *outlen)
{
	struct qr_text t = {NULL, 0, 0};

	if (qr->width <= 0 || qr->width > QR_WIDTH_MAX)
		return FT_ERR_ARG;
	t.cap = draw_size(qr->width, style);
	t.buf = malloc(t.cap + 1U);
	if (t.buf == NULL)
		return FT_ERR_NOMEM;
	if (style == FT_QR_STYLE_ANSI)
		draw_ansi(&t, qr);
	else
		draw_utf8(&t, qr, style == FT_QR_STYLE_UTF8_INVERTED);
	t.buf[t.len] = '\0';
	*out = t.buf;
	*outlen = t.len;
	return FT_OK;
}

int
ft_qr_render(const struct ft_qr_lib *lib, const char *text,
    enum ft_qr_style style, char **out, size_t *outlen)
{
	QRcode *qr;
	int rc;

	*out = NULL;
	*outlen = 0;
	if (lib == NULL || lib->encode == NULL || lib->free == NULL ||
	    text == NULL)
		return FT_ERR_ARG;
	/* 8-bit mode: the URI is bytes, not Kanji or alphanumerics.  Level L:
	 * see the top of this file. */
	qr = lib->encode(text, QR_VERSION_AUTO, QR_ECLEVEL_L);
	if (qr == NULL)
		return FT_ERR_TOOBIG; /* ERANGE: too long; or ENOMEM */
	rc = draw(qr, style, out, outlen);
	/* The symbol encodes the secret. */
	if (qr->width > 0)
		ft_wipe(qr->data, (size_t)qr->width * (size_t)qr->width);
	lib->free(qr);
	return rc;
}
