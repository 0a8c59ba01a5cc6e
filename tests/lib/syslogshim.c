/* syslog() and its variants, all to ft_test_vsyslog: see syslogshim.h.
 *
 * Built without _FORTIFY_SOURCE so <syslog.h> (which a system header may
 * pull in) does not turn these definitions into its inline wrappers; we
 * declare what we define ourselves. */
#include <config.h>

#undef _FORTIFY_SOURCE

#include <stdarg.h>

#include "syslogshim.h"

void syslog(int pri, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void vsyslog(int pri, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
void __syslog_chk(int pri, int flag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

void
syslog(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ft_test_vsyslog(pri, fmt, ap);
	va_end(ap);
}

void
vsyslog(int pri, const char *fmt, va_list ap)
{
	ft_test_vsyslog(pri, fmt, ap);
}

void
__syslog_chk(int pri, int flag, const char *fmt, ...)
{
	va_list ap;

	(void)flag;
	va_start(ap, fmt);
	ft_test_vsyslog(pri, fmt, ap);
	va_end(ap);
}

void
__vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{
	(void)flag;
	ft_test_vsyslog(pri, fmt, ap);
}
