/* Taking an exclusive flock on a file named in a checked directory, with a
 * bounded, jittered, exponentially backed-off wait, and making sure after
 * locking that the name still points at the inode we locked (a writer that
 * renames a new file into place, or a damaged file set aside, replaces it
 * while we wait).  One mechanism for the state cache (state_gdbm.c) and the
 * locked reads of secret files (safefile.c). */
#ifndef FLOWTOTP_FLOCK_WAIT_H
#define FLOWTOTP_FLOCK_WAIT_H

#include <stddef.h>
#include <sys/stat.h>

struct ft_flock_limits {
	/* Give up when the file has not changed (inode or mtime) for this
	 * long: the holder is stuck.  Others taking the lock and writing
	 * count as progress, so a queue of short holders is waited for. */
	long stall_ms;
	long total_ms;	   /* give up after this long in any case */
	long pause_min_us; /* the first pause between polls */
	long pause_max_us; /* pauses double up to this */
	int reopen_max;	   /* the name replaced under us this often */
};

struct ft_flock_target {
	int dirfd;	  /* the checked directory */
	const char *name; /* the file in it, compared after locking */
	const char *path; /* for messages */
	const struct ft_flock_limits *lim;
	/* Open the file (no symlinks); *fd set on FT_OK. */
	int (*open)(void *arg, int *fd, char *err, size_t errlen);
	/* Check an open file's fstat (owner, mode, type, links). */
	int (*check)(
	    void *arg, const struct stat *sb, char *err, size_t errlen);
	void *arg;
};

/* On FT_OK *fd is open and locked (LOCK_EX) and *sb its fstat after the
 * lock.  FT_ERR_LOCKED when a limit ran out; any error of open or check;
 * FT_ERR_IO for a failing flock or fstat.  Nothing stays open on error. */
int ft_flock_wait(const struct ft_flock_target *t, int *fd, struct stat *sb,
    char *err, size_t errlen);

#endif
