/* The bounded wait for an exclusive flock (see flock_wait.h). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "flock_wait.h"
#include "rc.h"

#define MS_PER_S 1000L
#define NS_PER_US 1000L
#define US_PER_S 1000000L
#define NS_PER_MS 1000000L
#define JITTER_SEED 0x9e3779b9U /* any non-zero xorshift state */
#define TRY_AGAIN 1		/* try_once: the lock is not ours yet */

struct wait {
	const struct ft_flock_target *t;
	struct timespec start;	  /* of the wait */
	struct timespec progress; /* last time the file changed */
	struct stat last;
	bool seen;
	long pause_us;
	uint32_t jitter;
	int replaced;
};

static long
elapsed_ms(const struct timespec *start, long if_unknown)
{
	struct timespec now;

	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
		return if_unknown; /* give up rather than spin */
	return (long)(now.tv_sec - start->tv_sec) * MS_PER_S +
	    (now.tv_nsec - start->tv_nsec) / NS_PER_MS;
}

static void
sleep_us(long us)
{
	struct timespec ts = {
	    .tv_sec = us / US_PER_S, .tv_nsec = (us % US_PER_S) * NS_PER_US};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Sleep a pause drawn from [pause/2, pause], then double the pause:
 * waiters that poll in step keep colliding, and a burst of hundreds of
 * them must not eat the CPU the holder needs.  xorshift32: not security
 * relevant, so a cheap per-call generator does. */
static void
back_off(struct wait *w)
{
	const long cap = w->t->lim->pause_max_us;

	w->jitter ^= w->jitter << 13;
	w->jitter ^= w->jitter >> 17;
	w->jitter ^= w->jitter << 5;
	sleep_us(w->pause_us / 2 +
	    (long)(w->jitter % (uint32_t)(w->pause_us / 2 + 1)));
	w->pause_us = w->pause_us * 2 > cap ? cap : w->pause_us * 2;
}

/* True (with err set) when it is time to give up waiting. */
static bool
wait_over(struct wait *w, const struct stat *sb, char *err, size_t errlen)
{
	const struct ft_flock_limits *lim = w->t->lim;

	if (!w->seen || sb->st_ino != w->last.st_ino ||
	    sb->st_mtim.tv_sec != w->last.st_mtim.tv_sec ||
	    sb->st_mtim.tv_nsec != w->last.st_mtim.tv_nsec) {
		if (w->seen &&
		    clock_gettime(CLOCK_MONOTONIC, &w->progress) != 0)
			w->progress = w->start;
		w->last = *sb;
		w->seen = true;
	}
	if (elapsed_ms(&w->progress, lim->stall_ms) >= lim->stall_ms) {
		(void)ft_seterr(err, errlen, FT_ERR_LOCKED,
		    "%s: still locked by another process, unchanged for %ld "
		    "ms",
		    w->t->path, lim->stall_ms);
		return true;
	}
	if (elapsed_ms(&w->start, lim->total_ms) >= lim->total_ms) {
		(void)ft_seterr(err, errlen, FT_ERR_LOCKED,
		    "%s: lock not obtained within %ld ms", w->t->path,
		    lim->total_ms);
		return true;
	}
	return false;
}

/* One try: FT_OK with the lock held on the file the name still names;
 * TRY_AGAIN; or an error. */
static int
try_once(struct wait *w, int fd, struct stat *sb, char *err, size_t errlen)
{
	const struct ft_flock_target *t = w->t;
	struct stat cur;
	bool locked;
	int rc;

	/* Lock first, then look: the usual caller finds the lock free and
	 * needs one fstat, not one before and one after.  Locking a file we
	 * then refuse harms nothing. */
	locked = flock(fd, LOCK_EX | LOCK_NB) == 0;
	if (!locked && errno != EWOULDBLOCK && errno != EINTR)
		return ft_seterr(err, errlen, FT_ERR_IO, "%s: flock: %s",
		    t->path, strerror(errno));
	if (fstat(fd, sb) != 0)
		return ft_seterr(err, errlen, FT_ERR_IO, "%s: fstat: %s",
		    t->path, strerror(errno));
	if ((rc = t->check(t->arg, sb, err, errlen)) != FT_OK)
		return rc;
	if (!locked) {
		if (wait_over(w, sb, err, errlen))
			return FT_ERR_LOCKED;
		back_off(w);
		return TRY_AGAIN;
	}
	if (fstatat(t->dirfd, t->name, &cur, AT_SYMLINK_NOFOLLOW) == 0 &&
	    cur.st_dev == sb->st_dev && cur.st_ino == sb->st_ino)
		return FT_OK;
	if (++w->replaced > t->lim->reopen_max)
		return ft_seterr(err, errlen, FT_ERR_LOCKED,
		    "%s: replaced too often while waiting for the lock",
		    t->path);
	return TRY_AGAIN;
}

int
ft_flock_wait(const struct ft_flock_target *t, int *fd, struct stat *sb,
    char *err, size_t errlen)
{
	struct wait w;
	int rc;

	*fd = -1;
	memset(&w, 0, sizeof(w));
	w.t = t;
	w.pause_us = t->lim->pause_min_us;
	if (clock_gettime(CLOCK_MONOTONIC, &w.start) != 0)
		return ft_seterr(err, errlen, FT_ERR_IO, "clock_gettime: %s",
		    strerror(errno));
	w.progress = w.start;
	w.jitter = (uint32_t)(uintptr_t)&w ^ (uint32_t)w.start.tv_nsec;
	if (w.jitter == 0)
		w.jitter = JITTER_SEED;
	for (;;) {
		rc = t->open(t->arg, fd, err, errlen);
		if (rc != FT_OK)
			return rc;
		rc = try_once(&w, *fd, sb, err, errlen);
		if (rc == FT_OK)
			return FT_OK;
		(void)close(*fd);
		*fd = -1;
		if (rc != TRY_AGAIN)
			return rc;
	}
}
