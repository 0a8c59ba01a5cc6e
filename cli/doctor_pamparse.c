/* totp-enroll doctor: read PAM service files the way Linux-PAM does, for the
 * auth stack only: "type control module args", a control either a word or
 * "[value=action ...]", '#' to the end of a line is a comment, a backslash
 * at the end of a line continues it, and "@include FILE" or "auth include
 * FILE" / "auth substack FILE" put FILE's auth lines in its place.  Files
 * are read without following a symlink anywhere in their path. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "doctor.h"
#include "rc.h"
#include "safefile.h"
#include "wipe.h"

#define PAM_FILE_MAX (256U * 1024U)
#define PAM_LINE_MAX 4096U
#define STACK_FIRST_CAP 16U
#define ROOT_UID 0
#define PAM_FORBIDDEN_MODE 022 /* others writing root's PAM files */

static const struct doc_kind k_unsafe = {"pam-file-unsafe", DOC_ERROR,
    "make the file a regular file owned by root, not writable by group or "
    "others, with no symlink in its path"};
static const struct doc_kind k_include = {"pam-include-missing", DOC_ERROR,
    "create the included file or remove the line: Linux-PAM fails every "
    "login of a stack with a missing include"};
static const struct doc_kind k_depth = {
    "pam-include-loop", DOC_ERROR, "remove the include loop"};

struct parse {
	const struct doc_root *root;
	struct doc_stack *st;
	struct doc_report *rep;
	unsigned depth;
};

static int load_file(
    struct parse *p, const char *name, const struct doc_where *from);

static bool
blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The next word, or a whole "[...]" group; NUL-terminated in place. */
static char *
next_token(char **s)
{
	char *p = *s, *start;

	while (blank(*p))
		p++;
	if (*p == '\0')
		return NULL;
	start = p;
	if (*p == '[') {
		while (*p != '\0' && *p != ']')
			p++;
		if (*p == ']')
			p++;
	} else
		while (*p != '\0' && !blank(*p))
			p++;
	if (*p != '\0')
		*p++ = '\0';
	*s = p;
	return start;
}

static bool
grow(struct doc_stack *st)
{
	struct doc_pam_entry *e;
	size_t cap = st->cap == 0 ? STACK_FIRST_CAP : st->cap * 2U;

	if (st->n < st->cap)
		return true;
	e = realloc(st->e, cap * sizeof(*e));
	if (e == NULL)
		return false;
	st->e = e;
	st->cap = cap;
	return true;
}

static int
add_entry(struct parse *p, const struct doc_where *w, const char *control,
    const char *module, char *rest)
{
	struct doc_pam_entry *e;
	size_t n;

	if (!grow(p->st))
		return FT_ERR_NOMEM;
	e = &p->st->e[p->st->n++];
	(void)snprintf(e->file, sizeof(e->file), "%s", w->file);
	e->line = w->line;
	(void)snprintf(e->control, sizeof(e->control), "%s", control);
	(void)snprintf(e->module, sizeof(e->module), "%s", module);
	while (blank(*rest))
		rest++;
	for (n = strlen(rest); n > 0 && blank(rest[n - 1]); n--)
		rest[n - 1] = '\0';
	(void)snprintf(e->args, sizeof(e->args), "%s", rest);
	return FT_OK;
}

/* One logical line (continuations joined, comment cut off). */
static int
parse_line(struct parse *p, const struct doc_where *w, char *line)
{
	char *s = line, *type, *control, *module;

	line[strcspn(line, "#")] = '\0';
	if ((type = next_token(&s)) == NULL)
		return FT_OK;
	if (strcmp(type, "@include") == 0) {
		module = next_token(&s);
		return module != NULL ? load_file(p, module, w) : FT_OK;
	}
	if (type[0] == '-')
		type++;
	if (strcasecmp(type, "auth") != 0 ||
	    (control = next_token(&s)) == NULL ||
	    (module = next_token(&s)) == NULL)
		return FT_OK;
	if (strcmp(control, "include") == 0 || strcmp(control, "substack") == 0)
		return load_file(p, module, w);
	return add_entry(p, w, control, module, s);
}

static int
parse_buf(struct parse *p, const char *path, char *buf)
{
	char line[PAM_LINE_MAX];
	char *pos = buf, *nl;
	size_t used = 0, n;
	unsigned lineno = 0, first = 0;
	struct doc_where w = {path, 0};
	int rc = FT_OK;

	while (rc == FT_OK && *pos != '\0') {
		lineno++;
		nl = strchr(pos, '\n');
		n = nl != NULL ? (size_t)(nl - pos) : strlen(pos);
		if (used == 0)
			first = lineno;
		if (used + n < sizeof(line)) {
			memcpy(line + used, pos, n);
			used += n;
		}
		line[used] = '\0';
		pos += n + (nl != NULL ? 1U : 0U);
		if (used > 0 && line[used - 1U] == '\\') {
			line[used - 1U] = ' '; /* continued on the next line */
			continue;
		}
		w.line = first;
		rc = parse_line(p, &w, line);
		used = 0;
	}
	return rc;
}

static int
read_one(const char *path, char **buf, size_t *len)
{
	struct ft_file_policy pol;
	char err[CLI_ERRLEN];

	memset(&pol, 0, sizeof(pol));
	pol.owner = ROOT_UID;
	pol.allow_root = true;
	pol.forbidden_mode = PAM_FORBIDDEN_MODE;
	pol.max_size = PAM_FILE_MAX;
	err[0] = '\0';
	return ft_safe_read(path, &pol, buf, len, err, sizeof(err));
}

/* from: the line that includes name (NULL for the service itself). */
static int
load_file(struct parse *p, const char *name, const struct doc_where *from)
{
	struct doc_where top = {p->root->pamd, 0};
	char path[PATH_MAX];
	char *buf = NULL;
	size_t len = 0;
	int rc, n;

	if (p->depth >= DOC_INCLUDE_DEPTH) {
		doc_add(p->rep, &k_depth, from,
		    "includes nest deeper than %u files", DOC_INCLUDE_DEPTH);
		return FT_OK;
	}
	n = name[0] == '/'
	    ? snprintf(path, sizeof(path), "%s", name)
	    : snprintf(path, sizeof(path), "%s/%s", p->root->pamd, name);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		doc_add(p->rep, &k_unsafe, from != NULL ? from : &top,
		    "path of %s too long", name);
		return FT_OK;
	}
	rc = read_one(path, &buf, &len);
	if (rc == FT_ERR_NOENT && from != NULL)
		doc_add(p->rep, &k_include, from, "%s does not exist", path);
	else if (rc == FT_ERR_UNSAFE || rc == FT_ERR_TOOBIG)
		doc_add(p->rep, &k_unsafe, &(struct doc_where){path, 0},
		    "not read: %s", ft_rc_str(rc));
	if (rc != FT_OK)
		return rc == FT_ERR_NOMEM || from == NULL ? rc : FT_OK;
	p->depth++;
	rc = parse_buf(p, path, buf);
	p->depth--;
	ft_wipe_free(buf, len);
	return rc;
}

int
doc_stack_load(const struct doc_root *root, const char *service,
    struct doc_stack *st, struct doc_report *rep)
{
	struct parse p = {root, st, rep, 0};

	memset(st, 0, sizeof(*st));
	return load_file(&p, service, NULL);
}

void
doc_stack_free(struct doc_stack *st)
{
	free(st->e);
	memset(st, 0, sizeof(*st));
}

static bool
module_is(const struct doc_pam_entry *e, const char *name)
{
	const char *base = strrchr(e->module, '/');

	return strcmp(base != NULL ? base + 1 : e->module, name) == 0;
}

bool
doc_is_password(const struct doc_pam_entry *e)
{
	static const char *const names[] = {"pam_unix.so", "pam_sss.so",
	    "pam_ldap.so", "pam_krb5.so", "pam_winbind.so", "pam_userdb.so",
	    "pam_pwdfile.so", NULL};
	size_t i;

	for (i = 0; names[i] != NULL; i++)
		if (module_is(e, names[i]))
			return true;
	return false;
}

bool
doc_is_flowtotp(const struct doc_pam_entry *e)
{
	return module_is(e, "pam_flowtotp.so");
}

size_t
doc_stack_flowtotp(const struct doc_stack *st)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		if (doc_is_flowtotp(&st->e[i]))
			return i;
	return st->n;
}
