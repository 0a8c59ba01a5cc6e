/* A QR code drawn as text: the one renderer totp-enroll and the module's
 * enrolment at login share.
 *
 * The encoder (libqrencode) is passed in rather than called: totp-enroll
 * links it, while the module loads it with dlopen only when it enrols
 * someone, so an ordinary login never maps it.  This file only reads the
 * symbol libqrencode returns and uses none of its functions. */
#ifndef FLOWTOTP_QR_H
#define FLOWTOTP_QR_H

#include <stddef.h>

#include <qrencode.h>

/* The soname the module loads (libqrencode 4.x, Debian libqrencode4). */
#define FT_QR_SONAME "libqrencode.so.4"

/* The two libqrencode entry points the renderer needs. */
typedef QRcode *(*ft_qr_encode_fn)(
    const char *string, int version, QRecLevel level);
typedef void (*ft_qr_free_fn)(QRcode *qrcode);

struct ft_qr_lib {
	ft_qr_encode_fn encode; /* QRcode_encodeString8bit */
	ft_qr_free_fn free;	/* QRcode_free */
};

enum ft_qr_style {
	/* Two rows of modules per line with the UTF-8 half blocks, no escape
	 * codes: what an SSH client shows as it is. */
	FT_QR_STYLE_UTF8 = 0,
	/* One module is two spaces on a white or black background (ANSI
	 * escapes): scans whatever the terminal's colours are. */
	FT_QR_STYLE_ANSI,
	/* The utf8 style with the light and dark modules swapped: for a
	 * terminal with dark text on a light background. */
	FT_QR_STYLE_UTF8_INVERTED,
};

/* Draw `text` (8-bit mode, error correction L, a quiet zone of 2 modules)
 * into a malloc'd NUL-terminated string, one line per row, each ending in
 * '\n'.  *out (*outlen bytes, without the NUL) encodes the secret: the
 * caller must ft_wipe_free(*out, *outlen).  FT_OK, FT_ERR_TOOBIG (too long
 * for a QR code), FT_ERR_NOMEM or FT_ERR_ARG. */
int ft_qr_render(const struct ft_qr_lib *lib, const char *text,
    enum ft_qr_style style, char **out, size_t *outlen);

#endif
