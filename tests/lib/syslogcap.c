/* Catch what libpam would send to syslog, without root and without a
 * syslog daemon: with syslogshim.c (the program's own syslog()), the real
 * pam_syslog()/pam_vsyslog() in libpam end up here.  Each message is
 * appended as one line to the file named by $FT_TEST_SYSLOG, or written to
 * stderr as "syslog: PRIORITY MESSAGE" when that is unset. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "syslogshim.h"

#define CAP_LINE_MAX 4096
#define CAP_PRI_MASK 0x07

static void
cap_write(int fd, const char *s, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		s += w;
		n -= (size_t)w;
	}
}

void
ft_test_vsyslog(int pri, const char *fmt, va_list ap)
{
	char line[CAP_LINE_MAX];
	const char *path = getenv("FT_TEST_SYSLOG");
	int saved = errno;
	int n, m, fd;

	/* %m in syslog formats means strerror(errno): glibc's printf knows. */
	n = snprintf(line, sizeof(line), "<%d> ", pri & CAP_PRI_MASK);
	if (n < 0)
		return;
	errno = saved;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	line[n] = '\0';
	if (path != NULL && path[0] != '\0') {
		fd =
		    open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return;
		cap_write(fd, line, (size_t)n);
		(void)close(fd);
	} else {
		cap_write(STDERR_FILENO, "syslog: ", 8);
		cap_write(STDERR_FILENO, line, (size_t)n);
	}
	errno = saved;
}
