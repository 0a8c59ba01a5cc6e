/* A stand-in for the system logger, so every module pays what it would pay
 * on a real host for its log lines.
 *
 * These machines have no /dev/log; without it glibc's syslog, opened by
 * libpam with LOG_CONS, writes every message to /dev/console (here a slow
 * serial port), which would bill modules for a cost no real host has.  This
 * program has its own syslog() (tests/lib/syslogshim.c: pam_syslog() in
 * libpam and the modules' own calls end up here) and does what glibc does
 * with a logger present: format a header and the message, and send one
 * datagram to a Unix socket.  The socket is our own (abstract namespace, no
 * file), drained between logins outside the timed part, the way journald
 * reads on another CPU.  PAM_BENCH_SHOWLOG=1 prints what was logged to
 * stderr. */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "syslogshim.h"
#include "syslogsink.h"

#define SINK_LINE_MAX 2048
#define SINK_RCVBUF (4 * 1024 * 1024)
#define SINK_STAMP_MAX 32

static int send_fd = -1;
static int recv_fd = -1;

int
sink_open(void)
{
	struct sockaddr_un sa;
	socklen_t len;
	int rcvbuf = SINK_RCVBUF;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	/* abstract name: sun_path[0] stays '\0' */
	(void)snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1,
	    "flowtotp-bench-syslog-%ld", (long)getpid());
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(sa.sun_path + 1));
	recv_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	send_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (recv_fd < 0 || send_fd < 0 ||
	    setsockopt(
		recv_fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) != 0 ||
	    bind(recv_fd, (struct sockaddr *)&sa, len) != 0 ||
	    connect(send_fd, (struct sockaddr *)&sa, len) != 0)
		return -1;
	return 0;
}

size_t
sink_drain(void)
{
	char buf[SINK_LINE_MAX];
	const bool show = getenv("PAM_BENCH_SHOWLOG") != NULL;
	size_t n = 0;
	ssize_t len;

	if (recv_fd < 0)
		return 0;
	while ((len = recv(recv_fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
		if (show)
			fprintf(stderr, "syslog: %.*s\n", (int)len, buf);
		n++;
	}
	return n;
}

void
ft_test_vsyslog(int pri, const char *fmt, va_list ap)
{
	char line[SINK_LINE_MAX], stamp[SINK_STAMP_MAX];
	int saved = errno, n, m;
	struct tm tm;
	time_t now;

	if (send_fd < 0)
		return;
	now = time(NULL);
	if (localtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%h %e %T", &tm) == 0)
		stamp[0] = '\0';
	n = snprintf(line, sizeof(line), "<%d>%s pam_bench[%ld]: ", pri, stamp,
	    (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(line))
		goto out;
	errno = saved; /* %m */
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (m < 0)
		goto out;
	n += m;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	(void)send(send_fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
out:
	errno = saved;
}
