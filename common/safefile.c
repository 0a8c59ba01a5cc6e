/* Safe file access: no symlink is followed anywhere in a path, the final
 * file is checked on the open descriptor (fstat), writes are atomic. */
#include <config.h>

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>

#ifdef HAVE_LINUX_OPENAT2_H
#include <linux/openat2.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flock_wait.h"
#include "random.h"
#include "rc.h"
#include "safefile.h"
#include "wipe.h"

#define DIR_FLAGS (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define READ_FLAGS (O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
/* Waiting for the lock of a secret file (held while a backup code is
 * used or the CLI edits it): about 2 s in all, polled as the state cache
 * is (flock_wait.c), the first retry after 0.2 ms. */
#define LOCK_WAIT_MS 2000L
#define LOCK_PAUSE_MIN_US 200L
#define LOCK_PAUSE_MAX_US 20000L
#define LOCK_REOPEN_MAX 10 /* path replaced under us: retries */
#define READ_CHUNK 4096U
#define TEMP_SUFFIX_BYTES 6U
#define TEMP_OPEN_TRIES 16
#define MODE_BITS 07777

/* A path split into its parent directory (opened O_PATH, every component
 * checked not to be a symlink) and the final name. */
struct walked {
	int dirfd;
	char base[NAME_MAX + 1];
};

static int
walk_errno(const char *path, const char *comp, int e, char *err, size_t errlen)
{
	if (e == ENOENT)
		return ft_seterr(err, errlen, FT_ERR_NOENT,
		    "%s: %s does not exist", path, comp);
	if (e == ELOOP || e == ENOTDIR)
		return ft_seterr(err, errlen, FT_ERR_UNSAFE,
		    "%s: component \"%s\" is a symlink or not a directory",
		    path, comp);
	if (e == EACCES || e == EPERM)
		return ft_seterr(err, errlen, FT_ERR_PERM, "%s: %s: %s", path,
		    comp, strerror(e));
	return ft_seterr(
	    err, errlen, FT_ERR_IO, "%s: %s: %s", path, comp, strerror(e));
}

/* Any ".." component?  The walk refuses them; openat2 would follow. */
static bool
has_dotdot(const char *dir)
{
	const char *p = dir;

	while ((p = strstr(p, "..")) != NULL) {
		if ((p == dir || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
			return true;
		p += 2;
	}
	return false;
}

/*
 * The fast way to the same directory descriptor: one openat2() that
 * refuses a symlink in any component (RESOLVE_NO_SYMLINKS), instead of an
 * open and a close per component.  -1 on any failure, and the caller walks
 * the path itself: that gives the precise error naming the component, and
 * covers kernels (before 5.6) and sandboxes without openat2.
 */
static int
open_dir_fast(const char *dir, int flags)
{
#if defined(HAVE_LINUX_OPENAT2_H) && defined(SYS_openat2)
	struct open_how how;

	if (has_dotdot(dir)) {
		errno = EINVAL; /* the walk says what is wrong */
		return -1;
	}
	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)flags;
	how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, AT_FDCWD, dir[0] != '\0' ? dir : "/",
	    &how, sizeof(how));
#else
	(void)dir;
	(void)flags;
	errno = ENOSYS;
	return -1;
#endif
}

int
ft_open_dir_nosymlinks(const char *dir, int flags)
{
	int fd = open_dir_fast(dir, flags | O_DIRECTORY | O_NOFOLLOW);

	/* No openat2 (old kernel, or a sandbox that refuses it): at least
	 * the last component. */
	if (fd == -1 && (errno == ENOSYS || errno == EPERM))
		fd = open(dir, flags | O_DIRECTORY | O_NOFOLLOW);
	return fd;
}

/* Open every directory of the absolute `path` in turn with O_NOFOLLOW. */
static int
walk_path(const char *path, struct walked *w, char *err, size_t errlen)
{
	char copy[PATH_MAX];
	char *p, *slash, *last;
	int fd, nfd, rc;

	w->dirfd = -1;
	if (path == NULL || path[0] != '/')
		return ft_seterr(err, errlen, FT_ERR_ARG,
		    "%s: not an absolute path", path ? path : "(null)");
	if (strlen(path) >= sizeof(copy))
		return ft_seterr(err, errlen, FT_ERR_ARG, "path too long");
	memcpy(copy, path, strlen(path) + 1);

	last = strrchr(copy, '/');
	if (last[1] == '\0' || strcmp(last + 1, ".") == 0 ||
	    strcmp(last + 1, "..") == 0)
		return ft_seterr(
		    err, errlen, FT_ERR_ARG, "%s: does not name a file", path);
	if (strlen(last + 1) >= sizeof(w->base))
		return ft_seterr(
		    err, errlen, FT_ERR_ARG, "%s: file name too long", path);
	memcpy(w->base, last + 1, strlen(last + 1) + 1);
	*last = '\0';

	if ((w->dirfd = open_dir_fast(copy, DIR_FLAGS)) != -1)
		return FT_OK;
	/* A missing directory (no /etc/security, say) is common and needs
	 * no walk to explain. */
	if (errno == ENOENT)
		return ft_seterr(err, errlen, FT_ERR_NOENT,
		    "%s: directory %s does not exist", path, copy);
	if ((fd = open("/", DIR_FLAGS)) == -1)
		return walk_errno(path, "/", errno, err, errlen);
	for (p = copy + 1; p <= last && *p != '\0'; p = slash + 1) {
		slash = strchr(p, '/');
		if (slash == NULL)
			slash = p + strlen(p);
		else
			*slash = '\0';
		if (*p == '\0' || strcmp(p, ".") == 0)
			continue;
		if (strcmp(p, "..") == 0) {
			rc = ft_seterr(err, errlen, FT_ERR_UNSAFE,
			    "%s: \"..\" in path", path);
			goto fail;
		}
		if ((nfd = openat(fd, p, DIR_FLAGS)) == -1) {
			rc = walk_errno(path, p, errno, err, errlen);
			goto fail;
		}
		(void)close(fd);
		fd = nfd;
		if (slash >= last)
			break;
	}
	w->dirfd = fd;
	return FT_OK;
fail:
	(void)close(fd);
	return rc;
}

static int
check_policy(const char *path, const struct stat *st,
    const struct ft_file_policy *pol, char *err, size_t errlen)
{
	if (!S_ISREG(st->st_mode))
		return ft_seterr(
		    err, errlen, FT_ERR_UNSAFE, "%s: not a regular file", path);
	if (st->st_uid != pol->owner && !(pol->allow_root && st->st_uid == 0))
		return ft_seterr(err, errlen, FT_ERR_UNSAFE,
		    "%s: owned by uid %lu, expected %lu%s", path,
		    (unsigned long)st->st_uid, (unsigned long)pol->owner,
		    pol->allow_root ? " or root" : "");
	/* A second name for the file may sit in a directory the owner
	 * controls, where it outlives a reset or a chmod of this one (and a
	 * hard link to someone else's file carries their content); like the
	 * cache, one link at most.  No link at all is a file an atomic
	 * write replaced after we opened it: a whole old version, fine. */
	if (st->st_nlink > 1)
		return ft_seterr(err, errlen, FT_ERR_UNSAFE,
		    "%s: has %lu hard links, expected one", path,
		    (unsigned long)st->st_nlink);
	if ((st->st_mode & pol->forbidden_mode & MODE_BITS) != 0)
		return ft_seterr(err, errlen, FT_ERR_UNSAFE,
		    "%s: mode %04o allows group/other access", path,
		    (unsigned)(st->st_mode & MODE_BITS));
	if ((uintmax_t)st->st_size > (uintmax_t)pol->max_size)
		return ft_seterr(err, errlen, FT_ERR_TOOBIG,
		    "%s: larger than %zu bytes", path, pol->max_size);
	return FT_OK;
}

/* The file one read is for: its path (for messages), the walked
 * directory it is in (once walked) and the policy it must meet. */
struct reading {
	const char *path;
	const struct walked *w;
	const struct ft_file_policy *pol;
};

/* Open the final file of a walked path and check it against the policy. */
static int
open_checked(const struct reading *r, int *fd_out, struct stat *st, char *err,
    size_t errlen)
{
	const char *path = r->path;
	int fd, rc;

	*fd_out = -1;
	if ((fd = openat(r->w->dirfd, r->w->base, READ_FLAGS)) == -1) {
		if (errno == ENOENT)
			return ft_seterr(err, errlen, FT_ERR_NOENT,
			    "%s: does not exist", path);
		if (errno == ELOOP)
			return ft_seterr(err, errlen, FT_ERR_UNSAFE,
			    "%s: is a symlink", path);
		if (errno == EACCES || errno == EPERM)
			return ft_seterr(err, errlen, FT_ERR_PERM, "%s: %s",
			    path, strerror(errno));
		return ft_seterr(
		    err, errlen, FT_ERR_IO, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, st) == -1) {
		rc = ft_seterr(err, errlen, FT_ERR_IO, "%s: fstat: %s", path,
		    strerror(errno));
		goto fail;
	}
	if ((rc = check_policy(path, st, r->pol, err, errlen)) != FT_OK)
		goto fail;
	*fd_out = fd;
	return FT_OK;
fail:
	(void)close(fd);
	return rc;
}

/* Grow a buffer that may hold secret bytes without leaving copies behind. */
static int
grow(char **buf, size_t used, size_t *cap, size_t want)
{
	char *nb;

	if ((nb = malloc(want)) == NULL)
		return FT_ERR_NOMEM;
	if (*buf != NULL) {
		memcpy(nb, *buf, used);
		ft_wipe_free(*buf, *cap);
	}
	*buf = nb;
	*cap = want;
	return FT_OK;
}

/* Read the whole file, at most pol->max_size bytes even if it grows, into
 * out->buf (NUL-terminated) and out->len. */
static int
read_all(const struct reading *r, int fd, const struct stat *st,
    struct ft_file_data *out, char *err, size_t errlen)
{
	const char *path = r->path;
	char *buf = NULL;
	size_t cap = 0, len = 0, asked, limit = r->pol->max_size;
	ssize_t n;
	int rc;

	if ((rc = grow(&buf, 0, &cap, (size_t)st->st_size + 2U)) != FT_OK)
		return ft_seterr(err, errlen, rc, "%s: out of memory", path);
	for (;;) {
		if (len + 1U >= cap) {
			size_t want = cap * 2U;

			if (want > limit + 2U)
				want = limit + 2U;
			if (want <= cap) {
				rc = ft_seterr(err, errlen, FT_ERR_TOOBIG,
				    "%s: larger than %zu bytes", path, limit);
				goto fail;
			}
			if ((rc = grow(&buf, len, &cap, want)) != FT_OK) {
				ft_seterr(
				    err, errlen, rc, "%s: out of memory", path);
				goto fail;
			}
		}
		asked = cap - 1U - len;
		n = read(fd, buf + len, asked);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rc = ft_seterr(err, errlen, FT_ERR_IO, "%s: read: %s",
			    path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > limit) {
			rc = ft_seterr(err, errlen, FT_ERR_TOOBIG,
			    "%s: larger than %zu bytes", path, limit);
			goto fail;
		}
		/* The policy admits only regular files, and a read of one
		 * comes back short only at its end: no second read to see 0.
		 * (The buffer asks for one byte more than fstat's size, so a
		 * file that has grown still takes another turn.) */
		if ((size_t)n < asked)
			break;
	}
	buf[len] = '\0';
	out->buf = buf;
	out->len = len;
	return FT_OK;
fail:
	ft_wipe_free(buf, cap);
	return rc;
}

/* The whole path in one openat2 (no symlink anywhere, as the walk); -1 on
 * any failure, and the caller takes the walk, which names the problem. */
static int
open_file_fast(const char *path)
{
#if defined(HAVE_LINUX_OPENAT2_H) && defined(SYS_openat2)
	struct open_how how;

	if (path == NULL || path[0] != '/' || has_dotdot(path)) {
		errno = EINVAL;
		return -1;
	}
	memset(&how, 0, sizeof(how));
	how.flags = READ_FLAGS;
	how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
#else
	(void)path;
	errno = ENOSYS;
	return -1;
#endif
}

int
ft_safe_read(const char *path, const struct ft_file_policy *pol, char **buf,
    size_t *len, char *err, size_t errlen)
{
	struct walked w;
	const struct reading r = {.path = path, .w = &w, .pol = pol};
	struct ft_file_data data = {NULL, 0};
	struct stat st;
	int fd, rc;

	*buf = NULL;
	*len = 0;
	w.dirfd = -1;
	if ((fd = open_file_fast(path)) != -1) {
		if (fstat(fd, &st) == -1)
			rc = ft_seterr(err, errlen, FT_ERR_IO, "%s: fstat: %s",
			    path, strerror(errno));
		else
			rc = check_policy(path, &st, pol, err, errlen);
		if (rc != FT_OK)
			goto out;
	} else if (errno == ENOENT) {
		/* openat2 refuses a symlink with ELOOP, so ENOENT is a name
		 * that is really missing (a file, or a directory on the way):
		 * nothing unsafe for the walk to name.  A missing config or
		 * secret file is common, and the walk would cost a system call
		 * or two more. */
		return ft_seterr(
		    err, errlen, FT_ERR_NOENT, "%s: does not exist", path);
	} else {
		if ((rc = walk_path(path, &w, err, errlen)) != FT_OK)
			return rc;
		if ((rc = open_checked(&r, &fd, &st, err, errlen)) != FT_OK)
			goto out;
	}
	if ((rc = read_all(&r, fd, &st, &data, err, errlen)) == FT_OK) {
		*buf = data.buf;
		*len = data.len;
	}
out:
	if (fd != -1)
		(void)close(fd);
	if (w.dirfd != -1)
		(void)close(w.dirfd);
	return rc;
}

/* ft_flock_wait's open of the file one ft_safe_read_locked call reads. */
static int
locked_open(void *arg, int *fd, char *err, size_t errlen)
{
	const struct reading *r = arg;
	struct stat st;

	return open_checked(r, fd, &st, err, errlen);
}

/* Checked again after the lock: the file may have changed while we
 * waited. */
static int
locked_check(void *arg, const struct stat *st, char *err, size_t errlen)
{
	const struct reading *r = arg;

	return check_policy(r->path, st, r->pol, err, errlen);
}

int
ft_safe_read_locked(const char *path, const struct ft_file_policy *pol,
    struct ft_locked_file *out, char *err, size_t errlen)
{
	static const struct ft_flock_limits lim = {
	    .stall_ms = LOCK_WAIT_MS,
	    .total_ms = LOCK_WAIT_MS,
	    .pause_min_us = LOCK_PAUSE_MIN_US,
	    .pause_max_us = LOCK_PAUSE_MAX_US,
	    .reopen_max = LOCK_REOPEN_MAX,
	};
	struct walked w;
	struct reading lr = {.path = path, .w = &w, .pol = pol};
	struct ft_flock_target t = {.path = path,
	    .lim = &lim,
	    .open = locked_open,
	    .check = locked_check,
	    .arg = &lr};
	struct stat st;
	int fd = -1, rc;

	out->data.buf = NULL;
	out->data.len = 0;
	out->fd = -1;
	if ((rc = walk_path(path, &w, err, errlen)) != FT_OK)
		return rc;
	t.dirfd = w.dirfd;
	t.name = w.base;
	rc = ft_flock_wait(&t, &fd, &st, err, errlen);
	if (rc == FT_OK)
		rc = read_all(&lr, fd, &st, &out->data, err, errlen);
	if (rc == FT_OK) {
		out->fd = fd;
		fd = -1;
	}
	if (fd != -1)
		(void)close(fd);
	(void)close(w.dirfd);
	return rc;
}

/* fsync a directory held as an O_PATH descriptor. */
static int
sync_dir(const char *path, int dirfd, char *err, size_t errlen)
{
	int fd, rc = FT_OK;

	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		/* Write-only directory: nothing we can fsync through. */
		if (errno == EACCES)
			return FT_OK;
		return ft_seterr(err, errlen, FT_ERR_IO,
		    "%s: open directory: %s", path, strerror(errno));
	}
	if (fsync(fd) == -1 && errno != EINVAL)
		rc = ft_seterr(err, errlen, FT_ERR_IO,
		    "%s: fsync directory: %s", path, strerror(errno));
	(void)close(fd);
	return rc;
}

/* A fresh name "." base ".XXXXXX" for a temp file next to the target. */
static int
temp_name(const char *path, const struct walked *w, char *tmp, size_t tmplen,
    char *err, size_t errlen)
{
	static const char set[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	uint8_t rnd[TEMP_SUFFIX_BYTES];
	char suffix[TEMP_SUFFIX_BYTES + 1];
	size_t j;

	if (ft_random_bytes(rnd, sizeof(rnd)) != FT_OK)
		return ft_seterr(err, errlen, FT_ERR_CRYPTO,
		    "%s: no randomness for a temp name", path);
	for (j = 0; j < sizeof(rnd); j++)
		suffix[j] = set[rnd[j] % (sizeof(set) - 1U)];
	suffix[sizeof(rnd)] = '\0';
	if ((size_t)snprintf(tmp, tmplen, ".%s.%s", w->base, suffix) >= tmplen)
		return ft_seterr(
		    err, errlen, FT_ERR_ARG, "%s: file name too long", path);
	return FT_OK;
}

static int
create_error(const char *path, const char *what, char *err, size_t errlen)
{
	return ft_seterr(err, errlen, errno == EACCES ? FT_ERR_PERM : FT_ERR_IO,
	    "%s: %s: %s", path, what, strerror(errno));
}

/*
 * An unnamed file in the target's directory (O_TMPFILE): a writer killed
 * before link_temp leaves nothing behind, not even a file holding the new
 * secret.  *fd_out is -1 when the file system cannot do it.
 */
static int
open_anonymous(const char *path, const struct walked *w, int *fd_out, char *err,
    size_t errlen)
{
	*fd_out = openat(w->dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (*fd_out != -1)
		return FT_OK;
	if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)
		return FT_OK;
	return create_error(path, "create temp file", err, errlen);
}

/* Try to put one temp name in the directory: create a new file there
 * (anon_fd -1; O_EXCL, like mkstemp: never follows or reuses) or give the
 * unnamed file anon_fd that name.  0 done, -1 with errno set. */
static int
try_temp_name(const struct walked *w, int anon_fd, const char *tmp, int *fd_out)
{
	char proc[sizeof("/proc/self/fd/") + 3U * sizeof(int)];

	if (anon_fd == -1) {
		*fd_out = openat(w->dirfd, tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC |
			O_NOCTTY,
		    0600);
		return *fd_out == -1 ? -1 : 0;
	}
	/* Through /proc/self/fd because linkat's AT_EMPTY_PATH needs
	 * CAP_DAC_READ_SEARCH on older kernels. */
	(void)snprintf(proc, sizeof(proc), "/proc/self/fd/%d", anon_fd);
	if (linkat(AT_FDCWD, proc, w->dirfd, tmp, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	if (errno != ENOENT)
		return -1;
	return linkat(anon_fd, "", w->dirfd, tmp, AT_EMPTY_PATH);
}

/* One atomic replacement in progress: the target's directory, the temp
 * file and its name, and where errors go. */
struct replace {
	const char *path;
	struct walked w;
	char tmp[NAME_MAX + 1];
	int fd;	    /* the file being written, -1 once closed */
	bool named; /* tmp exists in the directory (removed on failure) */
	char *err;
	size_t errlen;
};

/*
 * A named temp file next to the target, in r->tmp: a new one (anon_fd -1,
 * where O_TMPFILE is missing), or the written and fsynced unnamed file
 * anon_fd linked under that name so that rename can put it in place
 * atomically.
 */
static int
name_temp(struct replace *r, int anon_fd, int *fd_out)
{
	int i, rc;

	for (i = 0; i < TEMP_OPEN_TRIES; i++) {
		if ((rc = temp_name(r->path, &r->w, r->tmp, sizeof(r->tmp),
			 r->err, r->errlen)) != FT_OK)
			return rc;
		if (try_temp_name(&r->w, anon_fd, r->tmp, fd_out) == 0) {
			r->named = true;
			return FT_OK;
		}
		if (errno != EEXIST)
			return create_error(r->path,
			    anon_fd == -1 ? "create temp file"
					  : "link temp file",
			    r->err, r->errlen);
	}
	return ft_seterr(
	    r->err, r->errlen, FT_ERR_IO, "%s: no free temp name", r->path);
}

static int
write_all(const char *path, int fd, const void *data, size_t len, char *err,
    size_t errlen)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return ft_seterr(err, errlen, FT_ERR_IO,
			    "%s: write: %s", path,
			    n == 0 ? "no progress" : strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return FT_OK;
}

/* Owner and mode first (fchown may clear set-id bits, so fchmod after
 * it), then the data, then fsync: the file is complete before it gets the
 * target's name. */
static int
fill_temp(struct replace *r, const void *data, size_t len,
    const struct ft_file_owner *own)
{
	int rc;

	if ((own->uid != (uid_t)-1 || own->gid != (gid_t)-1) &&
	    fchown(r->fd, own->uid, own->gid) == -1)
		return ft_seterr(r->err, r->errlen, FT_ERR_PERM,
		    "%s: fchown: %s", r->path, strerror(errno));
	if (fchmod(r->fd, own->mode & MODE_BITS) == -1)
		return ft_seterr(r->err, r->errlen, FT_ERR_IO, "%s: fchmod: %s",
		    r->path, strerror(errno));
	if ((rc = write_all(r->path, r->fd, data, len, r->err, r->errlen)) !=
	    FT_OK)
		return rc;
	if (fsync(r->fd) == -1)
		return ft_seterr(r->err, r->errlen, FT_ERR_IO, "%s: fsync: %s",
		    r->path, strerror(errno));
	return FT_OK;
}

/* Give an unnamed file its temp name, close it and rename it over the
 * target; then the directory entry is made durable. */
static int
commit_temp(struct replace *r, bool anonymous)
{
	int unused = -1, rc, fd = r->fd;

	if (anonymous && (rc = name_temp(r, fd, &unused)) != FT_OK)
		return rc;
	r->fd = -1;
	if (close(fd) == -1)
		return ft_seterr(r->err, r->errlen, FT_ERR_IO, "%s: close: %s",
		    r->path, strerror(errno));
	if (renameat(r->w.dirfd, r->tmp, r->w.dirfd, r->w.base) == -1)
		return ft_seterr(r->err, r->errlen, FT_ERR_IO, "%s: rename: %s",
		    r->path, strerror(errno));
	r->named = false;
	return sync_dir(r->path, r->w.dirfd, r->err, r->errlen);
}

int
ft_atomic_write(const char *path, const void *data, size_t len,
    const struct ft_file_owner *own, char *err, size_t errlen)
{
	struct replace r = {
	    .path = path, .fd = -1, .err = err, .errlen = errlen};
	bool anonymous = false;
	int rc;

	if ((rc = walk_path(path, &r.w, err, errlen)) != FT_OK)
		return rc;
	if ((rc = open_anonymous(path, &r.w, &r.fd, err, errlen)) != FT_OK)
		goto out;
	anonymous = r.fd != -1;
	if (!anonymous && (rc = name_temp(&r, -1, &r.fd)) != FT_OK)
		goto out;
	if ((rc = fill_temp(&r, data, len, own)) != FT_OK)
		goto out;
	rc = commit_temp(&r, anonymous);
out:
	if (r.fd != -1)
		(void)close(r.fd);
	if (r.named)
		(void)unlinkat(r.w.dirfd, r.tmp, 0);
	if (r.w.dirfd != -1)
		(void)close(r.w.dirfd);
	return rc;
}

int
ft_safe_unlink(const char *path, char *err, size_t errlen)
{
	struct walked w;
	int rc;

	if ((rc = walk_path(path, &w, err, errlen)) != FT_OK)
		return rc;
	if (unlinkat(w.dirfd, w.base, 0) == -1) {
		if (errno == ENOENT)
			rc = ft_seterr(err, errlen, FT_ERR_NOENT,
			    "%s: does not exist", path);
		else
			rc = ft_seterr(err, errlen,
			    errno == EACCES || errno == EPERM ? FT_ERR_PERM
							      : FT_ERR_IO,
			    "%s: unlink: %s", path, strerror(errno));
		goto out;
	}
	rc = sync_dir(path, w.dirfd, err, errlen);
out:
	(void)close(w.dirfd);
	return rc;
}

static int
check_dir(
    const char *path, int fd, mode_t mode, uid_t uid, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		return ft_seterr(err, errlen, FT_ERR_IO, "%s: fstat: %s", path,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return ft_seterr(
		    err, errlen, FT_ERR_UNSAFE, "%s: not a directory", path);
	if (st.st_uid != uid)
		return ft_seterr(err, errlen, FT_ERR_UNSAFE,
		    "%s: owned by uid %lu, expected %lu", path,
		    (unsigned long)st.st_uid, (unsigned long)uid);
	if ((st.st_mode & MODE_BITS) != (mode & MODE_BITS))
		return ft_seterr(err, errlen, FT_ERR_UNSAFE,
		    "%s: mode %04o, expected %04o", path,
		    (unsigned)(st.st_mode & MODE_BITS),
		    (unsigned)(mode & MODE_BITS));
	return FT_OK;
}

int
ft_ensure_dir(const char *path, mode_t mode, uid_t uid, gid_t gid, char *err,
    size_t errlen)
{
	struct walked w;
	int fd = -1, rc;
	bool made = false;
	uid_t want = uid == (uid_t)-1 ? geteuid() : uid;

	if ((rc = walk_path(path, &w, err, errlen)) != FT_OK)
		return rc;
	if (mkdirat(w.dirfd, w.base, 0700) == 0) {
		made = true;
		fd = openat(w.dirfd, w.base,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1) {
			rc = ft_seterr(err, errlen, FT_ERR_IO, "%s: open: %s",
			    path, strerror(errno));
			goto out;
		}
		if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
		    fchown(fd, uid, gid) == -1) {
			rc = ft_seterr(err, errlen, FT_ERR_PERM,
			    "%s: fchown: %s", path, strerror(errno));
			goto out;
		}
		if (fchmod(fd, mode & MODE_BITS) == -1) {
			rc = ft_seterr(err, errlen, FT_ERR_IO, "%s: fchmod: %s",
			    path, strerror(errno));
			goto out;
		}
		if ((rc = sync_dir(path, w.dirfd, err, errlen)) != FT_OK)
			goto out;
	} else if (errno == EEXIST) {
		fd = openat(w.dirfd, w.base, DIR_FLAGS);
		if (fd == -1) {
			rc = walk_errno(path, w.base, errno, err, errlen);
			goto out;
		}
	} else {
		rc = ft_seterr(err, errlen,
		    errno == EACCES || errno == EPERM ? FT_ERR_PERM
			: errno == ENOENT	      ? FT_ERR_NOENT
						      : FT_ERR_IO,
		    "%s: mkdir: %s", path, strerror(errno));
		goto out;
	}
	rc = check_dir(path, fd, mode, want, err, errlen);
out:
	if (fd != -1)
		(void)close(fd);
	/* A directory we made but could not give its owner or mode would fail
	 * check_dir on every later call: remove it so the next one retries. */
	if (rc != FT_OK && made)
		(void)unlinkat(w.dirfd, w.base, AT_REMOVEDIR);
	(void)close(w.dirfd);
	return rc;
}
