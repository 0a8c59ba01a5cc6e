/* The audit trail: every change to an enrolment or a lockout is logged to
 * authpriv as "ACTION for USER (by CALLER, uid N)".  Behind sudo or su the
 * caller is root, which names nobody; so the line also names the person who
 * logged in: the kernel's login uid (/proc/self/loginuid, set by pam_loginuid
 * at login and kept across sudo/su; the caller cannot change it), and
 * SUDO_USER as a hint (any caller can set that variable, so it is labelled
 * as such and never trusted alone). */
#include <config.h>

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "cli.h"

#define LOG_LINE_MAX 512U
#define LOGINUID_PATH "/proc/self/loginuid"
#define LOGINUID_UNSET 4294967295UL /* (uid_t)-1: no login recorded */
#define LOGINUID_BUFSZ 16U	    /* "4294967295\n" and a NUL */
#define HINT_MAX 64U		    /* longest SUDO_USER logged */
#define WHO_MAX 384U

/* The login uid, or false when unset or unreadable. */
static bool
login_uid(unsigned long *out)
{
	char buf[LOGINUID_BUFSZ], *end = NULL;
	FILE *f = fopen(LOGINUID_PATH, "re");
	bool ok = false;

	if (f == NULL)
		return false;
	if (fgets(buf, (int)sizeof(buf), f) != NULL) {
		errno = 0;
		*out = strtoul(buf, &end, 10);
		ok = errno == 0 && end != buf && *out != LOGINUID_UNSET;
	}
	(void)fclose(f);
	return ok;
}

/* SUDO_USER if it looks like a user name (it goes into syslog: no control
 * characters, no forged text), else NULL. */
static const char *
sudo_hint(void)
{
	const char *s = getenv("SUDO_USER");
	size_t n;

	if (s == NULL || s[0] == '\0')
		return NULL;
	n = strspn(s,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-@$");
	return n == strlen(s) && n <= HINT_MAX ? s : NULL;
}

/* "alice (loginuid 1000, SUDO_USER=alice) as root, uid 0", or, with no
 * login uid, "root, uid 0" (and the hint, if any). */
static void
who(const struct cli_ctx *ctx, char *buf, size_t len)
{
	const char *hint = sudo_hint();
	const struct passwd *pw;
	char extra[HINT_MAX + sizeof(", SUDO_USER=")];
	unsigned long luid;

	extra[0] = '\0';
	if (hint != NULL)
		(void)snprintf(extra, sizeof(extra), ", SUDO_USER=%s", hint);
	if (!login_uid(&luid)) {
		(void)snprintf(buf, len, "%s, uid %lu%s%s", ctx->name,
		    (unsigned long)ctx->uid,
		    hint != NULL ? "; loginuid unset" : "", extra);
		return;
	}
	/* Single-threaded program: the static result is safe. */
	// cppcheck-suppress getpwuidCalled
	pw = getpwuid((uid_t)luid);
	(void)snprintf(buf, len, "%s (loginuid %lu%s) as %s, uid %lu",
	    pw != NULL ? pw->pw_name : "?", luid, extra, ctx->name,
	    (unsigned long)ctx->uid);
}

void
cli_log(const struct cli_ctx *ctx, const char *fmt, ...)
{
	char line[LOG_LINE_MAX], by[WHO_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	who(ctx, by, sizeof(by));
	openlog(CLI_PROG, LOG_PID, LOG_AUTHPRIV);
	syslog(LOG_NOTICE, "%s (by %s)", line, by);
	closelog();
}
