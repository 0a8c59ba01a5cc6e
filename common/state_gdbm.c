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
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "rc.h"
#include "safefile.h"
#include "state.h"
#include "state_backend.h"

#define GDBM_DIR_MODE 0700
#define GDBM_FILE_MODE 0600
/* Waiting for the writer lock (held for tens of microseconds per login):
 * give up when the file has not changed for LOCK_STALL_MS (the holder is
 * stuck, or the host so overloaded that it may as well be), or after
 * LOCK_WAIT_MAX_MS in any case (a steady stream of other logins). */
#define LOCK_STALL_MS 3000L
#define LOCK_WAIT_MAX_MS 15000L
/* Sleeps between polls: the first short (a login holds the lock for tens
 * of microseconds), then each twice the last up to LOCK_SLEEP_MAX_US, so that
 * a burst of hundreds of waiters does not eat the CPU the holder needs.  Each
 * is drawn from [pause/2, pause], or waiters that poll in step keep
 * colliding. */
#define LOCK_SLEEP_MIN_US 200L
#define LOCK_SLEEP_MAX_US 20000L
#define INODE_RETRIES 8 /* path replaced while we waited */
#define US_PER_MS 1000L
#define NS_PER_US 1000L
#define US_PER_S 1000000L

/* Record layout, little-endian, REC_SIZE bytes:
 *   0  u8   version (REC_VERSION)
 *   1  u8[3] zero
 *   4  u32  failures
 *   8  u64  last_step
 *  16  i64  first_failure
 *  24  i64  locked_until
 *  32  i64  last_success */
#define REC_VERSION 1U
#define REC_SIZE 40U
#define REC_OFF_FAILURES 4U
#define REC_OFF_LAST_STEP 8U
#define REC_OFF_FIRST_FAILURE 16U
#define REC_OFF_LOCKED_UNTIL 24U
#define REC_OFF_LAST_SUCCESS 32U
#define REC_RESERVED 3U

struct gdbm_impl {
	char path[PATH_MAX];
	char dir[PATH_MAX];
	char base[NAME_MAX + 1];
};

/* ---- record encoding ---- */

static void
put_le(uint8_t *p, uint64_t v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8U * i));
}

static uint64_t
get_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8U * i);
	return v;
}

static void
rec_encode(const struct ft_user_state *s, uint8_t rec[REC_SIZE])
{
	memset(rec, 0, REC_SIZE);
	rec[0] = (uint8_t)REC_VERSION;
	put_le(rec + REC_OFF_FAILURES, s->failures, sizeof(uint32_t));
	put_le(rec + REC_OFF_LAST_STEP, s->last_step, sizeof(uint64_t));
	put_le(rec + REC_OFF_FIRST_FAILURE, (uint64_t)s->first_failure,
	    sizeof(uint64_t));
	put_le(rec + REC_OFF_LOCKED_UNTIL, (uint64_t)s->locked_until,
	    sizeof(uint64_t));
	put_le(rec + REC_OFF_LAST_SUCCESS, (uint64_t)s->last_success,
	    sizeof(uint64_t));
}

static bool
rec_decode(const void *data, size_t len, struct ft_user_state *s)
{
	const uint8_t *rec = data;
	size_t i;

	if (len != REC_SIZE || rec[0] != REC_VERSION)
		return false;
	for (i = 1; i <= REC_RESERVED; i++)
		if (rec[i] != 0)
			return false;
	s->failures =
	    (uint32_t)get_le(rec + REC_OFF_FAILURES, sizeof(uint32_t));
	s->last_step = get_le(rec + REC_OFF_LAST_STEP, sizeof(uint64_t));
	s->first_failure =
	    (int64_t)get_le(rec + REC_OFF_FIRST_FAILURE, sizeof(uint64_t));
	s->locked_until =
	    (int64_t)get_le(rec + REC_OFF_LOCKED_UNTIL, sizeof(uint64_t));
	s->last_success =
	    (int64_t)get_le(rec + REC_OFF_LAST_SUCCESS, sizeof(uint64_t));
	return s->first_failure >= 0 && s->locked_until >= 0 &&
	    s->last_success >= 0;
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
	const struct gdbm_impl *impl;
	int dirfd;
	int fd; /* owned by db once gdbm_fd_open succeeded */
	GDBM_FILE db;
	uid_t euid;   /* asked once: every system call counts in a login */
	bool wrote;   /* a record was stored (write() moved the mtime) */
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
	    (sb.st_mode & 07777) != GDBM_DIR_MODE) {
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
check_file(const struct gdbm_impl *impl, uid_t euid, const struct stat *sb,
    char *err, size_t errlen)
{
	if (!S_ISREG(sb->st_mode) || sb->st_uid != euid ||
	    (sb->st_mode & 077) != 0 || sb->st_nlink != 1)
		return ft_seterr(err, errlen, FT_ERR_UNSAFE,
		    "cache file %s must be a regular file owned by uid %lu, "
		    "mode 0600, with one link",
		    impl->path, (unsigned long)euid);
	return FT_OK;
}

static void
sleep_us(long us)
{
	struct timespec ts = {
	    .tv_sec = us / US_PER_S, .tv_nsec = (us % US_PER_S) * NS_PER_US};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* xorshift32 */
static uint32_t
next_jitter(uint32_t x)
{
	if (x == 0)
		x = 0x9e3779b9U;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return x;
}

static long
elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
		return LOCK_WAIT_MAX_MS; /* give up rather than spin */
	return (long)(now.tv_sec - start->tv_sec) * 1000L +
	    (now.tv_nsec - start->tv_nsec) / (NS_PER_US * US_PER_MS);
}

struct lock_wait {
	struct timespec start;	  /* of the wait */
	struct timespec progress; /* last time the file changed */
	struct stat last;
	bool seen;
};

/* True (with err set) when it is time to give up waiting.  Others getting
 * the lock and writing the file count as progress: under a burst of logins
 * we wait our turn, but not for a holder that is stuck. */
static bool
lock_wait_over(struct lock_wait *w, const struct stat *sb,
    const struct gdbm_impl *impl, char *err, size_t errlen)
{
	if (!w->seen || sb->st_ino != w->last.st_ino ||
	    sb->st_mtim.tv_sec != w->last.st_mtim.tv_sec ||
	    sb->st_mtim.tv_nsec != w->last.st_mtim.tv_nsec) {
		if (w->seen &&
		    clock_gettime(CLOCK_MONOTONIC, &w->progress) != 0)
			w->progress = w->start;
		w->last = *sb;
		w->seen = true;
	}
	if (elapsed_ms(&w->progress) >= LOCK_STALL_MS) {
		(void)ft_seterr(err, errlen, FT_ERR_LOCKED,
		    "cache file %s: still locked by another process, "
		    "unchanged for %ld ms",
		    impl->path, LOCK_STALL_MS);
		return true;
	}
	if (elapsed_ms(&w->start) >= LOCK_WAIT_MAX_MS) {
		(void)ft_seterr(err, errlen, FT_ERR_LOCKED,
		    "cache file %s: lock not obtained within %ld ms",
		    impl->path, LOCK_WAIT_MAX_MS);
		return true;
	}
	return false;
}

/* Open (creating if needed) and exclusively lock the file.  Retries while
 * another process holds the lock (see lock_wait_over). */
static int
lock_file(struct session *s, char *err, size_t errlen)
{
	const struct gdbm_impl *impl = s->impl;
	struct lock_wait w;
	struct stat sb, cur;
	uint32_t jitter;
	long pause_us = LOCK_SLEEP_MIN_US;
	int replaced = 0;
	bool locked;
	int rc;

	memset(&w, 0, sizeof(w));
	if (clock_gettime(CLOCK_MONOTONIC, &w.start) != 0)
		return ft_seterr(err, errlen, FT_ERR_IO, "clock_gettime: %s",
		    strerror(errno));
	w.progress = w.start;
	/* Waiters that poll in step keep colliding: spread them out.  Not
	 * security relevant, so a cheap per-call generator does. */
	jitter = (uint32_t)(uintptr_t)&w ^ (uint32_t)w.start.tv_nsec;
	for (;;) {
		s->fd = openat(s->dirfd, impl->base,
		    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
			O_NONBLOCK,
		    GDBM_FILE_MODE);
		if (s->fd < 0)
			return ft_seterr(err, errlen,
			    errno == ELOOP ? FT_ERR_UNSAFE : FT_ERR_IO,
			    "cache file %s: %s", impl->path,
			    errno == ELOOP ? "is a symbolic link"
					   : strerror(errno));
		/* Lock first, then look: the usual login finds the lock free
		 * and needs one fstat, not one before and one after.  Locking
		 * a file we then refuse harms nothing. */
		locked = flock(s->fd, LOCK_EX | LOCK_NB) == 0;
		if (!locked && errno != EWOULDBLOCK && errno != EINTR)
			return ft_seterr(err, errlen, FT_ERR_IO,
			    "cache file %s: flock: %s", impl->path,
			    strerror(errno));
		if (fstat(s->fd, &sb) != 0)
			return ft_seterr(err, errlen, FT_ERR_IO,
			    "cache file %s: %s", impl->path, strerror(errno));
		rc = check_file(impl, s->euid, &sb, err, errlen);
		if (rc != FT_OK)
			return rc;
		if (locked) {
			/* Still the file the path names?  A damaged file may
			 * have been renamed aside while we waited. */
			if (fstatat(s->dirfd, impl->base, &cur,
				AT_SYMLINK_NOFOLLOW) == 0 &&
			    cur.st_dev == sb.st_dev && cur.st_ino == sb.st_ino)
				return FT_OK;
			if (++replaced > INODE_RETRIES)
				return ft_seterr(err, errlen, FT_ERR_LOCKED,
				    "cache file %s keeps being replaced",
				    impl->path);
		} else if (lock_wait_over(&w, &sb, impl, err, errlen)) {
			return FT_ERR_LOCKED;
		} else {
			jitter = next_jitter(jitter);
			sleep_us(pause_us / 2 +
			    (long)(jitter % (uint32_t)(pause_us / 2 + 1)));
			pause_us = pause_us * 2 > LOCK_SLEEP_MAX_US
			    ? LOCK_SLEEP_MAX_US
			    : pause_us * 2;
		}
		(void)close(s->fd);
		s->fd = -1;
	}
}

/* Rename the damaged file aside (we hold its lock) so the next open
 * creates a fresh one. */
static void
set_aside(struct session *s, char *err, size_t errlen)
{
	char name[NAME_MAX + 1];
	int n;

	n = snprintf(name, sizeof(name), "%s.corrupt.%lld", s->impl->base,
	    (long long)ft_now());
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

static int
session_begin(
    const struct gdbm_impl *impl, struct session *s, char *err, size_t errlen)
{
	gdbm_error ge;
	int rc;

	memset(s, 0, sizeof(*s));
	s->impl = impl;
	s->dirfd = -1;
	s->fd = -1;
	s->euid = geteuid();
	rc = open_dir(impl, s->euid, &s->dirfd, err, errlen);
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
		if (gdbm_needs_recovery(s->db))
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
	bool good;

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
	good = v.dsize >= 0 && rec_decode(v.dptr, (size_t)v.dsize, out);
	free(v.dptr);
	if (!good) {
		s->corrupt = true;
		return ft_seterr(err, errlen, FT_ERR_CORRUPT,
		    "record of user has a wrong size or version");
	}
	*found = true;
	return FT_OK;
}

static int
rec_store(struct session *s, const char *user, const struct ft_user_state *st,
    char *err, size_t errlen)
{
	uint8_t rec[REC_SIZE];
	datum v;

	rec_encode(st, rec);
	v.dptr = (char *)rec;
	v.dsize = (int)sizeof(rec);
	if (gdbm_store(s->db, user_key(user), v, GDBM_REPLACE) != 0)
		return db_error(s, "store", err, errlen);
	s->wrote = true;
	return FT_OK;
}

/* ---- the operations ---- */

enum gop {
	GOP_PROBE,
	GOP_BEGIN,
	GOP_ATTEMPT,
	GOP_SUCCESS,
	GOP_GET,
	GOP_UNLOCK,
	GOP_FORGET
};

struct gargs {
	enum gop op;
	const struct ft_state_policy *pol;
	const char *user;
	ft_state_check_fn check; /* GOP_ATTEMPT */
	void *check_arg;
	uint64_t *step_out; /* GOP_ATTEMPT */
	uint64_t step;
	time_t now;
	enum ft_state_verdict *verdict;
	struct ft_user_state *out;
};

/* GOP_ATTEMPT on the record st (found or zero): the rules of begin, the
 * check, the rules of success; one store of the result.  A failure counted
 * by begin stays counted when the code does not match, is a replay, or the
 * check fails. */
static int
run_attempt(struct session *s, const struct gargs *a, struct ft_user_state *st,
    char *err, size_t errlen)
{
	struct ft_user_state after;
	int m, rc;

	ft_state_apply_begin(a->pol, a->now, st, a->verdict);
	if (*a->verdict == FT_STATE_LOCKED)
		return FT_OK; /* a lock changes nothing; check not called */
	m = a->check(a->check_arg, a->step_out);
	if (m == 1) {
		after = *st;
		ft_state_apply_success(
		    *a->step_out, a->now, &after, a->verdict);
		if (*a->verdict == FT_STATE_ACCEPTED)
			*st = after;
	} else {
		/* No match: PROCEED; an error: fail closed. */
		*a->verdict = m == 0 ? FT_STATE_PROCEED : FT_STATE_LOCKED;
	}
	rc = rec_store(s, a->user, st, err, errlen);
	if (m < 0 && rc == FT_OK)
		rc = ft_seterr(err, errlen, m, "checking the code failed");
	return rc;
}

static int
run_op(struct session *s, const struct gargs *a, char *err, size_t errlen)
{
	struct ft_user_state st;
	bool found;
	int rc;

	if (a->op == GOP_PROBE)
		return FT_OK;
	if (a->op == GOP_FORGET) {
		if (gdbm_delete(s->db, user_key(a->user)) != 0 &&
		    gdbm_last_errno(s->db) != GDBM_ITEM_NOT_FOUND)
			return db_error(s, "delete", err, errlen);
		return FT_OK;
	}
	rc = rec_fetch(s, a->user, &st, &found, err, errlen);
	if (rc != FT_OK)
		return rc;
	switch (a->op) {
	case GOP_ATTEMPT: return run_attempt(s, a, &st, err, errlen);
	case GOP_BEGIN:
		ft_state_apply_begin(a->pol, a->now, &st, a->verdict);
		if (*a->verdict == FT_STATE_LOCKED)
			return FT_OK; /* a lock changes nothing */
		break;
	case GOP_SUCCESS:
		ft_state_apply_success(a->step, a->now, &st, a->verdict);
		if (*a->verdict != FT_STATE_ACCEPTED)
			return FT_OK; /* replay: nothing changes */
		break;
	case GOP_GET: *a->out = st; return FT_OK;
	case GOP_UNLOCK:
		if (!found)
			return FT_OK;
		st.failures = 0;
		st.first_failure = 0;
		st.locked_until = 0;
		break;
	default: return ft_seterr(err, errlen, FT_ERR_ARG, "bad operation");
	}
	return rec_store(s, a->user, &st, err, errlen);
}

static int
with_db(void *vimpl, const struct gargs *a, char *err, size_t errlen)
{
	const struct gdbm_impl *impl = vimpl;
	struct session s;
	int rc;

	rc = session_begin(impl, &s, err, errlen);
	if (rc == FT_OK)
		rc = run_op(&s, a, err, errlen);
	return session_end(&s, rc, err, errlen);
}

static int
g_begin(void *impl, const struct ft_state_policy *pol, const char *user,
    time_t now, enum ft_state_verdict *verdict, char *err, size_t errlen)
{
	struct gargs a = {.op = GOP_BEGIN,
	    .pol = pol,
	    .user = user,
	    .now = now,
	    .verdict = verdict};

	*verdict = FT_STATE_LOCKED;
	return with_db(impl, &a, err, errlen);
}

static int
g_attempt(void *impl, const struct ft_state_policy *pol, const char *user,
    time_t now, ft_state_check_fn check, void *arg,
    enum ft_state_verdict *verdict, uint64_t *step, char *err, size_t errlen)
{
	struct gargs a = {.op = GOP_ATTEMPT,
	    .pol = pol,
	    .user = user,
	    .check = check,
	    .check_arg = arg,
	    .step_out = step,
	    .now = now,
	    .verdict = verdict};

	*verdict = FT_STATE_LOCKED;
	*step = 0;
	return with_db(impl, &a, err, errlen);
}

static int
g_success(void *impl, const struct ft_state_policy *pol, const char *user,
    uint64_t step, time_t now, enum ft_state_verdict *verdict, char *err,
    size_t errlen)
{
	struct gargs a = {.op = GOP_SUCCESS,
	    .pol = pol,
	    .user = user,
	    .step = step,
	    .now = now,
	    .verdict = verdict};

	*verdict = FT_STATE_REPLAY;
	return with_db(impl, &a, err, errlen);
}

static int
g_get(void *impl, const char *user, struct ft_user_state *out, char *err,
    size_t errlen)
{
	struct gargs a = {.op = GOP_GET, .user = user, .out = out};

	return with_db(impl, &a, err, errlen);
}

static int
g_unlock(void *impl, const char *user, char *err, size_t errlen)
{
	struct gargs a = {.op = GOP_UNLOCK, .user = user};

	return with_db(impl, &a, err, errlen);
}

static int
g_forget(void *impl, const char *user, char *err, size_t errlen)
{
	struct gargs a = {.op = GOP_FORGET, .user = user};

	return with_db(impl, &a, err, errlen);
}

static void
g_close(void *impl)
{
	free(impl);
}

static const struct ft_state_backend_ops gdbm_ops = {
    .name = "gdbm",
    .begin_attempt = g_begin,
    .record_success = g_success,
    .attempt = g_attempt,
    .get = g_get,
    .unlock = g_unlock,
    .forget = g_forget,
    .close = g_close,
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

int
ft_state_gdbm_open(const char *path, bool probe,
    const struct ft_state_backend_ops **ops, void **implp, char *err,
    size_t errlen)
{
	struct gdbm_impl *impl;
	struct gargs probe_args = {.op = GOP_PROBE};
	int rc;

	impl = calloc(1, sizeof(*impl));
	if (impl == NULL)
		return ft_seterr(err, errlen, FT_ERR_NOMEM, "out of memory");
	rc = split_path(path, impl, err, errlen);
	if (rc != FT_OK)
		goto out;
	/* Make the directory and open the file once now, so a damaged file
	 * is found and set aside here.  A login skips this: its first
	 * operation follows at once and does the same (session_begin). */
	if (probe) {
		rc = make_dir(impl, err, errlen);
		if (rc == FT_OK)
			rc = with_db(impl, &probe_args, err, errlen);
	}
out:
	if (rc != FT_OK) {
		free(impl);
		return rc;
	}
	*ops = &gdbm_ops;
	*implp = impl;
	return FT_OK;
}
