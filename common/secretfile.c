/* The secret file, format version 1: a strict parser (every deviation is an
 * error naming the line) and the writer.  Values are never echoed in error
 * messages since a line may hold the secret. */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "base32.h"
#include "hex.h"
#include "otp.h"
#include "rc.h"
#include "secretfile.h"
#include "wipe.h"

#define SECRET_HEADER "# flowtotp secret file, see flowtotp(5)\n"
/*
 * An unknown key is quoted in the error (it reaches syslog) only when it is
 * short and made of lower-case letters and '_': a mistyped key name.  Anything
 * else may be a pasted secret (at least 16 base32 characters), so it is not
 * shown.
 */
#define KEY_SHOWN_MAX 12U
#define NUM_BUFSZ 32U
#define DECIMAL_BASE 10

enum skey {
	K_VERSION,
	K_SECRET,
	K_ALGORITHM,
	K_DIGITS,
	K_PERIOD,
	K_CREATED,
	K_BACKUP,
	K_KEY_ID,
	K_SECRET_ENC,
	K_DELIVER,
	K_COUNT
};

static const char *const key_names[K_COUNT] = {
    "version",
    "secret",
    "algorithm",
    "digits",
    "period",
    "created",
    "backup",
    "key_id",
    "secret_enc",
    "deliver",
};

struct parse_ctx {
	struct ft_secret *out;
	unsigned lineno;
	unsigned version; /* of the version line, 0 before it */
	bool seen[K_COUNT];
	char *err;
	size_t errlen;
};

static int
perr(const struct parse_ctx *pc, const char *what)
{
	return ft_seterr(
	    pc->err, pc->errlen, FT_ERR_PARSE, "line %u: %s", pc->lineno, what);
}

/* Strict decimal: digits only (no sign, space or suffix), no overflow. */
static bool
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (max - (uint64_t)(*s - '0')) / 10U)
			return false;
		v = v * 10U + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

static int
parse_range(struct parse_ctx *pc, const char *key, const char *val, unsigned lo,
    unsigned hi, unsigned *out)
{
	uint64_t v;

	if (!parse_u64(val, UINT32_MAX, &v) || v < lo || v > hi)
		return ft_seterr(pc->err, pc->errlen, FT_ERR_PARSE,
		    "line %u: %s must be an integer %u..%u", pc->lineno, key,
		    lo, hi);
	*out = (unsigned)v;
	return FT_OK;
}

static int
set_secret(struct parse_ctx *pc, const char *val)
{
	struct ft_secret *s = pc->out;
	int rc;

	rc = ft_base32_decode(val, s->key, sizeof(s->key), &s->keylen);
	if (rc == FT_ERR_ARG)
		return ft_seterr(pc->err, pc->errlen, FT_ERR_PARSE,
		    "line %u: secret longer than %u bytes", pc->lineno,
		    FT_KEY_MAX);
	if (rc != FT_OK)
		return perr(pc, "secret is not valid base32");
	if (s->keylen < FT_KEY_MIN)
		return ft_seterr(pc->err, pc->errlen, FT_ERR_PARSE,
		    "line %u: secret shorter than %u bytes", pc->lineno,
		    FT_KEY_MIN);
	return FT_OK;
}

/* secret_enc: hex of nonce || ciphertext || tag.  Too short to hold a
 * key is "truncated", the word the module's log line names. */
static int
set_secret_enc(struct parse_ctx *pc, const char *val)
{
	struct ft_secret *s = pc->out;
	int rc;

	rc = ft_hex_decode(val, s->enc, sizeof(s->enc), &s->enclen);
	if (rc == FT_ERR_TOOBIG)
		return perr(pc, "secret_enc too long");
	if (rc != FT_OK && strspn(val, "0123456789abcdefABCDEF") == strlen(val))
		return perr(pc, "truncated: secret_enc has an odd length");
	if (rc != FT_OK)
		return perr(pc, "secret_enc is not hex");
	if (s->enclen < FT_SC_OVERHEAD + FT_KEY_MIN)
		return perr(
		    pc, "truncated: secret_enc too short to hold a key");
	s->sealed = true;
	return FT_OK;
}

/* The round count of a validated backup entry
 * ("pbkdf2-sha256$ROUNDS$..."), or 0 if it cannot be read. */
static unsigned long
backup_rounds(const char *entry)
{
	const char *p = strchr(entry, '$');
	char *end = NULL;
	unsigned long v;

	if (p == NULL || p[1] < '0' || p[1] > '9')
		return 0;
	errno = 0;
	v = strtoul(p + 1, &end, DECIMAL_BASE);
	if (errno != 0 || end == NULL || *end != '$')
		return 0;
	return v;
}

/* A well-formed entry whose work per answer stays within the cap. */
static bool
backup_entry_ok(const char *entry)
{
	unsigned long r;

	if (ft_backup_hash_validate(entry) != FT_OK)
		return false;
	r = backup_rounds(entry);
	return r > 0 && r <= FT_SECRETFILE_ROUNDS_MAX;
}

static int
set_backup(struct parse_ctx *pc, const char *val)
{
	struct ft_secret *s = pc->out;
	size_t n = strlen(val);

	if (s->nbackup >= FT_BACKUP_MAX)
		return ft_seterr(pc->err, pc->errlen, FT_ERR_PARSE,
		    "line %u: more than %u backup entries", pc->lineno,
		    FT_BACKUP_MAX);
	if (n >= FT_BACKUP_HASH_BUFSZ || ft_backup_hash_validate(val) != FT_OK)
		return perr(pc, "malformed backup hash");
	if (!backup_entry_ok(val))
		return ft_seterr(pc->err, pc->errlen, FT_ERR_UNSAFE,
		    "line %u: backup hash asks for more than %u PBKDF2 rounds",
		    pc->lineno, FT_SECRETFILE_ROUNDS_MAX);
	memcpy(s->backup[s->nbackup], val, n + 1U);
	s->nbackup++;
	return FT_OK;
}

static int
set_value(struct parse_ctx *pc, enum skey k, const char *val)
{
	struct ft_secret *s = pc->out;
	unsigned v;
	uint64_t created;
	int rc;

	switch (k) {
	case K_VERSION:
		if (!parse_u64(val, UINT32_MAX, &created) ||
		    created < FT_SECRETFILE_VERSION ||
		    created > FT_SECRETFILE_VERSION_2)
			return ft_seterr(pc->err, pc->errlen, FT_ERR_PARSE,
			    "line %u: unsupported version (%u and %u are "
			    "known)",
			    pc->lineno, FT_SECRETFILE_VERSION,
			    FT_SECRETFILE_VERSION_2);
		pc->version = (unsigned)created;
		return FT_OK;
	case K_DELIVER:
		if (!ft_secret_address_ok(val))
			return perr(pc,
			    "deliver is not a valid address (no leading '-', "
			    "no spaces or control characters, at most 256 "
			    "bytes)");
		(void)snprintf(s->deliver, sizeof(s->deliver), "%s", val);
		return FT_OK;
	case K_SECRET: return set_secret(pc, val);
	case K_ALGORITHM:
		if (ft_algo_parse(val, &s->algo) != FT_OK)
			return perr(pc,
			    "unknown algorithm (SHA1, SHA256 or "
			    "SHA512)");
		return FT_OK;
	case K_DIGITS:
		rc = parse_range(
		    pc, "digits", val, FT_DIGITS_MIN, FT_DIGITS_MAX, &v);
		s->digits = v;
		return rc;
	case K_PERIOD:
		rc = parse_range(
		    pc, "period", val, FT_PERIOD_MIN, FT_PERIOD_MAX, &v);
		s->period = v;
		return rc;
	case K_CREATED:
		if (!parse_u64(val, INT64_MAX, &created))
			return perr(pc,
			    "created must be a non-negative "
			    "integer (unix seconds)");
		s->created = (int64_t)created;
		return FT_OK;
	case K_BACKUP: return set_backup(pc, val);
	case K_KEY_ID:
		if (!ft_key_id_valid(val))
			return perr(pc, "malformed key_id");
		memcpy(s->key_id, val, strlen(val) + 1U);
		return FT_OK;
	case K_SECRET_ENC: return set_secret_enc(pc, val);
	case K_COUNT: break;
	}
	return perr(pc, "internal error");
}

/* ASCII control characters, independent of the caller's locale. */
static bool
is_ctrl(char c)
{
	return (unsigned char)c < 0x20U || (unsigned char)c == 0x7fU;
}

bool
ft_secret_address_ok(const char *a)
{
	size_t i;

	/* It reaches a command's standard input, which hands it to a mail
	 * program: never an option, one line, one word. */
	if (a == NULL || a[0] == '\0' || a[0] == '-')
		return false;
	for (i = 0; a[i] != '\0'; i++)
		if (i + 1U >= FT_DELIVER_ADDR_BUFSZ || is_ctrl(a[i]) ||
		    a[i] == ' ' || (unsigned char)a[i] > 0x7eU)
			return false;
	return true;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool
key_is_showable(const char *key)
{
	size_t i;

	for (i = 0; key[i] != '\0'; i++)
		if (i >= KEY_SHOWN_MAX ||
		    !((key[i] >= 'a' && key[i] <= 'z') || key[i] == '_'))
			return false;
	return true;
}

/* One line, NUL-terminated and without its '\n', in a writable buffer. */
static int
parse_line(struct parse_ctx *pc, char *line, size_t n)
{
	char *key, *val, *eq, *end;
	size_t i;
	int k;

	if (memchr(line, '\0', n) != NULL)
		return perr(pc, "NUL byte");
	if (n > 0 && line[n - 1] == '\r')
		return perr(pc,
		    "CRLF line ending (the file must use Unix "
		    "line endings)");
	for (i = 0; i < n; i++)
		if (is_ctrl(line[i]) && line[i] != '\t')
			return perr(pc, "control character");
	for (key = line; is_blank(*key); key++)
		;
	if (*key == '\0' || *key == '#')
		return FT_OK;
	if ((eq = strchr(key, '=')) == NULL)
		return perr(pc, "missing '='");
	for (end = eq; end > key && is_blank(end[-1]); end--)
		;
	*end = '\0';
	for (val = eq + 1; is_blank(*val); val++)
		;
	for (end = val + strlen(val); end > val && is_blank(end[-1]); end--)
		;
	*end = '\0';
	if (*key == '\0')
		return perr(pc, "empty key");
	for (k = 0; k < K_COUNT; k++)
		if (strcmp(key, key_names[k]) == 0)
			break;
	if (k == K_COUNT && key_is_showable(key))
		return ft_seterr(pc->err, pc->errlen, FT_ERR_PARSE,
		    "line %u: unknown key \"%s\"", pc->lineno, key);
	if (k == K_COUNT)
		return ft_seterr(pc->err, pc->errlen, FT_ERR_PARSE,
		    "line %u: unknown key (not shown)", pc->lineno);
	if (*val == '\0')
		return ft_seterr(pc->err, pc->errlen, FT_ERR_PARSE,
		    "line %u: empty value for %s", pc->lineno, key_names[k]);
	if (pc->seen[k] && k != K_BACKUP)
		return ft_seterr(pc->err, pc->errlen, FT_ERR_PARSE,
		    "line %u: duplicate key %s", pc->lineno, key_names[k]);
	pc->seen[k] = true;
	return set_value(pc, (enum skey)k, val);
}

/* Which keys must be there: all of version 1's, with exactly one of secret
 * and secret_enc; key_id comes with secret_enc, both only in version 2. */
static int
check_required(const struct parse_ctx *pc)
{
	bool sealed = pc->seen[K_SECRET_ENC];
	int k;

	for (k = 0; k < K_COUNT; k++) {
		if (k == K_BACKUP || k == K_KEY_ID || k == K_SECRET ||
		    k == K_SECRET_ENC || k == K_DELIVER || pc->seen[k])
			continue;
		return ft_seterr(pc->err, pc->errlen, FT_ERR_PARSE,
		    "missing required key %s", key_names[k]);
	}
	if (pc->seen[K_SECRET] && sealed)
		return ft_seterr(pc->err, pc->errlen, FT_ERR_PARSE,
		    "both secret and secret_enc");
	/* A user without an app has only a delivery address. */
	if (!pc->seen[K_SECRET] && !sealed && !pc->seen[K_DELIVER])
		return ft_seterr(pc->err, pc->errlen, FT_ERR_PARSE,
		    "missing required key secret");
	if (pc->seen[K_DELIVER] && pc->version < FT_SECRETFILE_VERSION_2)
		return ft_seterr(pc->err, pc->errlen, FT_ERR_PARSE,
		    "deliver needs version = %u", FT_SECRETFILE_VERSION_2);
	if (pc->seen[K_KEY_ID] != sealed)
		return ft_seterr(pc->err, pc->errlen, FT_ERR_PARSE,
		    sealed ? "secret_enc without key_id"
			   : "key_id without secret_enc");
	if (sealed && pc->version < FT_SECRETFILE_VERSION_2)
		return ft_seterr(pc->err, pc->errlen, FT_ERR_PARSE,
		    "secret_enc needs version = %u", FT_SECRETFILE_VERSION_2);
	return FT_OK;
}

int
ft_secret_parse(const char *buf, size_t len, struct ft_secret *out, char *err,
    size_t errlen)
{
	struct parse_ctx pc;
	char line[FT_SECRETFILE_MAX_LINE + 2U];
	size_t pos = 0, n;
	const char *nl;
	int rc = FT_OK;

	memset(&pc, 0, sizeof(pc));
	ft_secret_wipe(out);
	pc.out = out;
	pc.err = err;
	pc.errlen = errlen;
	if (buf == NULL)
		return ft_seterr(err, errlen, FT_ERR_ARG, "no data");
	if (len > FT_SECRETFILE_MAX_SIZE)
		return ft_seterr(err, errlen, FT_ERR_TOOBIG,
		    "file larger than %u bytes", FT_SECRETFILE_MAX_SIZE);
	while (pos < len) {
		pc.lineno++;
		nl = memchr(buf + pos, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - (buf + pos)) : len - pos;
		if (n > FT_SECRETFILE_MAX_LINE) {
			rc = ft_seterr(err, errlen, FT_ERR_PARSE,
			    "line %u: longer than %u bytes", pc.lineno,
			    FT_SECRETFILE_MAX_LINE);
			goto out;
		}
		memcpy(line, buf + pos, n);
		line[n] = '\0';
		if ((rc = parse_line(&pc, line, n)) != FT_OK)
			goto out;
		pos += n + (nl != NULL ? 1U : 0U);
	}
	rc = check_required(&pc);
out:
	ft_wipe(line, sizeof(line));
	if (rc != FT_OK)
		ft_secret_wipe(out);
	return rc;
}

/* A sealed secret is written as it was read (or sealed): its plain key
 * need not be there. */
static bool
key_valid(const struct ft_secret *s)
{
	if (s->sealed)
		return s->enclen >= FT_SC_OVERHEAD + FT_KEY_MIN &&
		    s->enclen <= sizeof(s->enc) && ft_key_id_valid(s->key_id);
	if (s->keylen == 0) /* no app: only codes sent out of band */
		return s->deliver[0] != '\0';
	return s->keylen >= FT_KEY_MIN && s->keylen <= FT_KEY_MAX;
}

/* The line that carries the key: "secret = BASE32" (version 1) or, sealed,
 * "key_id = ID" and "secret_enc = HEX" (version 2), into buf. */
static int
key_lines(const struct ft_secret *s, char *buf, size_t cap, unsigned *version)
{
	char hex[2U * FT_SECRET_ENC_MAX + 1U];
	int n, rc;

	*version = s->sealed || s->deliver[0] != '\0' ? FT_SECRETFILE_VERSION_2
						      : FT_SECRETFILE_VERSION;
	buf[0] = '\0';
	if (!s->sealed && s->keylen == 0)
		return FT_OK; /* deliver only: no secret line */
	if (!s->sealed)
		rc = ft_base32_encode(
		    s->key, s->keylen, false, hex, sizeof(hex));
	else
		rc = ft_hex_encode(s->enc, s->enclen, hex, sizeof(hex));
	if (rc != FT_OK)
		return rc;
	if (s->sealed)
		n = snprintf(
		    buf, cap, "key_id = %s\nsecret_enc = %s\n", s->key_id, hex);
	else
		n = snprintf(buf, cap, "secret = %s\n", hex);
	ft_wipe(hex, sizeof(hex));
	return n < 0 || (size_t)n >= cap ? FT_ERR_ARG : FT_OK;
}

static bool
secret_valid(const struct ft_secret *s)
{
	size_t i;

	if (s->deliver[0] != '\0' && !ft_secret_address_ok(s->deliver))
		return false;
	if (!key_valid(s) || ft_algo_name(s->algo) == NULL ||
	    s->digits < FT_DIGITS_MIN || s->digits > FT_DIGITS_MAX ||
	    s->period < FT_PERIOD_MIN || s->period > FT_PERIOD_MAX ||
	    s->created < 0 || s->nbackup > FT_BACKUP_MAX)
		return false;
	for (i = 0; i < s->nbackup; i++)
		if (memchr(s->backup[i], '\0', sizeof(s->backup[i])) == NULL ||
		    !backup_entry_ok(s->backup[i]))
			return false;
	return true;
}

int
ft_secret_serialize(const struct ft_secret *s, char **out, size_t *outlen)
{
	char keyl[2U * FT_SECRET_ENC_MAX + FT_KEY_ID_BUFSZ + 64U];
	char *buf = NULL;
	size_t cap = 0, used;
	unsigned version = 0;
	int n, rc;
	size_t i;

	*out = NULL;
	*outlen = 0;
	if (!secret_valid(s))
		return FT_ERR_ARG;
	if ((rc = key_lines(s, keyl, sizeof(keyl), &version)) != FT_OK)
		goto out;
	cap = sizeof(SECRET_HEADER) + sizeof(keyl) +
	    (size_t)K_COUNT * (NUM_BUFSZ + 16U) +
	    (size_t)FT_BACKUP_MAX * (FT_BACKUP_HASH_BUFSZ + 16U) +
	    sizeof(s->deliver) + 16U;
	if ((buf = malloc(cap)) == NULL) {
		rc = FT_ERR_NOMEM;
		goto out;
	}
	/* Version 2 only for a file that needs it (deliver): version 1
	 * files stay readable by every older release. */
	n = snprintf(buf, cap,
	    "%sversion = %u\n%s"
	    "algorithm = %s\ndigits = %u\nperiod = %u\ncreated = %" PRId64
	    "\n%s%s%s",
	    SECRET_HEADER, version, keyl, ft_algo_name(s->algo), s->digits,
	    s->period, s->created, s->deliver[0] != '\0' ? "deliver = " : "",
	    s->deliver, s->deliver[0] != '\0' ? "\n" : "");
	if (n < 0 || (size_t)n >= cap) {
		rc = FT_ERR_ARG;
		goto out;
	}
	used = (size_t)n;
	for (i = 0; i < s->nbackup; i++) {
		n = snprintf(
		    buf + used, cap - used, "backup = %s\n", s->backup[i]);
		if (n < 0 || (size_t)n >= cap - used) {
			rc = FT_ERR_ARG;
			goto out;
		}
		used += (size_t)n;
	}
	*out = buf;
	*outlen = used;
	buf = NULL;
	rc = FT_OK;
out:
	ft_wipe(keyl, sizeof(keyl));
	if (buf != NULL)
		ft_wipe_free(buf, cap);
	return rc;
}

int
ft_secret_remove_backup(struct ft_secret *s, size_t idx)
{
	if (idx >= s->nbackup)
		return FT_ERR_ARG;
	memmove(s->backup[idx], s->backup[idx + 1U],
	    (s->nbackup - idx - 1U) * sizeof(s->backup[0]));
	s->nbackup--;
	ft_wipe(s->backup[s->nbackup], sizeof(s->backup[0]));
	return FT_OK;
}

void
ft_secret_wipe(struct ft_secret *s)
{
	if (s != NULL)
		ft_wipe(s, sizeof(*s));
}

void
ft_secret_totp_params(
    const struct ft_secret *s, unsigned window, struct ft_totp_params *out)
{
	/* The key is borrowed, not copied: one copy of it to wipe. */
	out->key = s->key;
	out->keylen = s->keylen;
	out->algo = s->algo;
	out->digits = s->digits;
	out->period = s->period;
	out->window = window;
}
