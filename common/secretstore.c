/* Loading, storing and using backup codes of a user's secret file. */
#include <config.h>

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup.h"
#include "conf.h"
#include "rc.h"
#include "safefile.h"
#include "secretfile.h"
#include "secretstore.h"
#include "wipe.h"

#define SECRET_FILE_MODE 0600
#define SECRET_FORBIDDEN_MODE 077
#define MODE_BITS 07777
#define KEEP_UID ((uid_t)-1) /* ft_atomic_write: leave as created */
#define KEEP_GID ((gid_t)-1)

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

/* Where the anchor ends in the template: after the home (~ or %h), or at
 * the last '/' before the first %u, or at the file's directory. */
static size_t
anchor_cut(const char *tpl)
{
	size_t i, slash = 0;

	if (tpl[0] == '~')
		return 1;
	for (i = 0; tpl[i] != '\0'; i++) {
		if (tpl[i] == '/')
			slash = i;
		if (tpl[i] != '%' || tpl[i + 1] == '\0')
			continue;
		if (tpl[i + 1] == 'h')
			return i + 2;
		if (tpl[i + 1] == 'u')
			return slash;
		i++; /* %% */
	}
	return slash;
}

int
ft_secret_anchor(const struct ft_config *c, const struct passwd *pw, char *out,
    size_t outlen, char *err, size_t errlen)
{
	struct ft_config *part;
	size_t cut = anchor_cut(c->secret);
	int rc;

	if (outlen == 0)
		return ft_seterr(err, errlen, FT_ERR_ARG, "no room");
	out[0] = '\0';
	if (cut == 0) /* "/%u": the root directory */
		return snprintf(out, outlen, "/") < (int)outlen
		    ? FT_OK
		    : ft_seterr(err, errlen, FT_ERR_TOOBIG, "no room");
	/* The prefix goes through the one expansion the path itself took. */
	if ((part = malloc(sizeof(*part))) == NULL)
		return ft_seterr(err, errlen, FT_ERR_NOMEM, "out of memory");
	memcpy(part, c, sizeof(*part));
	part->secret[cut] = '\0';
	rc = ft_config_secret_path(part, pw, out, outlen, err, errlen);
	free(part);
	return rc;
}

int
ft_secret_check_anchor(const char *anchor, char *err, size_t errlen)
{
	char dot[PATH_MAX];
	int fd, e;

	/* "anchor/." resolves only through a directory we may search. */
	if (snprintf(dot, sizeof(dot), "%s/.", anchor) >= (int)sizeof(dot))
		return ft_seterr(
		    err, errlen, FT_ERR_TOOBIG, "%s: path too long", anchor);
	fd = ft_open_dir_nosymlinks(dot, O_PATH | O_CLOEXEC);
	if (fd != -1) {
		(void)close(fd);
		return FT_OK;
	}
	e = errno;
	if (e == ENOENT)
		return ft_seterr(err, errlen, FT_ERR_UNSAFE,
		    "%s does not exist: an outage or a missing store, not "
		    "\"not enrolled\"",
		    anchor);
	return ft_seterr(err, errlen, FT_ERR_UNSAFE,
	    "%s cannot be searched (%s): the secret file's absence is not "
	    "known",
	    anchor, strerror(e));
}

int
ft_secret_store(const char *path, const struct ft_secret *s, uid_t uid,
    gid_t gid, char *err, size_t errlen)
{
	struct ft_file_owner own;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if ((rc = ft_secret_serialize(s, &buf, &len)) != FT_OK)
		return ft_seterr(err, errlen, rc, "%s: cannot serialize: %s",
		    path, ft_rc_str(rc));
	own.mode = SECRET_FILE_MODE;
	own.uid = uid;
	own.gid = gid;
	rc = ft_atomic_write(path, buf, len, &own, err, errlen);
	ft_wipe_free(buf, len);
	return rc;
}

/* Write the edited secret back over the locked file (fd).  One rule for
 * every edit: the new file keeps the old one's owner and mode, so an edit
 * never hands a file to someone else or widens who may read it; a chown is
 * asked for only where it changes anything, so an unprivileged owner can
 * rewrite their own file. */
static int
write_back(const char *path, int fd, const struct ft_secret *s, char *err,
    size_t errlen)
{
	struct ft_file_owner own;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (fstat(fd, &st) == -1)
		return ft_seterr(err, errlen, FT_ERR_IO, "%s: fstat: %s", path,
		    strerror(errno));
	if ((rc = ft_secret_serialize(s, &buf, &len)) != FT_OK)
		return ft_seterr(err, errlen, rc, "%s: cannot serialize: %s",
		    path, ft_rc_str(rc));
	own.uid = st.st_uid == geteuid() ? KEEP_UID : st.st_uid;
	own.gid = st.st_gid == getegid() ? KEEP_GID : st.st_gid;
	own.mode = st.st_mode & MODE_BITS;
	rc = ft_atomic_write(path, buf, len, &own, err, errlen);
	ft_wipe_free(buf, len);
	return rc;
}

int
ft_secret_edit(const char *path, const struct ft_file_policy *pol,
    ft_secret_edit_fn fn, void *arg, char *err, size_t errlen)
{
	struct ft_secret s;
	struct ft_locked_file f = {{NULL, 0}, -1};
	int rc;

	memset(&s, 0, sizeof(s));
	if (fn == NULL)
		return ft_seterr(err, errlen, FT_ERR_ARG, "%s: no edit", path);
	rc = ft_safe_read_locked(path, pol, &f, err, errlen);
	if (rc != FT_OK)
		goto out;
	if ((rc = ft_secret_parse(f.data.buf, f.data.len, &s, err, errlen)) !=
	    FT_OK)
		goto out;
	rc = fn(&s, arg, err, errlen);
	if (rc != FT_SECRET_WRITE) {
		/* FT_SECRET_KEEP, or an error fn described: file unchanged. */
		if (rc != FT_SECRET_KEEP && rc >= 0)
			rc = ft_seterr(err, errlen, FT_ERR_ARG,
			    "%s: edit returned %d", path, rc);
		goto out;
	}
	if ((rc = write_back(path, f.fd, &s, err, errlen)) == FT_OK)
		rc = FT_SECRET_WRITE;
out:
	/* Closing releases the lock, only after the new file is in place. */
	if (f.fd != -1)
		(void)close(f.fd);
	ft_wipe_free(f.data.buf, f.data.len);
	ft_secret_wipe(&s);
	return rc;
}

/* ft_secret_use_backup's edit: find input among the hashes and drop it. */
struct use_backup {
	const char *path;
	const char *input;
	size_t before; /* codes in the file when it was read */
	size_t after;  /* codes left once the used one is gone */
};

static int
drop_used_code(struct ft_secret *s, void *arg, char *err, size_t errlen)
{
	struct use_backup *u = arg;
	const char *list[FT_BACKUP_MAX];
	size_t idx = 0, i;
	int match, rc;

	u->before = s->nbackup;
	for (i = 0; i < s->nbackup; i++)
		list[i] = s->backup[i];
	match = ft_backup_verify(u->input, list, s->nbackup, &idx);
	if (match < 0)
		return ft_seterr(err, errlen, match,
		    "%s: backup check failed: %s", u->path, ft_rc_str(match));
	if (match == 0 || idx >= s->nbackup)
		return FT_SECRET_KEEP;
	if ((rc = ft_secret_remove_backup(s, idx)) != FT_OK)
		return ft_seterr(err, errlen, rc,
		    "%s: cannot remove the code: %s", u->path, ft_rc_str(rc));
	u->after = s->nbackup;
	return FT_SECRET_WRITE;
}

int
ft_secret_use_backup(const char *path, const struct ft_file_policy *pol,
    const char *input, size_t *remaining, char *err, size_t errlen)
{
	struct use_backup u = {path, input, 0, 0};
	int rc;

	rc = ft_secret_edit(path, pol, drop_used_code, &u, err, errlen);
	if (remaining != NULL)
		*remaining = rc == FT_SECRET_WRITE ? u.after : u.before;
	if (rc == FT_SECRET_WRITE)
		return 1;
	return rc == FT_SECRET_KEEP ? 0 : rc;
}
