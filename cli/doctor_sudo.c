/* totp-enroll doctor: does sudo ask for a code?  Information only: sudo
 * without a code can be the site's choice (sudoers may also pick another
 * service per user with pam_service=). */
#include <config.h>

#include "doctor.h"
#include "rc.h"

#define SUDO_SERVICE "sudo"

static const struct doc_kind k_sudo = {"sudo-flowtotp", DOC_INFO,
    "to ask sudo users for a code, add pam_flowtotp to /etc/pam.d/sudo "
    "after @include common-auth (contrib/pam.d/sudo)"};

void
doc_check_sudo(const struct doc_root *root, struct doc_report *rep)
{
	struct doc_stack st = {NULL, 0, 0};
	struct doc_where w = {root->pamd, 0};
	int rc = doc_stack_load(root, SUDO_SERVICE, &st, rep);

	if (rc == FT_ERR_NOMEM)
		rep->oom = true;
	if (rc == FT_ERR_NOENT)
		doc_add(rep, &k_sudo, &w, "no PAM service \"sudo\"");
	else if (rc == FT_OK)
		doc_add(rep, &k_sudo, &w, "the sudo service %s pam_flowtotp",
		    doc_stack_flowtotp(&st) < st.n ? "includes"
						   : "does not include");
	doc_stack_free(&st);
}
