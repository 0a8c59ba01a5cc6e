/* Loading and saving a user's secret file: safefile + secretfile together,
 * shared by the module and totp-enroll. */
#ifndef FLOWTOTP_SECRETSTORE_H
#define FLOWTOTP_SECRETSTORE_H

#include <pwd.h>
#include <stddef.h>
#include <sys/types.h>

#include "conf.h"
#include "safefile.h"
#include "secretfile.h"

/* The policy for a user's secret file: regular, owned by `uid` or root,
 * no group/other permission bits, at most FT_SECRETFILE_MAX_SIZE. */
void ft_secret_policy(uid_t uid, struct ft_file_policy *pol);

/* Safe read + strict parse.  FT_ERR_NOENT when the file does not exist. */
int ft_secret_load(const char *path, const struct ft_file_policy *pol,
    struct ft_secret *out, char *err, size_t errlen);

/* The anchor of the secret path for pw: the directory that must exist and
 * be searchable before a missing file may mean "not enrolled" (nullok).  It
 * is the home directory for a template that uses it (~ or %h), else the
 * directory that holds the first %u (the store, which make install
 * creates), else the file's directory. */
int ft_secret_anchor(const struct ft_config *c, const struct passwd *pw,
    char *out, size_t outlen, char *err, size_t errlen);

/* After a load said FT_ERR_NOENT: FT_OK if the anchor is a real directory
 * (no symlink on the way) the caller can search, so the absence is the
 * file's (or a directory's below the anchor); else FT_ERR_UNSAFE with err
 * naming the anchor (missing, unreadable, I/O error: an outage, which
 * must not pass for "not enrolled").  Run with the privileges of the
 * read. */
int ft_secret_check_anchor(const char *anchor, char *err, size_t errlen);

/* Serialize + atomic write, mode 0600, owner uid/gid ((uid_t)-1 = as
 * created). */
int ft_secret_store(const char *path, const struct ft_secret *s, uid_t uid,
    gid_t gid, char *err, size_t errlen);

/* What an edit callback asks for, and what ft_secret_edit returns. */
enum ft_secret_edit_result {
	FT_SECRET_KEEP = 0,  /* leave the file as it is */
	FT_SECRET_WRITE = 1, /* write the edited secret back */
};

/* Edits s in place.  Returns FT_SECRET_WRITE, FT_SECRET_KEEP, or a negative
 * ft_rc with err filled (the file is then left as it was). */
typedef int (*ft_secret_edit_fn)(
    struct ft_secret *s, void *arg, char *err, size_t errlen);

/* The one locked read-modify-write of a secret file: under an exclusive
 * lock on the file (re-checked to be the same inode), read and parse it, let
 * fn edit it, and if fn asks, rewrite it (atomic, fsynced) before the lock
 * is released.  The file keeps its owner and mode.  Returns FT_SECRET_WRITE
 * (rewritten), FT_SECRET_KEEP (fn left it), or a negative ft_rc (file
 * unchanged, err filled).  Everything read is wiped. */
int ft_secret_edit(const char *path, const struct ft_file_policy *pol,
    ft_secret_edit_fn fn, void *arg, char *err, size_t errlen);

/* Use a backup code (an ft_secret_edit): verify `input` against the stored
 * hashes, and if one matches rewrite the file without it before returning
 * 1.  *remaining receives the number of codes left.  Returns 1 used, 0 no
 * match, negative ft_rc on error (file unchanged).  The file keeps its
 * owner and mode. */
int ft_secret_use_backup(const char *path, const struct ft_file_policy *pol,
    const char *input, size_t *remaining, char *err, size_t errlen);

#endif
