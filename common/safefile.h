/* Safe file access for paths users may control.
 *
 * Reading: every path component is opened with openat(O_NOFOLLOW) so no
 * symlink anywhere in the path is followed; the final file is opened
 * O_RDONLY|O_NOFOLLOW|O_CLOEXEC|O_NOCTTY|O_NONBLOCK and checked with fstat:
 * regular file with no second hard link (which could outlive a reset or
 * carry another user's file), owner allowed by the policy, no forbidden
 * mode bits, size within bound.  The caller is responsible for running with the
 * right privileges (the module drops to the user for paths in the home).
 *
 * Writing: ft_atomic_write creates an unnamed file next to the target
 * (O_TMPFILE; where the file system lacks it, a named temp file created with
 * O_EXCL, which never follows or reuses), fchown/fchmod, writes, fsyncs,
 * links it under a temp name, renames that over the target and fsyncs the
 * directory.  A crash at any point leaves the old file or the new one, and
 * only a crash between link and rename leaves a temp file behind. */
#ifndef FLOWTOTP_SAFEFILE_H
#define FLOWTOTP_SAFEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct ft_file_policy {
	uid_t owner;	       /* required owner ... */
	bool allow_root;       /* ... or root, if set */
	mode_t forbidden_mode; /* e.g. 077: no group/other bits */
	size_t max_size;       /* bytes */
};

/* Read the whole file into a malloc'd, NUL-terminated buffer (*len excludes
 * the NUL; the content may itself contain NULs, which parsers reject).
 * Returns FT_OK, FT_ERR_NOENT (missing), FT_ERR_UNSAFE (link, type, owner,
 * mode, or a symlinked directory on the way), FT_ERR_TOOBIG, FT_ERR_IO,
 * FT_ERR_NOMEM.  Caller frees with ft_wipe_free(buf, len). */
int ft_safe_read(const char *path, const struct ft_file_policy *pol, char **buf,
    size_t *len, char *err, size_t errlen);

/* A file's whole content: a malloc'd, NUL-terminated buffer and its length
 * (without the NUL). */
struct ft_file_data {
	char *buf;
	size_t len;
};

/* A file read under its lock: the content, and the descriptor that holds an
 * exclusive flock() on it. */
struct ft_locked_file {
	struct ft_file_data data;
	int fd;
};

/* Same as ft_safe_read, but leaves the file open and exclusively flock()ed
 * for a read-modify-write cycle: after the lock is taken it re-checks that
 * the path still names the same inode (else retries, bounded).  out->fd must
 * be closed by the caller (closing releases the lock) after ft_atomic_write;
 * out->data.buf is freed with ft_wipe_free. */
int ft_safe_read_locked(const char *path, const struct ft_file_policy *pol,
    struct ft_locked_file *out, char *err, size_t errlen);

/* open(dir, flags | O_DIRECTORY | O_NOFOLLOW), refusing a symlink in any
 * component of dir as well (openat2 RESOLVE_NO_SYMLINKS; where the kernel
 * lacks it, only the last component is checked).  A descriptor, or -1 with
 * errno set (ELOOP for a symlink on the way). */
int ft_open_dir_nosymlinks(const char *dir, int flags);

/* Who a written file belongs to: its permission bits, and its owner and
 * group ((uid_t)-1 / (gid_t)-1: leave as created, the caller's). */
struct ft_file_owner {
	mode_t mode;
	uid_t uid;
	gid_t gid;
};

/* Atomically replace (or create) path with data, owned as own says.  The
 * directory must already exist and no component may be a symlink. */
int ft_atomic_write(const char *path, const void *data, size_t len,
    const struct ft_file_owner *own, char *err, size_t errlen);

/* Remove path (not following a final symlink; it removes the link itself
 * only if it is one) and fsync the directory.  FT_ERR_NOENT if missing. */
int ft_safe_unlink(const char *path, char *err, size_t errlen);

/* Create the directory `path` (its parent must exist) with mode, owned by
 * uid/gid; if it already exists it must be a real directory (not a symlink)
 * owned by uid with exactly `mode` permission bits, else FT_ERR_UNSAFE (this
 * is the check that stops another user pre-creating /dev/shm/flowtotp). */
int ft_ensure_dir(const char *path, mode_t mode, uid_t uid, gid_t gid,
    char *err, size_t errlen);

#endif
