/* Internal: the deadline of one Redis exchange and waiting on its socket
 * within it (redis_conn.c and redis_tls.c).  Only with HAVE_REDIS. */
#ifndef FLOWTOTP_REDIS_IO_H
#define FLOWTOTP_REDIS_IO_H

#include <stddef.h>
#include <time.h>

struct ft_redis_io {
	int fd;			  /* non-blocking, or -1 */
	long timeout_ms;	  /* the budget of each exchange */
	struct timespec deadline; /* CLOCK_MONOTONIC */
};

/* The deadline becomes now + timeout_ms (already over if the clock fails:
 * closed, never open-ended). */
void ft_redis_io_start(struct ft_redis_io *io);

/* poll fd for events until the deadline: 1 ready, 0 timed out, -1 poll
 * failed (errno). */
int ft_redis_io_wait(const struct ft_redis_io *io, short events);

/* What a wait that did not answer 1 means, for a message. */
void ft_redis_io_why(
    const struct ft_redis_io *io, int w, char *why, size_t whylen);

#endif
