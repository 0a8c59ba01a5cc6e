/* oath-toolkit's usersfile, read for `import --from pam_oath` (see
 * oathfile.h).  Written from the format's description and strict: a line
 * that is not clearly an entry of that format refuses the whole file.
 * Error messages name lines and fields, never their content, since a
 * shifted field may be a secret or a PIN. */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hex.h"
#include "oathfile.h"
#include "rc.h"
#include "wipe.h"

#define NFIELDS_MIN 4U	       /* TYPE USER PIN SECRET */
#define NFIELDS_MAX 7U	       /* ... COUNTER LAST_OTP TIMESTAMP */
#define COUNTER_DIGITS_MAX 20U /* a 64-bit counter */
#define LAST_OTP_DIGITS_MAX 10U
#define TIMESTAMP_MAX 64U
#define HEX_PER_BYTE 2U
#define WHY_MAX 128U

enum field { F_TYPE, F_USER, F_PIN, F_SECRET, F_COUNTER, F_LAST, F_TIME };

struct word {
	const char *s;
	size_t len;
};

/* The TYPE words and what they mean; the digits suffix is read apart. */
struct type_name {
	const char *prefix;
	enum cli_oath_kind kind;
	unsigned period;
	bool digits_suffix; /* may be followed by /6, /7 or /8 */
};

/* Longest prefix first, as the first that matches is taken. */
static const struct type_name types[] = {
    {"HOTP/T30", CLI_OATH_TOTP, 30, true},
    {"HOTP/T60", CLI_OATH_TOTP, 60, true},
    {"HOTP/E", CLI_OATH_HOTP, 0, true},
    {"HOTP", CLI_OATH_HOTP, 0, false},
};
#define NTYPES (sizeof(types) / sizeof(types[0]))

/* Why a line was refused. */
struct why {
	char text[WHY_MAX];
};

static bool set_why(struct why *y, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Always false, so a check can `return set_why(...)`. */
static bool
set_why(struct why *y, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(y->text, sizeof(y->text), fmt, ap);
	va_end(ap);
	return false;
}

void
cli_oath_wipe(struct cli_oath_entry *e)
{
	ft_wipe(e, sizeof(*e));
}

int
cli_oath_begin(struct cli_oath_reader *r, const char *buf, size_t len,
    char *err, size_t errlen)
{
	const char *nul;
	unsigned no = 1;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (buf == NULL)
		return ft_seterr(err, errlen, FT_ERR_ARG, "no input");
	if (len > CLI_OATH_MAX_SIZE)
		return ft_seterr(err, errlen, FT_ERR_PARSE,
		    "larger than %u bytes", CLI_OATH_MAX_SIZE);
	nul = memchr(buf, '\0', len);
	if (nul != NULL) {
		for (i = 0; buf + i < nul; i++)
			no += buf[i] == '\n';
		return ft_seterr(
		    err, errlen, FT_ERR_PARSE, "line %u: NUL byte", no);
	}
	r->p = buf;
	r->end = buf + len;
	return FT_OK;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Split line into at most NFIELDS_MAX + 1 words (one more than allowed, to
 * notice it); the number found. */
static unsigned
split(const char *s, size_t len, struct word w[NFIELDS_MAX + 1U])
{
	size_t i = 0, start;
	unsigned n = 0;

	while (i < len && n <= NFIELDS_MAX) {
		if (is_space(s[i])) {
			i++;
			continue;
		}
		start = i;
		while (i < len && !is_space(s[i]))
			i++;
		w[n].s = s + start;
		w[n].len = i - start;
		n++;
	}
	return n;
}

static bool
word_is(const struct word *w, const char *s)
{
	return w->len == strlen(s) && memcmp(w->s, s, w->len) == 0;
}

static bool
all_digits(const struct word *w, size_t max)
{
	size_t i;

	if (w->len == 0 || w->len > max)
		return false;
	for (i = 0; i < w->len; i++)
		if (w->s[i] < '0' || w->s[i] > '9')
			return false;
	return true;
}

/* HOTP, HOTP/E, HOTP/E/6..8, HOTP/T30[/6..8], HOTP/T60[/6..8]. */
static bool
parse_type(const struct word *w, struct cli_oath_entry *e)
{
	size_t i, n;
	char d;

	for (i = 0; i < NTYPES; i++) {
		n = strlen(types[i].prefix);
		if (w->len < n || memcmp(w->s, types[i].prefix, n) != 0)
			continue;
		e->kind = types[i].kind;
		e->period = types[i].period;
		e->digits = FT_DIGITS_DEFAULT;
		if (w->len == n)
			return true;
		if (!types[i].digits_suffix)
			return false;
		d = w->len == n + 2U && w->s[n] == '/' ? w->s[n + 1] : '\0';
		if (d < (char)('0' + FT_DIGITS_MIN) ||
		    d > (char)('0' + FT_DIGITS_MAX))
			return false;
		e->digits = (unsigned)(d - '0');
		return true;
	}
	return false;
}

/* Printable, no spaces (split saw to that), short enough for a login
 * name; bytes over 0x7f are let through for UTF-8 names. */
static bool
parse_user(const struct word *w, struct cli_oath_entry *e)
{
	if (w->len == 0 || w->len >= sizeof(e->user))
		return false;
	memcpy(e->user, w->s, w->len);
	e->user[w->len] = '\0';
	return true;
}

/* The hex secret into e->key; false (why set, never the secret) on
 * error. */
static bool
parse_secret(const struct word *w, struct cli_oath_entry *e, struct why *y)
{
	char hex[HEX_PER_BYTE * CLI_OATH_KEY_MAX + 1U];
	size_t n = 0;
	int rc;

	if (w->len % HEX_PER_BYTE != 0)
		return set_why(y, "the secret has an odd number of hex digits");
	if (w->len < HEX_PER_BYTE * CLI_OATH_KEY_MIN ||
	    w->len > HEX_PER_BYTE * CLI_OATH_KEY_MAX)
		return set_why(y,
		    "the secret is %zu bytes; flowtotp takes %u to %u",
		    w->len / HEX_PER_BYTE, CLI_OATH_KEY_MIN, CLI_OATH_KEY_MAX);
	/* The word is not NUL-terminated: a copy for the shared decoder. */
	memcpy(hex, w->s, w->len);
	hex[w->len] = '\0';
	rc = ft_hex_decode(hex, e->key, sizeof(e->key), &n);
	ft_wipe(hex, sizeof(hex));
	if (rc != FT_OK)
		return set_why(y, "the secret is not hexadecimal");
	e->keylen = n;
	return true;
}

/* COUNTER, LAST_OTP, TIMESTAMP: pam_oath's state, checked for form only
 * (the timestamp's exact layout is oath-toolkit's business). */
static bool
check_state(const struct word *w, unsigned n, struct why *y)
{
	if (n > F_COUNTER && !all_digits(&w[F_COUNTER], COUNTER_DIGITS_MAX))
		return set_why(y, "the counter is not a decimal number");
	if (n > F_LAST && !all_digits(&w[F_LAST], LAST_OTP_DIGITS_MAX))
		return set_why(y, "the last OTP is not a number");
	if (n > F_TIME && w[F_TIME].len > TIMESTAMP_MAX)
		return set_why(y, "the timestamp is too long");
	return true;
}

static bool
parse_fields(
    const struct word *w, unsigned n, struct cli_oath_entry *e, struct why *y)
{
	if (n < NFIELDS_MIN)
		return set_why(y,
		    "expected TYPE USER PIN SECRET [COUNTER "
		    "[LAST_OTP [TIMESTAMP]]]");
	if (n > NFIELDS_MAX)
		return set_why(y, "more than %u fields", NFIELDS_MAX);
	if (!parse_type(&w[F_TYPE], e))
		return set_why(y,
		    "unknown TYPE (HOTP, HOTP/E[/6-8], "
		    "HOTP/T30[/6-8] or HOTP/T60[/6-8])");
	if (!parse_user(&w[F_USER], e))
		return set_why(y, "the user name is longer than %u bytes",
		    CLI_OATH_USER_MAX - 1U);
	e->pin = !word_is(&w[F_PIN], "-");
	return parse_secret(&w[F_SECRET], e, y) && check_state(w, n, y);
}

/* The next line without its "\n" or "\r\n"; false at the end. */
static bool
next_line(struct cli_oath_reader *r, struct word *l)
{
	const char *nl;

	if (r->p >= r->end)
		return false;
	nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
	l->s = r->p;
	l->len = (size_t)((nl != NULL ? nl : r->end) - r->p);
	r->no++;
	r->p = nl != NULL ? nl + 1 : r->end;
	if (l->len > 0 && l->s[l->len - 1] == '\r')
		l->len--;
	return true;
}

/* Control characters other than tab refuse the line; false (why set)
 * then. */
static bool
printable(const struct word *l, struct why *y)
{
	size_t i;

	if (l->len >= CLI_OATH_LINE_MAX)
		return set_why(
		    y, "longer than %u bytes", CLI_OATH_LINE_MAX - 1U);
	for (i = 0; i < l->len; i++)
		if ((unsigned char)l->s[i] == 0x7fU ||
		    ((unsigned char)l->s[i] < ' ' && l->s[i] != '\t'))
			return set_why(y, "control character");
	return true;
}

/* Blank, or a comment ('#' as the first thing on the line). */
static bool
skippable(const struct word *l)
{
	size_t i = 0;

	while (i < l->len && is_space(l->s[i]))
		i++;
	return i == l->len || l->s[i] == '#';
}

int
cli_oath_next(struct cli_oath_reader *r, struct cli_oath_entry *e, char *err,
    size_t errlen)
{
	struct word l, w[NFIELDS_MAX + 1U];
	struct why y;

	cli_oath_wipe(e);
	y.text[0] = '\0';
	while (next_line(r, &l)) {
		if (printable(&l, &y) && skippable(&l))
			continue;
		if (y.text[0] == '\0' &&
		    parse_fields(w, split(l.s, l.len, w), e, &y)) {
			e->line = r->no;
			return 1;
		}
		cli_oath_wipe(e);
		return ft_seterr(
		    err, errlen, FT_ERR_PARSE, "line %u: %s", r->no, y.text);
	}
	return 0;
}
