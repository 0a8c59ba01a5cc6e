/* totp-enroll doctor: the findings, kept in order and printed as text or
 * JSON.  The exit status says the worst severity seen. */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"

#define REPORT_FIRST_CAP 16U

static const char *const sev_names[] = {"info", "warning", "error"};

void
doc_report_init(struct doc_report *r)
{
	memset(r, 0, sizeof(*r));
}

void
doc_report_free(struct doc_report *r)
{
	free(r->f);
	memset(r, 0, sizeof(*r));
}

static bool
seen(const struct doc_report *r, const struct doc_kind *k,
    const struct doc_where *w)
{
	const char *file = w->file != NULL ? w->file : "";
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->f[i].kind == k && r->f[i].line == w->line &&
		    strcmp(r->f[i].file, file) == 0)
			return true;
	return false;
}

static bool
grow(struct doc_report *r)
{
	struct doc_finding *f;
	size_t cap = r->cap == 0 ? REPORT_FIRST_CAP : r->cap * 2U;

	if (r->n < r->cap)
		return true;
	f = realloc(r->f, cap * sizeof(*f));
	if (f == NULL) {
		r->oom = true;
		return false;
	}
	r->f = f;
	r->cap = cap;
	return true;
}

void
doc_add(struct doc_report *r, const struct doc_kind *k,
    const struct doc_where *w, const char *fmt, ...)
{
	struct doc_finding *f;
	va_list ap;

	if (seen(r, k, w) || !grow(r))
		return;
	f = &r->f[r->n++];
	f->kind = k;
	f->line = w->line;
	(void)snprintf(
	    f->file, sizeof(f->file), "%s", w->file != NULL ? w->file : "");
	va_start(ap, fmt);
	(void)vsnprintf(f->what, sizeof(f->what), fmt, ap);
	va_end(ap);
}

static void
print_text(const struct doc_finding *f, FILE *out)
{
	(void)fprintf(out, "%s [%s]", sev_names[f->kind->sev], f->kind->id);
	if (f->file[0] != '\0')
		(void)fprintf(out, " %s", f->file);
	if (f->line != 0)
		(void)fprintf(out, ":%u", f->line);
	(void)fprintf(out, ": %s\n", f->what);
	if (f->kind->fix != NULL && f->kind->fix[0] != '\0')
		(void)fprintf(out, "    fix: %s\n", f->kind->fix);
}

static void
print_json(const struct doc_finding *f, FILE *out, bool first)
{
	(void)fputs(
	    first ? "\n  {\"severity\": " : ",\n  {\"severity\": ", out);
	cli_json_str(out, sev_names[f->kind->sev]);
	(void)fputs(", \"id\": ", out);
	cli_json_str(out, f->kind->id);
	(void)fputs(", \"file\": ", out);
	if (f->file[0] != '\0')
		cli_json_str(out, f->file);
	else
		(void)fputs("null", out);
	(void)fprintf(out, ", \"line\": %u, \"message\": ", f->line);
	cli_json_str(out, f->what);
	(void)fputs(", \"fix\": ", out);
	cli_json_str(out, f->kind->fix != NULL ? f->kind->fix : "");
	(void)fputc('}', out);
}

/* Counts per severity, so a reader of the text sees the verdict last. */
static void
count(const struct doc_report *r, size_t n[DOC_ERROR + 1])
{
	size_t i;

	memset(n, 0, sizeof(n[0]) * (DOC_ERROR + 1));
	for (i = 0; i < r->n; i++)
		n[r->f[i].kind->sev]++;
}

void
doc_print(const struct doc_report *r, FILE *out, bool json)
{
	size_t i, n[DOC_ERROR + 1];

	count(r, n);
	if (json)
		(void)fputs("{\"findings\": [", out);
	for (i = 0; i < r->n; i++) {
		if (json)
			print_json(&r->f[i], out, i == 0);
		else
			print_text(&r->f[i], out);
	}
	if (json)
		(void)fprintf(out,
		    "%s], \"errors\": %zu, \"warnings\": %zu, \"info\": %zu}\n",
		    r->n > 0 ? "\n" : "", n[DOC_ERROR], n[DOC_WARN],
		    n[DOC_INFO]);
	else
		(void)fprintf(out, "%zu error(s), %zu warning(s), %zu info\n",
		    n[DOC_ERROR], n[DOC_WARN], n[DOC_INFO]);
}

int
doc_exit(const struct doc_report *r)
{
	size_t n[DOC_ERROR + 1];

	count(r, n);
	if (n[DOC_ERROR] > 0)
		return CLI_EX_DOC_ERROR;
	if (n[DOC_WARN] > 0)
		return CLI_EX_DOC_WARN;
	return CLI_EX_OK;
}
