/* Times for people and for JSON, always in UTC (a log line or a status
 * read on another host must not depend on the local zone).  Not in json.c:
 * the store and the text reports need them too, without any JSON. */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "cli.h"

#define TM_YEAR_BASE 1900 /* struct tm counts years from 1900 */
#define TM_MON_BASE 1	  /* ... and months from 0 */

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
	    tm.tm_year + TM_YEAR_BASE, tm.tm_mon + TM_MON_BASE, tm.tm_mday,
	    iso ? "T" : " ", tm.tm_hour, tm.tm_min, tm.tm_sec,
	    iso ? "Z" : " UTC");
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
