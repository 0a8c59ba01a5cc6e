/* Output helpers: JSON strings and UTC times. */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "cli.h"

#define JSON_CTRL_LIMIT 0x20U

void
cli_json_str(FILE *out, const char *s)
{
	const unsigned char *p;

	(void)fputc('"', out);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"': (void)fputs("\\\"", out); break;
		case '\\': (void)fputs("\\\\", out); break;
		case '\n': (void)fputs("\\n", out); break;
		case '\r': (void)fputs("\\r", out); break;
		case '\t': (void)fputs("\\t", out); break;
		default:
			if (*p < JSON_CTRL_LIMIT || *p == 0x7fU)
				(void)fprintf(out, "\\u%04x", (unsigned)*p);
			else
				(void)fputc(*p, out);
		}
	}
	(void)fputc('"', out);
}

/* snprintf rather than strftime: the format stays a checked literal. */
static void
fmt_utc(time_t t, bool iso, char *buf, size_t len)
{
	struct tm tm;

	if (len == 0)
		return;
	if (gmtime_r(&t, &tm) == NULL) {
		(void)snprintf(buf, len, "%lld", (long long)t);
		return;
	}
	(void)snprintf(buf, len, "%04d-%02d-%02d%s%02d:%02d:%02d%s",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, iso ? "T" : " ",
	    tm.tm_hour, tm.tm_min, tm.tm_sec, iso ? "Z" : " UTC");
}

void
cli_time_iso(time_t t, char *buf, size_t len)
{
	fmt_utc(t, true, buf, len);
}

void
cli_time_text(time_t t, char *buf, size_t len)
{
	fmt_utc(t, false, buf, len);
}
