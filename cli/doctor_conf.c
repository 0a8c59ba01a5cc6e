/* totp-enroll doctor: the configuration file, checked the way the module
 * loads it (ft_config_load_file), with the reason spelled out: the module
 * refuses a file that is not root's or that group or others can write, and
 * then denies every login. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "doctor.h"
#include "rc.h"

#define ROOT_UID 0
#define MODE_BITS 07777
#define GROUP_OTHER_WRITE 022 /* what the module refuses */

static const struct doc_kind k_missing = {"conf-missing", DOC_INFO,
    "nothing to do: the built-in defaults apply (flowtotp(5))"};
static const struct doc_kind k_type = {"conf-unsafe", DOC_ERROR,
    "make it a regular file (not a symlink) owned by root: the module "
    "refuses it and denies every login"};
static const struct doc_kind k_owner = {"conf-owner", DOC_ERROR,
    "chown root: the module refuses a configuration file that is not "
    "root's and denies every login"};
static const struct doc_kind k_mode = {"conf-mode", DOC_ERROR,
    "chmod go-w (0644 or 0600): the module refuses a configuration file "
    "that group or others can write, and denies every login; reading is "
    "allowed"};
static const struct doc_kind k_parse = {"conf-parse", DOC_ERROR,
    "correct the line (flowtotp(5)): the module refuses the whole file and "
    "denies every login"};

bool
doc_check_config(
    const char *path, struct ft_config *cfg, struct doc_report *rep)
{
	char err[CLI_ERRLEN];
	struct doc_where w = {path, 0};
	struct stat sb;
	int rc;

	ft_config_defaults(cfg);
	if (lstat(path, &sb) != 0) {
		if (errno == ENOENT) {
			doc_add(rep, &k_missing, &w, "no configuration file");
			return true;
		}
		doc_add(rep, &k_type, &w, "cannot stat: %s", strerror(errno));
		return false;
	}
	if (!S_ISREG(sb.st_mode)) {
		doc_add(rep, &k_type, &w, "%s",
		    S_ISLNK(sb.st_mode) ? "a symlink" : "not a regular file");
		return false;
	}
	if (sb.st_uid != ROOT_UID)
		doc_add(
		    rep, &k_owner, &w, "owned by uid %u", (unsigned)sb.st_uid);
	if ((sb.st_mode & GROUP_OTHER_WRITE) != 0)
		doc_add(rep, &k_mode, &w,
		    "mode %04o: group or others can write it",
		    (unsigned)(sb.st_mode & MODE_BITS));
	err[0] = '\0';
	rc = ft_config_load_file(cfg, path, false, err, sizeof(err));
	if (rc == FT_ERR_PARSE || rc == FT_ERR_TOOBIG)
		doc_add(rep, &k_parse, &w, "%s", err);
	if (rc != FT_OK)
		ft_config_defaults(cfg); /* the module would use nothing */
	return rc == FT_OK;
}
