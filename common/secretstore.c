/* Loading, storing and using backup codes of a user's secret file. */
#include <config.h>

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backup.h"
#include "rc.h"
#include "safefile.h"
#include "secretfile.h"
#include "secretstore.h"
#include "wipe.h"

#define SECRET_FILE_MODE 0600
#define SECRET_FORBIDDEN_MODE 077
#define MODE_BITS 07777

void
ft_secret_policy(uid_t uid, struct ft_file_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->owner = uid;
	pol->allow_root = true;
	pol->forbidden_mode = SECRET_FORBIDDEN_MODE;
	pol->max_size = FT_SECRETFILE_MAX_SIZE;
}

int
ft_secret_load(const char *path, const struct ft_file_policy *pol,
    struct ft_secret *out, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	ft_secret_wipe(out);
	if ((rc = ft_safe_read(path, pol, &buf, &len, err, errlen)) != FT_OK)
		return rc;
	rc = ft_secret_parse(buf, len, out, err, errlen);
	if (rc != FT_OK && err != NULL && errlen > 0) {
		char msg[256];

		(void)snprintf(msg, sizeof(msg), "%s", err);
		(void)ft_seterr(err, errlen, rc, "%s: %s", path, msg);
	}
	ft_wipe_free(buf, len);
	return rc;
}

int
ft_secret_store(const char *path, const struct ft_secret *s, uid_t uid,
    gid_t gid, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if ((rc = ft_secret_serialize(s, &buf, &len)) != FT_OK)
		return ft_seterr(err, errlen, rc, "%s: cannot serialize: %s",
		    path, ft_rc_str(rc));
	rc = ft_atomic_write(
	    path, buf, len, SECRET_FILE_MODE, uid, gid, err, errlen);
	ft_wipe_free(buf, len);
	return rc;
}

int
ft_secret_use_backup(const char *path, const struct ft_file_policy *pol,
    const char *input, size_t *remaining, char *err, size_t errlen)
{
	struct ft_secret s;
	const char *list[FT_BACKUP_MAX];
	struct stat st;
	char *buf = NULL, *out = NULL;
	size_t len = 0, outlen = 0, idx = 0, i;
	uid_t uid;
	gid_t gid;
	int fd = -1, rc, match;

	memset(&s, 0, sizeof(s));
	if (remaining != NULL)
		*remaining = 0;
	rc = ft_safe_read_locked(path, pol, &buf, &len, &fd, err, errlen);
	if (rc != FT_OK)
		goto out;
	if ((rc = ft_secret_parse(buf, len, &s, err, errlen)) != FT_OK)
		goto out;
	if (remaining != NULL)
		*remaining = s.nbackup;
	for (i = 0; i < s.nbackup; i++)
		list[i] = s.backup[i];
	match = ft_backup_verify(input, list, s.nbackup, &idx);
	if (match < 0) {
		rc = ft_seterr(err, errlen, match,
		    "%s: backup check failed: %s", path, ft_rc_str(match));
		goto out;
	}
	if (match == 0 || idx >= s.nbackup) {
		rc = 0;
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		rc = ft_seterr(err, errlen, FT_ERR_IO, "%s: fstat: %s", path,
		    strerror(errno));
		goto out;
	}
	if ((rc = ft_secret_remove_backup(&s, idx)) != FT_OK)
		goto out;
	if ((rc = ft_secret_serialize(&s, &out, &outlen)) != FT_OK) {
		(void)ft_seterr(err, errlen, rc, "%s: cannot serialize", path);
		goto out;
	}
	/* Keep the owner; only ask for a chown where it changes anything, so
	 * an unprivileged owner can rewrite their own file. */
	uid = st.st_uid == geteuid() ? (uid_t)-1 : st.st_uid;
	gid = st.st_gid == getegid() ? (gid_t)-1 : st.st_gid;
	rc = ft_atomic_write(
	    path, out, outlen, st.st_mode & MODE_BITS, uid, gid, err, errlen);
	if (rc != FT_OK)
		goto out;
	if (remaining != NULL)
		*remaining = s.nbackup;
	rc = 1;
out:
	/* Closing releases the lock, only after the new file is in place. */
	if (fd != -1)
		(void)close(fd);
	ft_wipe_free(buf, len);
	ft_wipe_free(out, outlen);
	ft_secret_wipe(&s);
	return rc;
}
