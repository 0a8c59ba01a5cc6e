/* Deadlines of the Redis transport (see redis_io.h). */
#include <config.h>

#ifdef HAVE_REDIS

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "redis_io.h"

#define MS_PER_S 1000L
#define NS_PER_MS 1000000L
#define NS_PER_S (MS_PER_S * NS_PER_MS)

void
ft_redis_io_start(struct ft_redis_io *io)
{
	if (clock_gettime(CLOCK_MONOTONIC, &io->deadline) != 0) {
		io->deadline.tv_sec = 0;
		io->deadline.tv_nsec = 0;
		return;
	}
	io->deadline.tv_sec += io->timeout_ms / MS_PER_S;
	io->deadline.tv_nsec += (io->timeout_ms % MS_PER_S) * NS_PER_MS;
	if (io->deadline.tv_nsec >= NS_PER_S) {
		io->deadline.tv_sec++;
		io->deadline.tv_nsec -= NS_PER_S;
	}
}

/* Milliseconds left (rounded up), 0 when over. */
static int
ms_left(const struct ft_redis_io *io)
{
	struct timespec now;
	long ms;

	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
		return 0;
	ms = (long)(io->deadline.tv_sec - now.tv_sec) * MS_PER_S +
	    (io->deadline.tv_nsec - now.tv_nsec + NS_PER_MS - 1) / NS_PER_MS;
	if (ms <= 0)
		return 0;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

int
ft_redis_io_wait(const struct ft_redis_io *io, short events)
{
	struct pollfd p = {.fd = io->fd, .events = events};
	int left, n;

	for (;;) {
		left = ms_left(io);
		if (left == 0)
			return 0;
		n = poll(&p, 1, left);
		if (n > 0)
			return 1;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

void
ft_redis_io_why(const struct ft_redis_io *io, int w, char *why, size_t whylen)
{
	if (w < 0)
		(void)snprintf(why, whylen, "poll: %s", strerror(errno));
	else
		(void)snprintf(
		    why, whylen, "timed out after %ld ms", io->timeout_ms);
}

#endif /* HAVE_REDIS */
