/* The local state backend: one gdbm file, one record per user.
 *
 * Every operation opens the file, takes an exclusive flock (bounded retry),
 * reads the record, applies the policy, writes it back and closes: check and
 * record are one atomic step across processes, and nothing is held between
 * calls.  We take the lock ourselves (GDBM_NOLOCK) before gdbm reads the
 * header, so gdbm never looks at a file another writer is still changing,
 * and after locking we make sure the path still names the inode we locked
 * (a damaged file may have been renamed aside meanwhile).
 *
 * The file is opened with O_NOFOLLOW relative to a directory descriptor
 * whose owner and mode we checked, so neither a symlinked directory nor a
 * symlinked file in world-writable /dev/shm can redirect our writes. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <gdbm.h>
#include <openssl/crypto.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "flock_wait.h"
#include "le.h"
#include "rc.h"
#include "remember.h"
#include "safefile.h"
#include "state.h"
#include "state_backend.h"
#include "state_deliver.h"
#include "state_policy.h"
#include "wipe.h"

#define GDBM_DIR_MODE 0700
#define GDBM_FILE_MODE 0600
/* Waiting for the writer lock (held for tens of microseconds per login):
 * give up when the file has not changed for 3 s (the holder is stuck, or
 * the host so overloaded that it may as well be), or after 15 s in any case
 * (a steady stream of other logins).  The first retry after 0.2 ms, the
 * pauses doubling up to 20 ms (flock_wait.c). */
static const struct ft_flock_limits lock_limits = {
    .stall_ms = 3000L,
    .total_ms = 15000L,
    .pause_min_us = 200L,
    .pause_max_us = 20000L,
    .reopen_max = 8, /* path replaced while we waited */
};

/* Record layout, little-endian (flowtotp(5), STATE RECORDS):
 *   0  u8   version (REC_VERSION)
 *   1  u8[3] zero
 *   4  u32  failures
 *   8  u64  last_step
 *  16  i64  first_failure
 *  24  i64  locked_until
 *  32  i64  last_success
 * Version 1 is exactly REC_V1_SIZE bytes.  Version 2 (REC_V2_SIZE) adds
 *  40  u64  future_step (not 0)
 * and is written only for a record whose future_step is set, so that older
 * code refuses (FT_ERR_VERSION) only the users whose clock ran ahead.  A
 * later version keeps these bytes and adds its fields after them; this code
 * refuses such a record for its user rather than rewrite it without the
 * fields it does not know. */
#define REC_VERSION 2U
#define REC_V1 1U
#define REC_V1_SIZE 40U
#define REC_V2_SIZE 48U
#define REC_OFF_FUTURE_STEP 40U
#define REC_OFF_FAILURES 4U
#define REC_OFF_LAST_STEP 8U
#define REC_OFF_FIRST_FAILURE 16U
#define REC_OFF_LOCKED_UNTIL 24U
#define REC_OFF_LAST_SUCCESS 32U
#define REC_RESERVED 3U
#define DIR_MODE_BITS 07777
#define FILE_MODE_OTHERS 077

/* A foreign or unsafe object at the cache directory's path: how many times
 * we move one aside before giving up on an attacker who keeps planting
 * them (each try is a few system calls; a planted object costs them as
 * much). */
#define RECLAIM_TRIES 4U
#define WARNING_MAX 768U
#define WHO_MAX 96U /* "uid N (name)" */
#define PWBUF_MAX 4096U
#define MODE_OTHERS_WRITE 022

struct gdbm_impl {
	unsigned flags; /* FT_STATE_NO_CREATE */
	char path[PATH_MAX];
	char dir[PATH_MAX];
	char base[NAME_MAX + 1];
	char warning[WARNING_MAX]; /* of the last operation, "" if none */
};

/* ---- record encoding ---- */

/* The record's size: v1 unless a v2 field is set. */
static size_t
rec_encode(const struct ft_user_state *s, uint8_t rec[REC_V2_SIZE])
{
	memset(rec, 0, REC_V2_SIZE);
	rec[0] = (uint8_t)(s->future_step != 0 ? REC_VERSION : REC_V1);
	ft_put_le(rec + REC_OFF_FAILURES, s->failures, sizeof(uint32_t));
	ft_put_le(rec + REC_OFF_LAST_STEP, s->last_step, sizeof(uint64_t));
	ft_put_le(rec + REC_OFF_FIRST_FAILURE, (uint64_t)s->first_failure,
	    sizeof(uint64_t));
	ft_put_le(rec + REC_OFF_LOCKED_UNTIL, (uint64_t)s->locked_until,
	    sizeof(uint64_t));
	ft_put_le(rec + REC_OFF_LAST_SUCCESS, (uint64_t)s->last_success,
	    sizeof(uint64_t));
	if (s->future_step == 0)
		return REC_V1_SIZE;
	ft_put_le(rec + REC_OFF_FUTURE_STEP, s->future_step, sizeof(uint64_t));
	return REC_V2_SIZE;
}

/* FT_OK, FT_ERR_VERSION for a record of a newer version, FT_ERR_CORRUPT
 * for one that no version of flowtotp writes. */
static int
rec_decode(const void *data, size_t len, struct ft_user_state *s)
{
	const uint8_t *rec = data;
	size_t i;

	/* Every version begins with the v1 layout, so none is shorter. */
	if (len < REC_V1_SIZE || rec[0] == 0)
		return FT_ERR_CORRUPT;
	if (rec[0] > REC_VERSION)
		return FT_ERR_VERSION;
	if (len != (rec[0] == REC_V1 ? REC_V1_SIZE : REC_V2_SIZE))
		return FT_ERR_CORRUPT;
	for (i = 1; i <= REC_RESERVED; i++)
		if (rec[i] != 0)
			return FT_ERR_CORRUPT;
	s->failures =
	    (uint32_t)ft_get_le(rec + REC_OFF_FAILURES, sizeof(uint32_t));
	s->last_step = ft_get_le(rec + REC_OFF_LAST_STEP, sizeof(uint64_t));
	s->first_failure =
	    (int64_t)ft_get_le(rec + REC_OFF_FIRST_FAILURE, sizeof(uint64_t));
	s->locked_until =
	    (int64_t)ft_get_le(rec + REC_OFF_LOCKED_UNTIL, sizeof(uint64_t));
	s->last_success =
	    (int64_t)ft_get_le(rec + REC_OFF_LAST_SUCCESS, sizeof(uint64_t));
	s->future_step = rec[0] == REC_V1
	    ? 0
	    : ft_get_le(rec + REC_OFF_FUTURE_STEP, sizeof(uint64_t));
	if (s->first_failure < 0 || s->locked_until < 0 ||
	    s->last_success < 0 || (rec[0] != REC_V1 && s->future_step == 0))
		return FT_ERR_CORRUPT;
	return FT_OK;
}

/* ---- gdbm error classification ---- */

static bool
gdbm_err_is_corruption(gdbm_error e)
{
	switch (e) {
	case GDBM_BAD_MAGIC_NUMBER:
	case GDBM_BLOCK_SIZE_ERROR:
	case GDBM_BYTE_SWAPPED:
	case GDBM_BAD_FILE_OFFSET:
	case GDBM_FILE_EOF:
	case GDBM_MALFORMED_DATA:
	case GDBM_NEED_RECOVERY:
	case GDBM_DIR_OVERFLOW:
	case GDBM_BAD_BUCKET:
	case GDBM_BAD_HEADER:
	case GDBM_BAD_AVAIL:
	case GDBM_BAD_HASH_TABLE:
	case GDBM_BAD_DIR_ENTRY:
	case GDBM_BUCKET_CACHE_CORRUPTED:
	case GDBM_BAD_HASH_ENTRY: return true;
	default: return false;
	}
}

/* ---- one locked session on the file ---- */

struct session {
	struct gdbm_impl *impl;
	int dirfd;
	int fd; /* owned by db once gdbm_fd_open succeeded */
	GDBM_FILE db;
	uid_t euid; /* asked once: every system call counts in a login */
	time_t now; /* of the operation: names a file set aside */
	bool wrote; /* a record was stored (write() moved the mtime) */
	/* A write failed for want of room or an I/O error: gdbm then flags
	 * the handle as needing recovery, but the file on disk is what the
	 * last good write left, so it is not set aside (that would erase
	 * every user's replay and lockout record); the next open verifies
	 * it anyway. */
	bool write_failed;
	bool corrupt; /* set aside before closing */
};

static int
open_dir(const struct gdbm_impl *impl, uid_t euid, int *dirfd, char *err,
    size_t errlen)
{
	struct stat sb;
	int fd;

	fd = ft_open_dir_nosymlinks(impl->dir, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ft_seterr(err, errlen,
		    errno == ELOOP || errno == ENOTDIR ? FT_ERR_UNSAFE
			: errno == ENOENT	       ? FT_ERR_NOENT
						       : FT_ERR_IO,
		    "cache directory %s: %s", impl->dir, strerror(errno));
	if (fstat(fd, &sb) != 0) {
		(void)close(fd);
		return ft_seterr(err, errlen, FT_ERR_IO,
		    "cache directory %s: %s", impl->dir, strerror(errno));
	}
	if (!S_ISDIR(sb.st_mode) || sb.st_uid != euid ||
	    (sb.st_mode & DIR_MODE_BITS) != GDBM_DIR_MODE) {
		(void)close(fd);
		return ft_seterr(err, errlen, FT_ERR_UNSAFE,
		    "cache directory %s must be a directory owned by uid %lu "
		    "with mode 0700",
		    impl->dir, (unsigned long)euid);
	}
	*dirfd = fd;
	return FT_OK;
}

/* Root: a root-only directory; anyone else (tests, a per-user cache): a
 * directory only the caller can enter.  Every component checked. */
static int
make_dir(const struct gdbm_impl *impl, char *err, size_t errlen)
{
	return ft_ensure_dir(
	    impl->dir, GDBM_DIR_MODE, geteuid(), getegid(), err, errlen);
}

static int
check_file(void *arg, const struct stat *sb, char *err, size_t errlen)
{
	const struct session *s = arg;

	if (!S_ISREG(sb->st_mode) || sb->st_uid != s->euid ||
	    (sb->st_mode & FILE_MODE_OTHERS) != 0 || sb->st_nlink != 1)
		return ft_seterr(err, errlen, FT_ERR_UNSAFE,
		    "cache file %s must be a regular file owned by uid %lu, "
		    "mode 0600, with one link",
		    s->impl->path, (unsigned long)s->euid);
	return FT_OK;
}

static int
open_file(void *arg, int *fd, char *err, size_t errlen)
{
	const struct session *s = arg;

	*fd = openat(s->dirfd, s->impl->base,
	    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
	    GDBM_FILE_MODE);
	if (*fd < 0)
		return ft_seterr(err, errlen,
		    errno == ELOOP ? FT_ERR_UNSAFE : FT_ERR_IO,
		    "cache file %s: %s", s->impl->path,
		    errno == ELOOP ? "is a symbolic link" : strerror(errno));
	return FT_OK;
}

/* Open (creating if needed) and exclusively lock the file, waiting for
 * another holder within lock_limits. */
static int
lock_file(struct session *s, char *err, size_t errlen)
{
	const struct ft_flock_target t = {.dirfd = s->dirfd,
	    .name = s->impl->base,
	    .path = s->impl->path,
	    .lim = &lock_limits,
	    .open = open_file,
	    .check = check_file,
	    .arg = s};
	struct stat sb;

	return ft_flock_wait(&t, &s->fd, &sb, err, errlen);
}

/* Rename the damaged file aside (we hold its lock) so the next open
 * creates a fresh one. */
static void
set_aside(struct session *s, char *err, size_t errlen)
{
	char name[NAME_MAX + 1];
	int n;

	n = snprintf(name, sizeof(name), "%s.corrupt.%lld", s->impl->base,
	    (long long)s->now);
	if (n < 0 || (size_t)n >= sizeof(name) ||
	    renameat(s->dirfd, s->impl->base, s->dirfd, name) != 0) {
		(void)ft_seterr(err, errlen, FT_ERR_CORRUPT,
		    "cache file %s is damaged and could not be set aside",
		    s->impl->path);
		return;
	}
	(void)fsync(s->dirfd);
	(void)ft_seterr(err, errlen, FT_ERR_CORRUPT,
	    "cache file %s was damaged; set aside as %s/%s", s->impl->path,
	    s->impl->dir, name);
}

/* ---- taking the cache directory's path back (root only) ---- */

/* "uid 1000 (mallory)": who owned what we moved aside. */
static void
owner_name(uid_t uid, char *out, size_t outlen)
{
	struct passwd pw, *res = NULL;
	char buf[PWBUF_MAX];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
		(void)snprintf(out, outlen, "uid %lu (%.64s)",
		    (unsigned long)uid, res->pw_name);
	else
		(void)snprintf(out, outlen, "uid %lu", (unsigned long)uid);
}

static const char *
kind_name(mode_t m)
{
	if (S_ISDIR(m))
		return "directory";
	if (S_ISLNK(m))
		return "symbolic link";
	if (S_ISFIFO(m))
		return "FIFO";
	if (S_ISREG(m))
		return "file";
	return "special file";
}

/* One step against what sits at the path now (sb, not followed): our own
 * directory with a group/other-readable mode from a root chmod mistake is
 * set back to 0700 (its records are ours, nobody else could write them);
 * anything else is renamed aside, never replacing an existing name (an
 * attacker may have planted one) and never following a link (rename moves
 * the entry itself).  FT_OK when the entry was dealt with. */
static int
reclaim_step(struct gdbm_impl *impl, int pfd, const char *leaf,
    const struct stat *sb, time_t now, unsigned try)
{
	char aside[NAME_MAX + 1], who[WHO_MAX];
	int fd, n;

	owner_name(sb->st_uid, who, sizeof(who));
	if (S_ISDIR(sb->st_mode) && sb->st_uid == 0 &&
	    (sb->st_mode & MODE_OTHERS_WRITE) == 0) {
		fd = openat(
		    pfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return FT_ERR_IO;
		n = fchmod(fd, GDBM_DIR_MODE);
		(void)close(fd);
		if (n != 0)
			return FT_ERR_IO;
		(void)snprintf(impl->warning, sizeof(impl->warning),
		    "cache directory %.256s had mode %04o; set back to 0700",
		    impl->dir, (unsigned)(sb->st_mode & DIR_MODE_BITS));
		return FT_OK;
	}
	n = snprintf(aside, sizeof(aside), "%s.foreign.%lld.%ld.%u", leaf,
	    (long long)now, (long)getpid(), try);
	if (n < 0 || (size_t)n >= sizeof(aside) ||
	    renameat2(pfd, leaf, pfd, aside, RENAME_NOREPLACE) != 0)
		return FT_ERR_IO;
	(void)fsync(pfd);
	(void)snprintf(impl->warning, sizeof(impl->warning),
	    "cache directory %.256s was a %s (mode %04o) owned by %.96s, not "
	    "root's 0700 directory; moved aside as %.256s and made a new one",
	    impl->dir, kind_name(sb->st_mode),
	    (unsigned)(sb->st_mode & DIR_MODE_BITS), who, aside);
	return FT_OK;
}

/* The cache directory is missing, or something unsafe is at its path:
 * make it ours within RECLAIM_TRIES rounds.  The parent must be root's and
 * either writable by root only or sticky (/dev/shm), so that the entry we
 * make cannot be renamed away by anyone else after we checked it. */
static int
reclaim_dir(struct gdbm_impl *impl, time_t now, char *err, size_t errlen)
{
	char parent[PATH_MAX];
	const char *leaf = strrchr(impl->dir, '/');
	struct stat psb, sb;
	unsigned try;
	int pfd, rc = FT_ERR_UNSAFE;

	if (leaf == NULL || leaf == impl->dir)
		return make_dir(impl, err, errlen);
	(void)snprintf(
	    parent, sizeof(parent), "%.*s", (int)(leaf - impl->dir), impl->dir);
	leaf++;
	pfd = ft_open_dir_nosymlinks(parent, O_RDONLY | O_CLOEXEC);
	if (pfd < 0 || fstat(pfd, &psb) != 0 || psb.st_uid != 0 ||
	    ((psb.st_mode & MODE_OTHERS_WRITE) != 0 &&
		(psb.st_mode & S_ISVTX) == 0)) {
		if (pfd >= 0)
			(void)close(pfd);
		return ft_seterr(err, errlen, FT_ERR_UNSAFE,
		    "cache directory %s: its parent must be root's, and "
		    "sticky if others can write it",
		    impl->dir);
	}
	for (try = 0; try < RECLAIM_TRIES && rc != FT_OK; try++) {
		if (fstatat(pfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
			rc = errno == ENOENT ? make_dir(impl, err, errlen)
					     : FT_ERR_IO;
			continue;
		}
		if (S_ISDIR(sb.st_mode) && sb.st_uid == 0 &&
		    (sb.st_mode & DIR_MODE_BITS) == GDBM_DIR_MODE)
			rc = FT_OK;
		else if (reclaim_step(impl, pfd, leaf, &sb, now, try) == FT_OK)
			rc = FT_ERR_UNSAFE; /* look again: make ours next */
	}
	(void)close(pfd);
	if (rc != FT_OK)
		return ft_seterr(err, errlen, FT_ERR_UNSAFE,
		    "cache directory %s: something else keeps appearing at "
		    "its path; gave up after %u tries",
		    impl->dir, RECLAIM_TRIES);
	return FT_OK;
}

static int
session_begin(struct gdbm_impl *impl, time_t now, struct session *s, char *err,
    size_t errlen)
{
	gdbm_error ge;
	int rc;

	memset(s, 0, sizeof(*s));
	s->impl = impl;
	s->dirfd = -1;
	s->fd = -1;
	s->euid = geteuid();
	s->now = now;
	rc = open_dir(impl, s->euid, &s->dirfd, err, errlen);
	if ((rc == FT_ERR_UNSAFE || rc == FT_ERR_NOENT) && s->euid == 0 &&
	    (impl->flags & FT_STATE_NO_CREATE) == 0) {
		/* Root: take the path back from whoever planted something
		 * there (or from a chmod mistake), then open our own. */
		rc = reclaim_dir(impl, now, err, errlen);
		if (rc == FT_OK)
			rc = open_dir(impl, s->euid, &s->dirfd, err, errlen);
	}
	if (rc == FT_ERR_NOENT && (impl->flags & FT_STATE_NO_CREATE) != 0)
		return ft_seterr(err, errlen, FT_ERR_PERM,
		    "cache directory %s does not exist (only root creates it)",
		    impl->dir);
	if (rc == FT_ERR_NOENT) {
		/* First use since boot (/dev/shm is empty then). */
		rc = make_dir(impl, err, errlen);
		if (rc == FT_OK)
			rc = open_dir(impl, s->euid, &s->dirfd, err, errlen);
	}
	if (rc != FT_OK)
		return rc;
	rc = lock_file(s, err, errlen);
	if (rc != FT_OK)
		return rc;
	/* GDBM_NOMMAP: a session reads one bucket; mapping and unmapping
	 * the whole file each time cost more than the rest of a login and
	 * grew with the file (bench/). */
	s->db = gdbm_fd_open(s->fd, impl->path, 0,
	    GDBM_WRCREAT | GDBM_NOLOCK | GDBM_CLOEXEC | GDBM_XVERIFY |
		GDBM_NOMMAP,
	    NULL);
	if (s->db == NULL) {
		ge = gdbm_errno;
		if (gdbm_err_is_corruption(ge)) {
			s->corrupt = true;
			return ft_seterr(err, errlen, FT_ERR_CORRUPT, "%s",
			    gdbm_strerror(ge));
		}
		return ft_seterr(err, errlen, FT_ERR_IO, "cache file %s: %s",
		    impl->path, gdbm_strerror(ge));
	}
	return FT_OK;
}

/* Close everything; if the session found damage, set the file aside first
 * and return FT_ERR_CORRUPT.  Otherwise returns rc (or an error from
 * gdbm_close if rc was FT_OK). */
static int
session_end(struct session *s, int rc, char *err, size_t errlen)
{
	if (s->db != NULL) {
		/* Tell waiters the lock is moving (lock_wait_over); a
		 * session that stored a record has moved the mtime with
		 * its write() already. */
		if (!s->wrote)
			(void)futimens(s->fd, NULL);
		if (gdbm_needs_recovery(s->db) && !s->write_failed)
			s->corrupt = true;
		if (s->corrupt)
			set_aside(s, err, errlen);
		if (gdbm_close(s->db) != 0 && rc == FT_OK)
			rc = ft_seterr(err, errlen, FT_ERR_IO,
			    "cache file %s: close: %s", s->impl->path,
			    gdbm_strerror(gdbm_errno));
		s->db = NULL;
		s->fd = -1; /* closed by gdbm_close */
	} else if (s->corrupt) {
		set_aside(s, err, errlen);
	}
	if (s->fd >= 0)
		(void)close(s->fd);
	if (s->dirfd >= 0)
		(void)close(s->dirfd);
	return s->corrupt ? FT_ERR_CORRUPT : rc;
}

static int
db_error(struct session *s, const char *what, char *err, size_t errlen)
{
	gdbm_error ge = gdbm_last_errno(s->db);
	int sys = gdbm_last_syserr(s->db);

	if (ge == GDBM_FILE_WRITE_ERROR || ge == GDBM_FILE_SEEK_ERROR ||
	    sys == ENOSPC || sys == EIO || sys == EDQUOT) {
		s->write_failed = true;
		return ft_seterr(err, errlen, FT_ERR_IO,
		    "cache file %s: %s: %s (records kept; free space in %s)",
		    s->impl->path, what, strerror(sys != 0 ? sys : EIO),
		    s->impl->dir);
	}
	if (gdbm_err_is_corruption(ge) || gdbm_needs_recovery(s->db)) {
		s->corrupt = true;
		return ft_seterr(err, errlen, FT_ERR_CORRUPT, "%s", what);
	}
	return ft_seterr(err, errlen, FT_ERR_IO, "cache file %s: %s: %s",
	    s->impl->path, what, gdbm_strerror(ge));
}

static datum
user_key(const char *user)
{
	datum k;

	/* gdbm takes a non-const pointer but does not write through it. */
	k.dptr = (char *)(uintptr_t)user;
	k.dsize = (int)strlen(user);
	return k;
}

/* Read the user's record; all zero if there is none. */
static int
rec_fetch(struct session *s, const char *user, struct ft_user_state *out,
    bool *found, char *err, size_t errlen)
{
	datum v;
	int rc;

	memset(out, 0, sizeof(*out));
	*found = false;
	v = gdbm_fetch(s->db, user_key(user));
	if (v.dptr == NULL) {
		if (gdbm_last_errno(s->db) == GDBM_ITEM_NOT_FOUND) {
			gdbm_clear_error(s->db);
			return FT_OK;
		}
		return db_error(s, "fetch", err, errlen);
	}
	rc = v.dsize < 0 ? FT_ERR_CORRUPT
			 : rec_decode(v.dptr, (size_t)v.dsize, out);
	/* One bad record refuses its own user only: setting the file aside
	 * would drop every other user's replay and lockout state. */
	if (rc == FT_ERR_VERSION)
		(void)ft_seterr(err, errlen, rc,
		    "cache file %s: the record of %s has version %u, newer "
		    "than this module reads (%u)",
		    s->impl->path, user, (unsigned)(uint8_t)v.dptr[0],
		    REC_VERSION);
	else if (rc != FT_OK)
		(void)ft_seterr(err, errlen, rc,
		    "cache file %s: the record of %s is malformed "
		    "(totp-enroll reset removes it)",
		    s->impl->path, user);
	free(v.dptr);
	if (rc != FT_OK) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	*found = true;
	return FT_OK;
}

static int
rec_store(struct session *s, const char *user, const struct ft_user_state *st,
    char *err, size_t errlen)
{
	uint8_t rec[REC_V2_SIZE];
	datum v;

	v.dsize = (int)rec_encode(st, rec);
	v.dptr = (char *)rec;
	if (gdbm_store(s->db, user_key(user), v, GDBM_REPLACE) != 0)
		return db_error(s, "store", err, errlen);
	s->wrote = true;
	return FT_OK;
}

/* ---- the operations ---- */

/* Room kept allocated after the end of the file (FALLOC_FL_KEEP_SIZE: the
 * size gdbm checks stays what it wrote) before a new user's record is
 * added: a new key may split a bucket and double the directory.  The
 * records already there are rewritten in place (same size), so when a
 * user fills the tmpfs they keep working; growth beyond the reserve is
 * the residual risk pam_flowtotp(8) states. */
#define GDBM_RESERVE_BYTES 65536

/* FT_OK if a new record may be added: the reserve after the end of the
 * file is allocated (or the file system cannot reserve: then nothing is
 * promised).  A full file system refuses the new user, not the others. */
static int
reserve_room(struct session *s, const char *user, char *err, size_t errlen)
{
	struct stat sb;

	if (fstat(s->fd, &sb) != 0)
		return ft_seterr(err, errlen, FT_ERR_IO, "cache file %s: %s",
		    s->impl->path, strerror(errno));
	if (fallocate(s->fd, FALLOC_FL_KEEP_SIZE, sb.st_size,
		GDBM_RESERVE_BYTES) == 0)
		return FT_OK;
	if (errno != ENOSPC && errno != EDQUOT)
		return FT_OK; /* EOPNOTSUPP: no reserve on this file system */
	return ft_seterr(err, errlen, FT_ERR_IO,
	    "cache full: cannot record a new user (%s): %s has no room left; "
	    "users already recorded still log in",
	    user, s->impl->dir);
}

/* Store the record after an operation: a user not found gets a record only
 * if the caller may create one and there is room for it. */
static int
store_after(struct session *s, struct ft_state_op *op,
    const struct ft_user_state *st, bool found, char *err, size_t errlen)
{
	int rc;

	if (!found && op->no_record)
		return FT_OK;
	if (!found && (rc = reserve_room(s, op->user, err, errlen)) != FT_OK)
		return rc;
	return rec_store(s, op->user, st, err, errlen);
}

/* FT_OP_ATTEMPT on the record st (found or zero): the rules of begin, the
 * check, the rules that apply to its answer; one store of the result.  A
 * failure counted by begin stays counted when the code does not match or
 * the check fails; a replay takes it back. */
static int
run_attempt(struct session *s, struct ft_state_op *op, struct ft_user_state *st,
    bool found, char *err, size_t errlen)
{
	int m, rc;

	ft_state_apply_begin(op->pol, op->now, st, &op->verdict);
	op->state = *st;
	op->known = true;
	if (op->verdict == FT_STATE_LOCKED)
		return FT_OK; /* a lock changes nothing; check not called */
	m = op->check(op->check_arg, &op->step);
	ft_state_apply_check(op->pol, m, op->step, op->now, st, &op->verdict);
	rc = store_after(s, op, st, found, err, errlen);
	op->state = *st;
	op->known = rc == FT_OK;
	if (m < 0 && rc == FT_OK)
		rc = ft_seterr(err, errlen, m, "checking the code failed");
	return rc;
}

/* ---- delivered codes: a record of their own ---- */

/* The key of a user's delivered-code record: "deliver", a NUL, the user
 * name.  A user name has no NUL, and a login record's key is the name
 * alone, so no user name is ever this key. */
#define DELIVER_KEY_PREFIX "deliver"
#define DELIVER_KEY_MAX (sizeof(DELIVER_KEY_PREFIX) + 257U)

static bool
deliver_key(const char *user, char buf[DELIVER_KEY_MAX], datum *k)
{
	size_t n = strlen(user);

	if (n + sizeof(DELIVER_KEY_PREFIX) > DELIVER_KEY_MAX)
		return false;
	memcpy(buf, DELIVER_KEY_PREFIX, sizeof(DELIVER_KEY_PREFIX));
	memcpy(buf + sizeof(DELIVER_KEY_PREFIX), user, n);
	k->dptr = buf;
	k->dsize = (int)(sizeof(DELIVER_KEY_PREFIX) + n);
	return true;
}

static int
run_forget(
    struct session *s, const struct ft_state_op *op, char *err, size_t errlen)
{
	char kbuf[DELIVER_KEY_MAX];
	datum k;

	if (gdbm_delete(s->db, user_key(op->user)) != 0 &&
	    gdbm_last_errno(s->db) != GDBM_ITEM_NOT_FOUND)
		return db_error(s, "delete", err, errlen);
	/* Reset removes a code sent and its rate counts too. */
	if (deliver_key(op->user, kbuf, &k) && gdbm_delete(s->db, k) != 0 &&
	    gdbm_last_errno(s->db) != GDBM_ITEM_NOT_FOUND)
		return db_error(s, "delete", err, errlen);
	return FT_OK;
}

/* Apply op to the record st; false if nothing is to be stored. */
static bool
apply_op(struct ft_state_op *op, struct ft_user_state *st, bool found)
{
	switch (op->kind) {
	case FT_OP_BEGIN:
		ft_state_apply_begin(op->pol, op->now, st, &op->verdict);
		op->state = *st;
		op->known = true;
		return op->verdict != FT_STATE_LOCKED; /* a lock changes
							* nothing */
	case FT_OP_SUCCESS:
		/* A replay changes the record too: it takes back the
		 * failure its attempt counted. */
		ft_state_apply_success(
		    op->pol, op->step, op->now, st, &op->verdict);
		return true;
	case FT_OP_MIRROR:
		ft_state_apply_mirror(st, &op->state, op->known, op->step,
		    op->verdict == FT_STATE_ACCEPTED, op->now);
		return true;
	case FT_OP_UNLOCK:
		op->rewound = found &&
		    ft_state_apply_unlock(st, op->now_step, op->pol->window);
		return found;
	default: op->state = *st; return false; /* FT_OP_GET */
	}
}

/* ---- remember= records ---- */

/* One record per user under the key NUL "remember" NUL USER: a user name
 * (the key of the user's own record) never holds a NUL, so no user's record
 * can be read as a remember record or the other way round.  Layout:
 *   0  u8   version (REM_VERSION)
 *   1  u8   count of entries (at most REM_ENTRIES)
 *   2  u8[2] zero
 *   4  count entries of { u8[16] origin digest, i64 until }
 * Anything else is damaged: not remembered, rewritten by the next set. */
#define REM_VERSION 1U
#define REM_ENTRIES 16U /* origins per user; the soonest to end goes */
#define REM_HEAD 4U
#define REM_ENTRY (FT_REMEMBER_DIGEST_LEN + sizeof(uint64_t))
#define REM_SIZE_MAX (REM_HEAD + REM_ENTRIES * REM_ENTRY)
#define REM_KEY_MAX 300U
static const char rem_tag[] = "\0remember"; /* with its final NUL */

struct rem_rec {
	unsigned n;
	uint8_t digest[REM_ENTRIES][FT_REMEMBER_DIGEST_LEN];
	int64_t until[REM_ENTRIES];
};

static int
rem_key(const char *user, char buf[REM_KEY_MAX], datum *k)
{
	size_t ul = strlen(user);

	if (sizeof(rem_tag) + ul > REM_KEY_MAX)
		return FT_ERR_ARG;
	memcpy(buf, rem_tag, sizeof(rem_tag));
	memcpy(buf + sizeof(rem_tag), user, ul);
	k->dptr = buf;
	k->dsize = (int)(sizeof(rem_tag) + ul);
	return FT_OK;
}

static bool
rem_decode(const datum *v, struct rem_rec *r)
{
	const uint8_t *p = (const uint8_t *)v->dptr;
	unsigned i;

	if (v->dsize < (int)REM_HEAD || p[0] != REM_VERSION ||
	    p[1] > REM_ENTRIES || p[2] != 0 || p[3] != 0 ||
	    (size_t)v->dsize != REM_HEAD + p[1] * REM_ENTRY)
		return false;
	r->n = p[1];
	for (i = 0; i < r->n; i++) {
		const uint8_t *e = p + REM_HEAD + i * REM_ENTRY;

		memcpy(r->digest[i], e, FT_REMEMBER_DIGEST_LEN);
		r->until[i] = (int64_t)ft_get_le(
		    e + FT_REMEMBER_DIGEST_LEN, sizeof(uint64_t));
		if (r->until[i] <= 0)
			return false;
	}
	return true;
}

/* The user's record; none is an empty one.  FT_ERR_CORRUPT (err set) for
 * a damaged one, with *r empty. */
static int
rem_fetch(struct session *s, const datum *k, const char *user,
    struct rem_rec *r, char *err, size_t errlen)
{
	datum v;
	bool ok;

	memset(r, 0, sizeof(*r));
	v = gdbm_fetch(s->db, *k);
	if (v.dptr == NULL) {
		if (gdbm_last_errno(s->db) != GDBM_ITEM_NOT_FOUND)
			return db_error(s, "fetch", err, errlen);
		gdbm_clear_error(s->db);
		return FT_OK;
	}
	ok = rem_decode(&v, r);
	free(v.dptr);
	if (ok)
		return FT_OK;
	memset(r, 0, sizeof(*r));
	return ft_seterr(err, errlen, FT_ERR_CORRUPT,
	    "cache file %s: the remember record of %s is malformed (not "
	    "remembered; the next code rewrites it)",
	    s->impl->path, user);
}

static int
rem_store(struct session *s, const datum *k, const struct rem_rec *r, char *err,
    size_t errlen)
{
	uint8_t buf[REM_SIZE_MAX];
	unsigned i;
	datum v;

	memset(buf, 0, REM_HEAD);
	buf[0] = (uint8_t)REM_VERSION;
	buf[1] = (uint8_t)r->n;
	for (i = 0; i < r->n; i++) {
		uint8_t *e = buf + REM_HEAD + i * REM_ENTRY;

		memcpy(e, r->digest[i], FT_REMEMBER_DIGEST_LEN);
		ft_put_le(e + FT_REMEMBER_DIGEST_LEN, (uint64_t)r->until[i],
		    sizeof(uint64_t));
	}
	v.dptr = (char *)buf;
	v.dsize = (int)(REM_HEAD + r->n * REM_ENTRY);
	if (gdbm_store(s->db, *k, v, GDBM_REPLACE) != 0)
		return db_error(s, "store", err, errlen);
	s->wrote = true;
	return FT_OK;
}

/* Keep the entries still running at now, other than the digest d. */
static void
rem_prune(struct rem_rec *r, const uint8_t *d, time_t now)
{
	unsigned i, o = 0;

	for (i = 0; i < r->n; i++) {
		if (r->until[i] <= (int64_t)now ||
		    memcmp(r->digest[i], d, FT_REMEMBER_DIGEST_LEN) == 0)
			continue;
		if (o != i) {
			memcpy(
			    r->digest[o], r->digest[i], FT_REMEMBER_DIGEST_LEN);
			r->until[o] = r->until[i];
		}
		o++;
	}
	r->n = o;
}

static void
rem_add(struct rem_rec *r, const uint8_t *d, int64_t until)
{
	unsigned i, soonest = 0;

	if (r->n == REM_ENTRIES) {
		for (i = 1; i < r->n; i++)
			if (r->until[i] < r->until[soonest])
				soonest = i;
		r->n--;
		memcpy(r->digest[soonest], r->digest[r->n],
		    FT_REMEMBER_DIGEST_LEN);
		r->until[soonest] = r->until[r->n];
	}
	memcpy(r->digest[r->n], d, FT_REMEMBER_DIGEST_LEN);
	r->until[r->n] = until;
	r->n++;
}

static int
run_remember(
    struct session *s, struct ft_state_op *op, char *err, size_t errlen)
{
	char kb[REM_KEY_MAX];
	struct rem_rec r;
	unsigned i;
	datum k;
	int rc;

	if (rem_key(op->user, kb, &k) != FT_OK)
		return ft_seterr(err, errlen, FT_ERR_ARG, "user name too long");
	if (op->kind == FT_OP_REMEMBER_CLEAR) {
		if (gdbm_delete(s->db, k) != 0 &&
		    gdbm_last_errno(s->db) != GDBM_ITEM_NOT_FOUND)
			return db_error(s, "delete", err, errlen);
		return FT_OK;
	}
	rc = rem_fetch(s, &k, op->user, &r, err, errlen);
	if (op->kind == FT_OP_REMEMBER_CHECK) {
		for (i = 0; rc == FT_OK && i < r.n; i++)
			if (r.until[i] > (int64_t)op->now &&
			    CRYPTO_memcmp(r.digest[i], op->digest,
				FT_REMEMBER_DIGEST_LEN) == 0)
				op->remembered = true;
		return rc;
	}
	if (rc != FT_OK && rc != FT_ERR_CORRUPT)
		return rc;
	if (r.n == 0 && (rc = reserve_room(s, op->user, err, errlen)) != FT_OK)
		return rc;
	rem_prune(&r, op->digest, op->now);
	rem_add(&r, op->digest, op->until);
	return rem_store(s, &k, &r, err, errlen);
}

/* FT_OP_DELIVER: read the record (all zero if none), apply, store. */
static int
run_deliver(struct session *s, struct ft_state_op *op, char *err, size_t errlen)
{
	char kbuf[DELIVER_KEY_MAX];
	uint8_t rec[FT_DELIVER_REC_SIZE];
	struct ft_deliver_rec r;
	datum k, v;
	bool found;
	int rc = FT_OK;

	memset(&r, 0, sizeof(r));
	if (!deliver_key(op->user, kbuf, &k))
		return ft_seterr(err, errlen, FT_ERR_ARG, "user name too long");
	v = gdbm_fetch(s->db, k);
	found = v.dptr != NULL;
	if (!found && gdbm_last_errno(s->db) != GDBM_ITEM_NOT_FOUND)
		return db_error(s, "fetch", err, errlen);
	if (!found) {
		gdbm_clear_error(s->db);
	} else {
		rc = v.dsize < 0
		    ? FT_ERR_CORRUPT
		    : ft_deliver_rec_decode(v.dptr, (size_t)v.dsize, &r);
		ft_wipe_free(v.dptr, v.dsize < 0 ? 0U : (size_t)v.dsize);
	}
	if (rc != FT_OK)
		return ft_seterr(err, errlen, rc,
		    "cache file %s: the delivery record of %s is %s",
		    s->impl->path, op->user,
		    rc == FT_ERR_VERSION ? "of a newer version" : "malformed");
	/* A redeem never creates a record; a request always stores one. */
	if (ft_deliver_apply(op->deliver, &r) &&
	    (found || op->deliver->action == FT_DELIVER_ISSUE)) {
		if (!found &&
		    (rc = reserve_room(s, op->user, err, errlen)) != FT_OK)
			goto out;
		ft_deliver_rec_encode(&r, rec);
		v.dptr = (char *)rec;
		v.dsize = (int)sizeof(rec);
		if (gdbm_store(s->db, k, v, GDBM_REPLACE) != 0)
			rc = db_error(s, "store", err, errlen);
		s->wrote = rc == FT_OK;
	}
out:
	ft_wipe(rec, sizeof(rec));
	ft_wipe(&r, sizeof(r));
	return rc;
}

static int
run_op(struct session *s, struct ft_state_op *op, char *err, size_t errlen)
{
	struct ft_user_state st;
	bool found;
	int rc;

	if (op->kind == FT_OP_PROBE)
		return FT_OK;
	if (op->kind == FT_OP_FORGET)
		return run_forget(s, op, err, errlen);
	if (op->kind == FT_OP_REMEMBER_CHECK ||
	    op->kind == FT_OP_REMEMBER_SET || op->kind == FT_OP_REMEMBER_CLEAR)
		return run_remember(s, op, err, errlen);
	if (op->kind == FT_OP_DELIVER)
		return run_deliver(s, op, err, errlen);
	if (op->kind > FT_OP_MIRROR)
		return ft_seterr(err, errlen, FT_ERR_ARG, "bad operation");
	rc = rec_fetch(s, op->user, &st, &found, err, errlen);
	if (rc != FT_OK)
		return rc;
	if (op->kind == FT_OP_ATTEMPT)
		return run_attempt(s, op, &st, found, err, errlen);
	if (!apply_op(op, &st, found))
		return FT_OK;
	rc = store_after(s, op, &st, found, err, errlen);
	if (op->kind == FT_OP_SUCCESS || op->kind == FT_OP_BEGIN) {
		op->state = st;
		op->known = rc == FT_OK;
	}
	return rc;
}

/* One locked session per operation: open, lock, read, apply, write,
 * close (and set a damaged file aside). */
static int
g_run(void *vimpl, struct ft_state_op *op, char *err, size_t errlen)
{
	struct gdbm_impl *impl = vimpl;
	struct session s;
	int rc;

	impl->warning[0] = '\0';
	rc = session_begin(impl, op->now, &s, err, errlen);
	if (rc == FT_OK)
		rc = run_op(&s, op, err, errlen);
	return session_end(&s, rc, err, errlen);
}

static void
g_close(void *impl)
{
	free(impl);
}

static const char *
g_warning(const void *vimpl)
{
	const struct gdbm_impl *impl = vimpl;

	return impl->warning[0] != '\0' ? impl->warning : NULL;
}

static const struct ft_state_backend_ops gdbm_ops = {
    .name = "gdbm",
    .run = g_run,
    .close = g_close,
    .warning = g_warning,
};

static int
split_path(const char *path, struct gdbm_impl *impl, char *err, size_t errlen)
{
	const char *slash;
	size_t dlen;
	int n;

	if (path == NULL || path[0] != '/')
		return ft_seterr(
		    err, errlen, FT_ERR_ARG, "cache path must be absolute");
	n = snprintf(impl->path, sizeof(impl->path), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(impl->path))
		return ft_seterr(
		    err, errlen, FT_ERR_ARG, "cache path too long");
	slash = strrchr(path, '/');
	dlen = (size_t)(slash - path);
	if (slash[1] == '\0' || strcmp(slash + 1, ".") == 0 ||
	    strcmp(slash + 1, "..") == 0 || strlen(slash + 1) > NAME_MAX / 2)
		return ft_seterr(err, errlen, FT_ERR_ARG,
		    "cache path %s does not name a file", path);
	(void)snprintf(impl->base, sizeof(impl->base), "%s", slash + 1);
	if (dlen == 0)
		dlen = 1; /* the file is in "/" */
	(void)snprintf(impl->dir, sizeof(impl->dir), "%.*s", (int)dlen, path);
	return FT_OK;
}

/* FT_STATE_NO_CREATE: the directory must exist and be the caller's now;
 * open_dir checks its mode with the first operation. */
static int
own_dir(const struct gdbm_impl *impl, char *err, size_t errlen)
{
	struct stat sb;

	if (lstat(impl->dir, &sb) != 0 || !S_ISDIR(sb.st_mode) ||
	    sb.st_uid != geteuid())
		return ft_seterr(err, errlen, FT_ERR_PERM,
		    "the login state in %s is not the caller's", impl->path);
	return FT_OK;
}

int
ft_state_gdbm_open(const char *path, unsigned flags,
    const struct ft_state_backend_ops **ops, void **implp, char *err,
    size_t errlen)
{
	struct gdbm_impl *impl;
	int rc;

	impl = calloc(1, sizeof(*impl));
	if (impl == NULL)
		return ft_seterr(err, errlen, FT_ERR_NOMEM, "out of memory");
	impl->flags = flags & FT_STATE_NO_CREATE;
	rc = split_path(path, impl, err, errlen);
	if (rc == FT_OK && (flags & FT_STATE_NO_CREATE) != 0)
		rc = own_dir(impl, err, errlen);
	if (rc != FT_OK) {
		free(impl);
		return rc;
	}
	*ops = &gdbm_ops;
	*implp = impl;
	return FT_OK;
}
