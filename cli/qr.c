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

static const struct ft_qr_lib qrencode = {QRcode_encodeString8bit, QRcode_free};

enum cli_qr_mode
cli_qr_auto(void)
{
	const char *cs = nl_langinfo(CODESET);

	if (cs != NULL && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0))
		return CLI_QR_UTF8;
	return CLI_QR_ANSI;
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
	rc = ft_qr_render(&qrencode, text,
	    mode == CLI_QR_UTF8 ? FT_QR_STYLE_UTF8 : FT_QR_STYLE_ANSI, &drawing,
	    &len);
	if (rc != FT_OK)
		return rc;
	if (fwrite(drawing, 1, len, out) != len)
		rc = FT_ERR_IO;
	ft_wipe_free(drawing, len);
	return rc;
}
