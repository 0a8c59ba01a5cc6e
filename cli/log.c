/* The audit trail: every change to an enrolment or a lockout is logged to
 * authpriv as "ACTION for USER by CALLER". */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "cli.h"

#define LOG_LINE_MAX 512U

void
cli_log(const struct cli_ctx *ctx, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	openlog(CLI_PROG, LOG_PID, LOG_AUTHPRIV);
	syslog(LOG_NOTICE, "%s (by %s, uid %lu)", line, ctx->name,
	    (unsigned long)ctx->uid);
	closelog();
}
