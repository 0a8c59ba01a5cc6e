/* totp-enroll doctor: the real machine.  The installed binary has no way to
 * point the checks elsewhere (the test build links doctor_test_root.c). */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "doctor.h"

void
doc_root_get(struct doc_root *r)
{
	memset(r, 0, sizeof(*r));
	(void)snprintf(r->pamd, sizeof(r->pamd), "%s", DOC_PAMD);
	(void)snprintf(
	    r->tmpfiles[0], sizeof(r->tmpfiles[0]), "%s", DOC_TMPFILES_ETC);
	(void)snprintf(
	    r->tmpfiles[1], sizeof(r->tmpfiles[1]), "%s", DOC_TMPFILES_LIB);
}
