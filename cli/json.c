/* JSON strings for --json output (times are in timefmt.c). */
#include <config.h>

#include <stdio.h>

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
