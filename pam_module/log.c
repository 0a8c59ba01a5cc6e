/* The module's syslog lines (via pam_syslog, so they carry the host
 * program's identity and go to authpriv).  One line per outcome:
 *   flowtotp: service=S user=U rhost=H result=R reason=W [extra]
 * Fields are sanitized (no spaces or control characters from user input);
 * nothing that could be a code or a secret is ever passed in here. */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>

#include "module.h"
#include "state.h"

#define FIELD_MAX 128U /* service, user, rhost */

/* Copy s into out, replacing anything outside printable ASCII (and, for
 * fields, spaces and quotes) with '?', truncated to outlen-1.  Free text
 * (allow_space) goes inside "...", so its double quotes become single ones:
 * an error such as  unknown key "colour"  stays readable. */
static const char *
clean(const char *s, char *out, size_t outlen, bool allow_space)
{
	size_t i;

	if (s == NULL || *s == '\0')
		s = "-";
	for (i = 0; s[i] != '\0' && i + 1 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' && allow_space)
			c = '\'';
		else if (c < 0x20 || c > 0x7e || c == '"' || c == '\\' ||
		    (c == ' ' && !allow_space))
			c = '?';
		out[i] = (char)c;
	}
	out[i] = '\0';
	return out;
}

const char *
ftpam_reason_name(enum ftpam_reason r)
{
	switch (r) {
	case FTPAM_OK: return "ok";
	case FTPAM_BAD_CODE: return "bad_code";
	case FTPAM_NO_CODE: return "no_code";
	case FTPAM_CONV_ERROR: return "conv_error";
	case FTPAM_NO_MEMORY: return "no_memory";
	case FTPAM_CRYPTO_ERROR: return "crypto_error";
	case FTPAM_REPLAY: return "replay";
	case FTPAM_LOCKED: return "locked";
	case FTPAM_BACKUP_USED: return "backup_used";
	case FTPAM_NO_SECRET: return "no_secret";
	case FTPAM_UNSAFE_FILE: return "unsafe_file";
	case FTPAM_CACHE_ERROR: return "cache_error";
	case FTPAM_CONFIG_ERROR: return "config_error";
	case FTPAM_ENROLLED: return "enrolled";
	case FTPAM_EXEMPT: return "exempt";
	case FTPAM_NOT_REQUIRED: return "not_required";
	case FTPAM_GRACE: return "grace";
	case FTPAM_PASSWORD_AS_CODE: return "password_as_code";
	case FTPAM_REMEMBERED: return "remembered";
	case FTPAM_DELIVERY_FAILED: return "delivery_failed";
	}
	/* Not reached (-Wswitch: every reason has its case above).  A value
	 * out of range gets a name that claims no reason rather than one that
	 * would mislead. */
	return "unknown";
}

static bool
succeeded(const struct ftpam_login *lg)
{
	return lg->reason == FTPAM_OK || lg->reason == FTPAM_BACKUP_USED ||
	    lg->reason == FTPAM_ENROLLED || lg->reason == FTPAM_REMEMBERED;
}

static int
priority(const struct ftpam_login *lg)
{
	if (lg->ignored)
		return LOG_INFO;
	switch (lg->reason) {
	case FTPAM_OK:
	case FTPAM_ENROLLED:
	case FTPAM_EXEMPT:
	case FTPAM_NOT_REQUIRED:
	case FTPAM_GRACE:
	case FTPAM_REMEMBERED:
	case FTPAM_BACKUP_USED: return LOG_NOTICE;
	case FTPAM_BAD_CODE:
	case FTPAM_NO_CODE:
	case FTPAM_CONV_ERROR:
	case FTPAM_REPLAY:
	case FTPAM_LOCKED:
	case FTPAM_PASSWORD_AS_CODE:
	case FTPAM_NO_SECRET: return LOG_WARNING;
	case FTPAM_NO_MEMORY:
	case FTPAM_CRYPTO_ERROR:
	case FTPAM_UNSAFE_FILE:
	case FTPAM_CACHE_ERROR:
	case FTPAM_CONFIG_ERROR:
	case FTPAM_DELIVERY_FAILED: return LOG_ERR;
	}
	return LOG_ERR;
}

/* A failure line says how many failures count toward deny, and when a lock
 * holds, until when: the line whose count set the lock shows its start. */
static void
count_fields(const struct ftpam_login *lg, char *extra, size_t len)
{
	size_t used = strlen(extra);
	int n;

	if (!lg->counted || succeeded(lg) || used >= len)
		return;
	if (lg->locked_until == FT_STATE_LOCKED_FOREVER)
		n = snprintf(extra + used, len - used,
		    " failures=%lu locked_until=forever",
		    (unsigned long)lg->failures);
	else if (lg->locked_until != 0)
		n = snprintf(extra + used, len - used,
		    " failures=%lu locked_until=%lld",
		    (unsigned long)lg->failures, (long long)lg->locked_until);
	else
		n = snprintf(extra + used, len - used, " failures=%lu",
		    (unsigned long)lg->failures);
	if (n < 0)
		extra[used] = '\0';
}

void
ftpam_log_outcome(const struct ftpam_login *lg)
{
	char svc[FIELD_MAX], usr[FIELD_MAX], host[FIELD_MAX];
	char extra[FTPAM_DETAIL_MAX + 64], det[FTPAM_DETAIL_MAX];
	const char *result;
	size_t used;
	int n = 0;

	if (lg->ignored)
		result = "ignore";
	else if (succeeded(lg))
		result = "success";
	else
		result = "failure";
	extra[0] = '\0';
	if (lg->reason == FTPAM_BACKUP_USED)
		n = snprintf(extra, sizeof(extra), " backup_codes_left=%zu",
		    lg->backup_left);
	else if (lg->detail[0] != '\0')
		n = snprintf(extra, sizeof(extra), " detail=\"%s\"",
		    clean(lg->detail, det, sizeof(det), true));
	if (n < 0)
		extra[0] = '\0';
	count_fields(lg, extra, sizeof(extra));
	/* deliver=: this login had a code sent (the audit trail). */
	if (lg->deliver_sent) {
		used = strlen(extra);
		(void)snprintf(
		    extra + used, sizeof(extra) - used, " code_sent=yes");
	}
	pam_syslog(lg->pamh, priority(lg),
	    "flowtotp: service=%s user=%s rhost=%s result=%s reason=%s%s",
	    clean(lg->service, svc, sizeof(svc), false),
	    clean(lg->user, usr, sizeof(usr), false),
	    clean(lg->rhost, host, sizeof(host), false), result,
	    ftpam_reason_name(lg->reason), extra);
}

void
ftpam_set_detail(struct ftpam_login *lg, enum ftpam_reason r, const char *what)
{
	lg->reason = r;
	(void)snprintf(
	    lg->detail, sizeof(lg->detail), "%s", what != NULL ? what : "");
}

void
ftpam_log_warning(const struct ftpam_login *lg, const char *what)
{
	char usr[FIELD_MAX], det[FTPAM_DETAIL_MAX];

	pam_syslog(lg->pamh, LOG_WARNING, "flowtotp: user=%s warning=\"%s\"",
	    clean(lg->user, usr, sizeof(usr), false),
	    clean(what, det, sizeof(det), true));
}

void
ftpam_debug(const struct ftpam_login *lg, const char *fmt, ...)
{
	char msg[FTPAM_DETAIL_MAX], det[FTPAM_DETAIL_MAX];
	char usr[FIELD_MAX];
	va_list ap;

	if (!lg->cfg.debug)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pam_syslog(lg->pamh, LOG_DEBUG, "flowtotp: debug: user=%s %s",
	    clean(lg->user, usr, sizeof(usr), false),
	    clean(msg, det, sizeof(det), true));
}
