/* The front of a program's own syslog(): syslogshim.c defines syslog(),
 * vsyslog() and glibc's fortified __syslog_chk()/__vsyslog_chk(), which
 * libpam's pam_syslog() and the modules end up calling (the executable's
 * definitions come first in symbol lookup, with -export-dynamic), and hands
 * every message to ft_test_vsyslog.  That one the program defines once:
 * tests/lib/syslogcap.c (into a file) or bench/syslogsink.c (a datagram,
 * as to a system logger). */
#ifndef FLOWTOTP_TESTS_LIB_SYSLOGSHIM_H
#define FLOWTOTP_TESTS_LIB_SYSLOGSHIM_H

#include <stdarg.h>

/* One message; errno as the caller left it (for %m). */
void ft_test_vsyslog(int pri, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
