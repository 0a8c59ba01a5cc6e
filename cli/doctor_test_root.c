/* totp-enroll doctor, test build only (cli/totp-enroll-test, never
 * installed): FT_TEST_DOCTOR_ROOT=DIR points the checks at a prepared tree
 * for what a test machine cannot change:
 *   DIR/pam.d/            the PAM services
 *   DIR/sshd_config       run sshd -T -f on it (with DIR/hostkey)
 *   DIR/clock             what timedatectl show would print
 *   DIR/tmpfiles.d/flowtotp.conf
 *   DIR/ordinary_user     the ordinary user sshd -T -C is asked about
 * Unset: the real machine, as in doctor_root.c. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"

static void
first_line(const char *path, char *out, size_t outlen)
{
	FILE *f = fopen(path, "re");
	size_t n;

	out[0] = '\0';
	if (f == NULL)
		return;
	if (fgets(out, (int)outlen, f) == NULL)
		out[0] = '\0';
	n = strcspn(out, "\n");
	out[n] = '\0';
	(void)fclose(f);
}

void
doc_root_get(struct doc_root *r)
{
	const char *d = getenv("FT_TEST_DOCTOR_ROOT");
	char path[PATH_MAX];

	memset(r, 0, sizeof(*r));
	if (d == NULL || d[0] != '/') {
		(void)snprintf(r->pamd, sizeof(r->pamd), "%s", DOC_PAMD);
		(void)snprintf(r->tmpfiles[0], sizeof(r->tmpfiles[0]), "%s",
		    DOC_TMPFILES_ETC);
		(void)snprintf(r->tmpfiles[1], sizeof(r->tmpfiles[1]), "%s",
		    DOC_TMPFILES_LIB);
		return;
	}
	(void)snprintf(r->pamd, sizeof(r->pamd), "%s/pam.d", d);
	(void)snprintf(
	    r->sshd_config, sizeof(r->sshd_config), "%s/sshd_config", d);
	(void)snprintf(
	    r->sshd_hostkey, sizeof(r->sshd_hostkey), "%s/hostkey", d);
	(void)snprintf(r->clock, sizeof(r->clock), "%s/clock", d);
	(void)snprintf(r->tmpfiles[0], sizeof(r->tmpfiles[0]),
	    "%s/tmpfiles.d/flowtotp.conf", d);
	(void)snprintf(path, sizeof(path), "%s/ordinary_user", d);
	first_line(path, r->ordinary_user, sizeof(r->ordinary_user));
}
