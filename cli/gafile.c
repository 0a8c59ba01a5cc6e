/* The google-authenticator-libpam file format, read for `import` (see
 * gafile.h).  Written from the format's description, strict: anything
 * that is not clearly a TOTP file of that format is refused, so a file is
 * never half understood.  Error messages name lines, never their content,
 * since a line may be the secret or a scratch code. */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base32.h"
#include "gafile.h"
#include "rc.h"
#include "wipe.h"

#define SECRET_LINE_MAX FT_SECRETFILE_MAX_LINE
#define NUMBER_DIGITS_MAX 20U /* a 64-bit value */
#define ANY_COUNT 0xffffffffU /* no upper bound on the arguments */

/* What the words after an option name must look like. */
enum args_kind {
	ARGS_UNSIGNED, /* decimal numbers */
	ARGS_SIGNED,   /* decimal numbers, '-' allowed in front */
	ARGS_ANY,      /* printable text */
};

struct ga_option {
	const char *name;
	enum args_kind kind;
	unsigned min, max; /* number of arguments */
	unsigned bit;	   /* enum cli_ga_ignored; 0 for one that is used */
};

/* STEP_SIZE and HOTP_COUNTER are handled before this table is used. */
static const struct ga_option options[] = {
    {"TOTP_AUTH", ARGS_ANY, 0, 0, 0},
    {"WINDOW_SIZE", ARGS_UNSIGNED, 1, 1, CLI_GA_WINDOW_SIZE},
    /* Limit and interval, then the times of recent logins. */
    {"RATE_LIMIT", ARGS_UNSIGNED, 2, ANY_COUNT, CLI_GA_RATE_LIMIT},
    /* Optionally followed by the time steps already used. */
    {"DISALLOW_REUSE", ARGS_UNSIGNED, 0, ANY_COUNT, CLI_GA_DISALLOW_REUSE},
    {"TIME_SKEW", ARGS_SIGNED, 1, 1, CLI_GA_TIME_SKEW},
    {"RESETTING_TIME_SKEW", ARGS_ANY, 0, ANY_COUNT, CLI_GA_RESETTING_TIME_SKEW},
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static const char *const ignored_names[CLI_GA_NIGNORED] = {
    "WINDOW_SIZE",
    "RATE_LIMIT",
    "DISALLOW_REUSE",
    "TIME_SKEW",
    "RESETTING_TIME_SKEW",
    "other options",
};

/* One line of the buffer, without its "\n" or "\r\n". */
struct line {
	const char *s;
	size_t len;
	unsigned no;
};

struct cursor {
	const char *p, *end;
	unsigned no;
};

struct parse {
	struct cli_ga *out;
	bool step_seen;
	char *err;
	size_t errlen;
};

const char *
cli_ga_ignored_name(unsigned i)
{
	return i < CLI_GA_NIGNORED ? ignored_names[i] : NULL;
}

void
cli_ga_wipe(struct cli_ga *g)
{
	ft_wipe(g, sizeof(*g));
}

static bool
next_line(struct cursor *c, struct line *l)
{
	const char *nl;

	if (c->p >= c->end)
		return false;
	nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	l->s = c->p;
	l->len = (size_t)((nl != NULL ? nl : c->end) - c->p);
	l->no = ++c->no;
	c->p = nl != NULL ? nl + 1 : c->end;
	/* A file edited on Windows: harmless, so accepted. */
	if (l->len > 0 && l->s[l->len - 1] == '\r')
		l->len--;
	return true;
}

static bool
is_b32_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '2' && c <= '7') || c == '=';
}

static int
parse_secret(const struct line *l, struct parse *ps)
{
	char copy[SECRET_LINE_MAX];
	size_t i, n = 0;
	int rc;

	if (l->len == 0 || l->s[0] == '"')
		return ft_seterr(ps->err, ps->errlen, FT_ERR_PARSE,
		    "line 1: no secret (the first line must be the base32 "
		    "secret)");
	if (l->len >= sizeof(copy))
		return ft_seterr(ps->err, ps->errlen, FT_ERR_PARSE,
		    "line 1: the secret is too long");
	/* Spaces between groups ("JBSW Y3DP ..."), as a person copying the
	 * secret writes it and as flowtotp(5) accepts them, are dropped. */
	for (i = 0; i < l->len; i++) {
		if (l->s[i] == ' ')
			continue;
		if (!is_b32_char(l->s[i])) {
			ft_wipe(copy, sizeof(copy));
			return ft_seterr(ps->err, ps->errlen, FT_ERR_PARSE,
			    "line 1: the secret is not base32 (character "
			    "%zu)",
			    i + 1);
		}
		copy[n++] = l->s[i];
	}
	copy[n] = '\0';
	rc = ft_base32_decode(
	    copy, ps->out->key, sizeof(ps->out->key), &ps->out->keylen);
	ft_wipe(copy, sizeof(copy));
	if (rc == FT_ERR_ARG)
		return ft_seterr(ps->err, ps->errlen, FT_ERR_PARSE,
		    "line 1: the secret is longer than %u bytes", FT_KEY_MAX);
	if (rc != FT_OK)
		return ft_seterr(ps->err, ps->errlen, FT_ERR_PARSE,
		    "line 1: the secret is not valid base32 (impossible "
		    "length, misplaced padding or stray trailing bits)");
	if (ps->out->keylen < FT_KEY_MIN)
		return ft_seterr(ps->err, ps->errlen, FT_ERR_PARSE,
		    "line 1: the secret is too short (%zu bytes; at least %u "
		    "are needed)",
		    ps->out->keylen, FT_KEY_MIN);
	return FT_OK;
}

/* Count the space-separated words of args, checking each against kind;
 * false for a word of the wrong form. */
static bool
count_args(const char *s, size_t len, enum args_kind kind, unsigned *n)
{
	size_t i = 0, start, digits;

	*n = 0;
	while (i < len) {
		if (s[i] == ' ') {
			i++;
			continue;
		}
		start = i;
		if (kind == ARGS_SIGNED && s[i] == '-')
			i++;
		for (digits = 0; i < len && s[i] != ' '; i++, digits++)
			if (kind != ARGS_ANY && (s[i] < '0' || s[i] > '9'))
				return false;
		if (i == start ||
		    (kind != ARGS_ANY &&
			(digits == 0 || digits > NUMBER_DIGITS_MAX)))
			return false;
		(*n)++;
	}
	return true;
}

static int
parse_step(
    const struct line *l, const char *args, size_t alen, struct parse *ps)
{
	unsigned long v = 0;
	unsigned n;
	size_t i;

	if (ps->step_seen)
		return ft_seterr(ps->err, ps->errlen, FT_ERR_PARSE,
		    "line %u: STEP_SIZE given twice", l->no);
	if (!count_args(args, alen, ARGS_UNSIGNED, &n) || n != 1)
		return ft_seterr(ps->err, ps->errlen, FT_ERR_PARSE,
		    "line %u: STEP_SIZE needs one number", l->no);
	for (i = 0; i < alen && v <= FT_PERIOD_MAX; i++)
		if (args[i] != ' ')
			v = v * 10U + (unsigned long)(args[i] - '0');
	if (v < FT_PERIOD_MIN || v > FT_PERIOD_MAX)
		return ft_seterr(ps->err, ps->errlen, FT_ERR_PARSE,
		    "line %u: STEP_SIZE must be %u to %u seconds for flowtotp",
		    l->no, FT_PERIOD_MIN, FT_PERIOD_MAX);
	ps->out->period = (unsigned)v;
	ps->step_seen = true;
	return FT_OK;
}

/* The single number of args (checked by count_args already), clamped to
 * what a long long holds; only used for messages. */
static long long
one_number(const char *args, size_t alen)
{
	char buf[NUMBER_DIGITS_MAX + 2U]; /* sign, digits, NUL */
	size_t i = 0, n = 0;

	while (i < alen && args[i] == ' ')
		i++;
	while (i < alen && args[i] != ' ' && n + 1 < sizeof(buf))
		buf[n++] = args[i++];
	buf[n] = '\0';
	return strtoll(buf, NULL, 10); /* saturates on overflow */
}

static int
parse_known(const struct line *l, const char *name, size_t nlen,
    const char *args, size_t alen, struct parse *ps)
{
	const struct ga_option *o;
	unsigned n;
	size_t i;

	for (i = 0; i < NOPTIONS; i++) {
		o = &options[i];
		if (strlen(o->name) != nlen || memcmp(o->name, name, nlen) != 0)
			continue;
		if (!count_args(args, alen, o->kind, &n) || n < o->min ||
		    n > o->max)
			return ft_seterr(ps->err, ps->errlen, FT_ERR_PARSE,
			    "line %u: malformed %s option", l->no, o->name);
		ps->out->ignored |= o->bit;
		if (o->bit == CLI_GA_WINDOW_SIZE)
			ps->out->window_size = one_number(args, alen);
		else if (o->bit == CLI_GA_TIME_SKEW)
			ps->out->time_skew = one_number(args, alen);
		return FT_OK;
	}
	ps->out->ignored |= CLI_GA_OTHER;
	return FT_OK;
}

/* `" NAME` or `" NAME ARGS`, NAME in upper case, digits and '_'. */
static int
parse_option(const struct line *l, struct parse *ps)
{
	const char *name = l->s + 2, *args;
	size_t nlen = 0, alen;

	if (l->len < 3 || l->s[1] != ' ')
		return ft_seterr(ps->err, ps->errlen, FT_ERR_PARSE,
		    "line %u: an option line must be a double quote, a space "
		    "and the option",
		    l->no);
	while (2 + nlen < l->len &&
	    ((name[nlen] >= 'A' && name[nlen] <= 'Z') ||
		(name[nlen] >= '0' && name[nlen] <= '9') || name[nlen] == '_'))
		nlen++;
	if (nlen == 0 || (2 + nlen < l->len && name[nlen] != ' '))
		return ft_seterr(ps->err, ps->errlen, FT_ERR_PARSE,
		    "line %u: malformed option name", l->no);
	args = name + nlen;
	alen = l->len - 2 - nlen;
	if (nlen == strlen("HOTP_COUNTER") &&
	    memcmp(name, "HOTP_COUNTER", nlen) == 0)
		return ft_seterr(ps->err, ps->errlen, FT_ERR_UNSUPPORTED,
		    "line %u: this is an HOTP (counter based) secret; "
		    "flowtotp supports only TOTP (time based), so enrol "
		    "afresh instead",
		    l->no);
	if (nlen == strlen("STEP_SIZE") && memcmp(name, "STEP_SIZE", nlen) == 0)
		return parse_step(l, args, alen, ps);
	return parse_known(l, name, nlen, args, alen, ps);
}

static bool
is_scratch_code(const struct line *l)
{
	size_t i;

	if (l->len != CLI_GA_SCRATCH_DIGITS)
		return false;
	for (i = 0; i < l->len; i++)
		if (l->s[i] < '0' || l->s[i] > '9')
			return false;
	return true;
}

static int
parse_line(const struct line *l, struct parse *ps)
{
	size_t i;

	for (i = 0; i < l->len; i++)
		if ((unsigned char)l->s[i] < ' ' ||
		    (unsigned char)l->s[i] == 0x7fU)
			return ft_seterr(ps->err, ps->errlen, FT_ERR_PARSE,
			    "line %u: control character", l->no);
	if (l->len == 0)
		return FT_OK; /* a stray blank line says nothing */
	if (l->s[0] == '"')
		return parse_option(l, ps);
	if (!is_scratch_code(l))
		return ft_seterr(ps->err, ps->errlen, FT_ERR_PARSE,
		    "line %u: neither an option (\" NAME) nor an 8-digit "
		    "scratch code",
		    l->no);
	if (++ps->out->nscratch > CLI_GA_SCRATCH_MAX)
		return ft_seterr(ps->err, ps->errlen, FT_ERR_PARSE,
		    "line %u: more than %u scratch codes", l->no,
		    CLI_GA_SCRATCH_MAX);
	return FT_OK;
}

static unsigned
line_of(const char *buf, size_t off)
{
	unsigned no = 1;
	size_t i;

	for (i = 0; i < off; i++)
		if (buf[i] == '\n')
			no++;
	return no;
}

static int
parse_all(const char *buf, size_t len, struct parse *ps)
{
	struct cursor c = {buf, buf + len, 0};
	const char *nul;
	struct line l;
	int rc;

	nul = memchr(buf, '\0', len);
	if (nul != NULL)
		return ft_seterr(ps->err, ps->errlen, FT_ERR_PARSE,
		    "line %u: NUL byte", line_of(buf, (size_t)(nul - buf)));
	if (!next_line(&c, &l))
		return ft_seterr(
		    ps->err, ps->errlen, FT_ERR_PARSE, "the file is empty");
	if ((rc = parse_secret(&l, ps)) != FT_OK)
		return rc;
	while (next_line(&c, &l))
		if ((rc = parse_line(&l, ps)) != FT_OK)
			return rc;
	return FT_OK;
}

int
cli_ga_parse(
    const char *buf, size_t len, struct cli_ga *out, char *err, size_t errlen)
{
	struct parse ps = {out, false, err, errlen};
	int rc;

	if (out == NULL)
		return ft_seterr(err, errlen, FT_ERR_ARG, "no output");
	cli_ga_wipe(out);
	if (buf == NULL)
		return ft_seterr(err, errlen, FT_ERR_ARG, "no input");
	out->period = FT_PERIOD_DEFAULT;
	if (len > CLI_GA_MAX_SIZE)
		rc = ft_seterr(err, errlen, FT_ERR_PARSE,
		    "larger than %u bytes", CLI_GA_MAX_SIZE);
	else
		rc = parse_all(buf, len, &ps);
	if (rc != FT_OK)
		cli_ga_wipe(out);
	return rc;
}
