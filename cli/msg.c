/* Messages to the person at the terminal, and the exit code for a failure.
 * Their own file, below every other CLI file, so that the commands, the
 * user lookup and the store all call down into it and nothing calls back
 * up into the dispatcher (totp-enroll.c). */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>

#include "cli.h"
#include "rc.h"

/* stdout is flushed first so a message lands after the output it follows,
 * even when both go to the same terminal or file. */
static void __attribute__((format(printf, 1, 0)))
say(const char *fmt, va_list ap)
{
	(void)fflush(stdout);
	(void)fputs(CLI_PROG ": ", stderr);
	(void)vfprintf(stderr, fmt, ap);
	(void)fputc('\n', stderr);
}

int
cli_err(int ex, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
	return ex;
}

void
cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
}

int
cli_exit_for(int rc)
{
	switch (rc) {
	case FT_OK: return CLI_EX_OK;
	case FT_ERR_NOENT: return CLI_EX_NOTENROLLED;
	case FT_ERR_PERM: return CLI_EX_PERM;
	case FT_ERR_ARG: return CLI_EX_USAGE;
	default: return CLI_EX_FAIL;
	}
}
