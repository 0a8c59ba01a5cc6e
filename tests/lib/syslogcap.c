/* Catch what libpam would send to syslog, without root and without a
 * syslog daemon: this program defines syslog() and its fortified variants,
 * and the executable's definitions come first in symbol lookup, so the real
 * pam_syslog()/pam_vsyslog() in libpam end up here.  Each message is
 * appended as one line to the file named by $FT_TEST_SYSLOG, or written to
 * stderr as "syslog: PRIORITY MESSAGE" when that is unset.
 *
 * Built without _FORTIFY_SOURCE so <syslog.h> does not turn our definitions
 * into its inline wrappers; we declare what we define ourselves. */
#include <config.h>

#undef _FORTIFY_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CAP_LINE_MAX 4096
#define CAP_PRI_MASK 0x07

void syslog(int pri, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void vsyslog(int pri, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
void __syslog_chk(int pri, int flag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

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

__attribute__((format(printf, 2, 0))) static void
cap_vlog(int pri, const char *fmt, va_list ap)
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

void
syslog(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cap_vlog(pri, fmt, ap);
	va_end(ap);
}

void
vsyslog(int pri, const char *fmt, va_list ap)
{
	cap_vlog(pri, fmt, ap);
}

void
__syslog_chk(int pri, int flag, const char *fmt, ...)
{
	va_list ap;

	(void)flag;
	va_start(ap, fmt);
	cap_vlog(pri, fmt, ap);
	va_end(ap);
}

void
__vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{
	(void)flag;
	cap_vlog(pri, fmt, ap);
}
