/* The secret file format v1: round trips over every algorithm, digit count
 * and period, and a table of malformed files each rejected with the message
 * naming its problem. */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "rc.h"
#include "secretfile.h"
#include "secretstore.h"
#include "util.h"
#include "wipe.h"

/* "12345678901234567890" (RFC 4226 test key), 20 bytes. */
#define KEY20 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
#define HASH_OK                                                                \
	"pbkdf2-sha256$20000$000102030405060708090a0b0c0d0e0f$"                \
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define HEAD                                                                   \
	"version = 1\nsecret = " KEY20 "\nalgorithm = SHA1\n"                  \
	"digits = 6\nperiod = 30\n"
#define VALID HEAD "created = 1700000000\n"
#define BIG_ALLOC (FT_SECRETFILE_MAX_SIZE + 4096U)

struct bad {
	const char *name;
	const char *text; /* NULL: built by the code below */
	int rc;
	const char *frag;
};

static const struct bad bads[] = {
    {"empty file", "", FT_ERR_PARSE, "missing required key version"},
    {"missing '='", "version 1\n", FT_ERR_PARSE, "line 1: missing '='"},
    {"empty key", VALID "= 1\n", FT_ERR_PARSE, "line 7: empty key"},
    {"empty value", "version =\n", FT_ERR_PARSE, "empty value for version"},
    {"empty value, spaces", "version =   \t\n", FT_ERR_PARSE,
	"empty value for version"},
    {"unknown key", VALID "colour = red\n", FT_ERR_PARSE,
	"line 7: unknown key \"colour\""},
    {"key case", VALID "Version = 1\n", FT_ERR_PARSE, "unknown key"},
    {"pasted secret as key", VALID KEY20 "= x\n", FT_ERR_PARSE,
	"line 7: unknown key (not shown)"},
    {"pasted lower-case secret as key",
	VALID "gezdgnbvgy3tqojqgezdgnbvgy3tqojq=\n", FT_ERR_PARSE,
	"line 7: unknown key (not shown)"},
    {"duplicate version", VALID "version = 1\n", FT_ERR_PARSE,
	"line 7: duplicate key version"},
    {"duplicate secret", VALID "secret = " KEY20 "\n", FT_ERR_PARSE,
	"duplicate key secret"},
    {"version 3", "version = 3\n", FT_ERR_PARSE, "unsupported version"},
    {"deliver in version 1", VALID "deliver = a@example.org\n", FT_ERR_PARSE,
	"deliver needs version = 2"},
    {"version 2 without deliver or secret",
	"version = 2\nalgorithm = SHA1\ndigits = 6\nperiod = 30\n"
	"created = 1\n",
	FT_ERR_PARSE, "missing required key secret"},
    {"deliver starting with '-'", "version = 2\ndeliver = -oX@example.org\n",
	FT_ERR_PARSE, "not a valid address"},
    {"deliver with a space", "version = 2\ndeliver = a b@example.org\n",
	FT_ERR_PARSE, "not a valid address"},
    {"version 1.0", "version = 1.0\n", FT_ERR_PARSE, "unsupported version"},
    {"version 0", "version = 0\n", FT_ERR_PARSE, "unsupported version"},
    {"bad base32", "secret = GEZDGNBV!Y3TQOJQ\n", FT_ERR_PARSE,
	"not valid base32"},
    {"base32 digit 1", "secret = GEZDGNBVGY3TQOJ1\n", FT_ERR_PARSE,
	"not valid base32"},
    {"short key", "secret = GEZDGNBV\n", FT_ERR_PARSE,
	"secret shorter than 10 bytes"},
    {"unknown algorithm", "algorithm = MD5\n", FT_ERR_PARSE,
	"unknown algorithm"},
    {"algorithm sha-1", "algorithm = SHA-1\n", FT_ERR_PARSE,
	"unknown algorithm"},
    {"digits 5", "digits = 5\n", FT_ERR_PARSE, "digits must be"},
    {"digits 9", "digits = 9\n", FT_ERR_PARSE, "digits must be"},
    {"digits trailing", "digits = 6x\n", FT_ERR_PARSE, "digits must be"},
    {"digits plus", "digits = +6\n", FT_ERR_PARSE, "digits must be"},
    {"digits minus", "digits = -6\n", FT_ERR_PARSE, "digits must be"},
    {"digits hex", "digits = 0x6\n", FT_ERR_PARSE, "digits must be"},
    {"period 14", "period = 14\n", FT_ERR_PARSE, "period must be"},
    {"period 301", "period = 301\n", FT_ERR_PARSE, "period must be"},
    {"period split", "period = 3 0\n", FT_ERR_PARSE, "period must be"},
    {"period huge", "period = 99999999999999999999999\n", FT_ERR_PARSE,
	"period must be"},
    {"created negative", "created = -5\n", FT_ERR_PARSE, "created must be"},
    {"created text", "created = yesterday\n", FT_ERR_PARSE, "created must be"},
    {"created overflow", "created = 99999999999999999999\n", FT_ERR_PARSE,
	"created must be"},
    {"backup bad", VALID "backup = md5$x\n", FT_ERR_PARSE,
	"line 7: malformed backup hash"},
    {"backup space", VALID "backup = pbkdf2-sha256$20000 $00\n", FT_ERR_PARSE,
	"malformed backup hash"},
    {"missing secret",
	"version = 1\nalgorithm = SHA1\ndigits = 6\n"
	"period = 30\ncreated = 1\n",
	FT_ERR_PARSE, "missing required key secret"},
    {"missing created", HEAD, FT_ERR_PARSE, "missing required key created"},
    {"missing algorithm",
	"version = 1\nsecret = " KEY20 "\n"
	"digits = 6\nperiod = 30\ncreated = 1\n",
	FT_ERR_PARSE, "missing required key algorithm"},
    {"CRLF", "version = 1\r\n", FT_ERR_PARSE, "line 1: CRLF"},
    {"control char", "version = \0011\n", FT_ERR_PARSE, "control character"},
    {"line number", "# one\n\n   # three\nversion = 1\nbogus\n", FT_ERR_PARSE,
	"line 5: missing '='"},
    /* Built below: */
    {"NUL byte", NULL, FT_ERR_PARSE, "line 2: NUL byte"},
    {"long line", NULL, FT_ERR_PARSE, "line 1: longer than 1024 bytes"},
    {"oversized file", NULL, FT_ERR_TOOBIG, "larger than 65536 bytes"},
    {"key too long", NULL, FT_ERR_PARSE, "secret longer than 128 bytes"},
    {"too many backups", NULL, FT_ERR_PARSE, "more than 32 backup entries"},
    {"backup too long", NULL, FT_ERR_PARSE, "malformed backup hash"},
};

/* Build the special cases into buf; returns the length. */
static size_t
build(const char *name, char *buf, size_t cap)
{
	size_t n = 0, i;

	if (strcmp(name, "NUL byte") == 0) {
		memcpy(buf, "version = 1\nsecret = A\0B\n", 25);
		return 25;
	}
	if (strcmp(name, "long line") == 0) {
		n = (size_t)snprintf(buf, cap, "# ");
		memset(buf + n, 'x', FT_SECRETFILE_MAX_LINE);
		n += FT_SECRETFILE_MAX_LINE;
		buf[n++] = '\n';
		return n;
	}
	if (strcmp(name, "oversized file") == 0) {
		for (n = 0; n + 2U <= FT_SECRETFILE_MAX_SIZE + 2U; n += 2)
			memcpy(buf + n, "#\n", 2);
		return n;
	}
	if (strcmp(name, "key too long") == 0) {
		n = (size_t)snprintf(buf, cap, "secret = ");
		/* 130 bytes = 208 base32 chars */
		memset(buf + n, 'A', 208);
		n += 208;
		buf[n++] = '\n';
		return n;
	}
	if (strcmp(name, "too many backups") == 0) {
		n = (size_t)snprintf(buf, cap, "%s", VALID);
		for (i = 0; i <= FT_BACKUP_MAX; i++)
			n += (size_t)snprintf(
			    buf + n, cap - n, "backup = %s\n", HASH_OK);
		return n;
	}
	if (strcmp(name, "backup too long") == 0) {
		n = (size_t)snprintf(buf, cap, "%sbackup = %s", VALID, HASH_OK);
		memset(buf + n, 'a', FT_BACKUP_HASH_BUFSZ);
		n += FT_BACKUP_HASH_BUFSZ;
		buf[n++] = '\n';
		return n;
	}
	bail_out("no builder for %s", name);
}

static void
test_malformed(void)
{
	struct ft_secret s;
	char err[256] = "";
	char *buf = malloc(BIG_ALLOC);
	size_t i, len;
	int rc;

	if (buf == NULL)
		bail_out("malloc");
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		if (bads[i].text != NULL) {
			len = strlen(bads[i].text);
			memcpy(buf, bads[i].text, len);
		} else
			len = build(bads[i].name, buf, BIG_ALLOC);
		err[0] = '\0';
		memset(&s, 0x5a, sizeof(s));
		rc = ft_secret_parse(buf, len, &s, err, sizeof(err));
		ok(rc == bads[i].rc && contains(err, bads[i].frag) &&
			s.keylen == 0 && s.nbackup == 0,
		    "malformed (%s) rejected: %s", bads[i].name, err);
		if (!contains(err, bads[i].frag))
			diag("want \"%s\", rc %d", bads[i].frag, rc);
		ok(!contains(err, KEY20), "(%s) message holds no secret",
		    bads[i].name);
	}
	free(buf);
}

static void
test_accepts(void)
{
	static const char *const goods[] = {
	    VALID,
	    "# comment\n\n" VALID "\n# trailing comment\n",
	    ("version=1\nsecret=" KEY20 "\nalgorithm=sha256\ndigits=8\n"
	     "period=60\ncreated=0"),
	    ("  version \t=  1  \n"
	     "secret = gezdgnbvgy3tqojqgezdgnbvgy3tqojq\n"
	     "algorithm = SHA512\ndigits = 7\nperiod = 300\n"
	     "created = 1\n"),
	    VALID "backup = " HASH_OK "\nbackup = " HASH_OK "\n",
	    ("secret = GEZDGNBV GY3TQOJQ GEZDGNBV GY3TQOJQ\n"
	     "version = 1\nalgorithm = SHA1\n"
	     "digits = 06\nperiod = 15\ncreated = 2000000000\n"),
	};
	struct ft_secret s;
	char err[256] = "";
	size_t i;
	int rc;

	for (i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		err[0] = '\0';
		rc = ft_secret_parse(
		    goods[i], strlen(goods[i]), &s, err, sizeof(err));
		ok(rc == FT_OK && s.keylen == 20 &&
			memcmp(s.key, "12345678901234567890", 20) == 0,
		    "valid file %zu parses (%s)", i, err);
	}
	rc = ft_secret_parse(VALID "backup = " HASH_OK "\n",
	    strlen(VALID "backup = " HASH_OK "\n"), &s, err, sizeof(err));
	ok(rc == FT_OK && s.nbackup == 1 && strcmp(s.backup[0], HASH_OK) == 0 &&
		s.created == 1700000000 && s.digits == 6 && s.period == 30 &&
		s.algo == FT_ALGO_SHA1,
	    "fields read back");
	rc = ft_secret_parse(
	    HEAD "created = 5\nsecret = x\n", 0, &s, err, sizeof(err));
	ok(rc == FT_ERR_PARSE && contains(err, "missing"), "len 0 is empty");
	{
		static const char padded[] =
		    "version = 1\nalgorithm = SHA1\n"
		    "secret = GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDG===\n"
		    "digits = 6\nperiod = 30\ncreated = 1\n";

		rc = ft_secret_parse(
		    padded, strlen(padded), &s, err, sizeof(err));
		ok(rc == FT_OK && s.keylen == 23, "padded base32 accepted");
	}
	/* Not NUL-terminated: parsing must stop at len. */
	rc = ft_secret_parse(
	    VALID "garbage", strlen(VALID), &s, err, sizeof(err));
	is_int(rc, FT_OK, "parse respects len");
}

static void
fill_secret(struct ft_secret *s, size_t keylen, enum ft_algo algo,
    unsigned digits, unsigned period, size_t nbackup)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < keylen; i++)
		s->key[i] = (uint8_t)(i * 37U + keylen + digits);
	s->keylen = keylen;
	s->algo = algo;
	s->digits = digits;
	s->period = period;
	s->created = 1700000000 + (int64_t)period;
	for (i = 0; i < nbackup; i++) {
		(void)snprintf(s->backup[i], sizeof(s->backup[i]),
		    "pbkdf2-sha256$%u$%032zx$%064zx", 20000U, i, i + 7U);
	}
	s->nbackup = nbackup;
}

static bool
same_secret(const struct ft_secret *a, const struct ft_secret *b)
{
	size_t i;

	if (a->keylen != b->keylen || memcmp(a->key, b->key, a->keylen) != 0 ||
	    a->algo != b->algo || a->digits != b->digits ||
	    a->period != b->period || a->created != b->created ||
	    a->nbackup != b->nbackup)
		return false;
	for (i = 0; i < a->nbackup; i++)
		if (strcmp(a->backup[i], b->backup[i]) != 0)
			return false;
	return true;
}

static void
test_roundtrip(void)
{
	static const enum ft_algo algos[] = {
	    FT_ALGO_SHA1, FT_ALGO_SHA256, FT_ALGO_SHA512};
	static const unsigned periods[] = {
	    FT_PERIOD_MIN, 30, 60, FT_PERIOD_MAX};
	static const size_t keylens[] = {FT_KEY_MIN, 20, 32, 64, FT_KEY_MAX};
	static const size_t nbs[] = {0, FT_BACKUP_MAX};
	struct ft_secret in, out;
	char err[256] = "";
	char *text;
	size_t len, a, d, p, b, k;
	unsigned good = 0, total = 0, lower = 0, padded = 0, header = 0;
	unsigned digits;

	for (a = 0; a < 3; a++)
		for (d = FT_DIGITS_MIN; d <= FT_DIGITS_MAX; d++)
			for (p = 0; p < 4; p++)
				for (b = 0; b < 2; b++)
					for (k = 0; k < 5; k++) {
						digits = (unsigned)d;
						fill_secret(&in, keylens[k],
						    algos[a], digits,
						    periods[p], nbs[b]);
						total++;
						if (ft_secret_serialize(&in,
							&text, &len) != FT_OK) {
							diag(
							    "serialize failed "
							    "a=%zu d=%zu p=%zu",
							    a, d, p);
							continue;
						}
						if (strncmp(text,
							"# flowtotp secret "
							"file, see "
							"flowtotp(5)\n",
							40) == 0)
							header++;
						{
							const char *sl = strstr(
							    text, "secret = ");
							const char *c;

							for (c = sl + 9;
							     sl != NULL &&
							     *c != '\n';
							     c++) {
								if (*c >= 'a' &&
								    *c <= 'z')
									lower++;
								if (*c == '=')
									padded++;
							}
						}
						if (ft_secret_parse(text, len,
							&out, err,
							sizeof(err)) == FT_OK &&
						    same_secret(&in, &out))
							good++;
						else
							diag("round trip "
							     "failed: %s",
							    err);
						ft_wipe_free(text, len);
					}
	is_int(good, total, "%u serialize/parse round trips", total);
	is_int(header, total, "every file starts with the header comment");
	is_int(lower + padded, 0, "secret written upper case, unpadded");

	/* Through the store: mode 0600, loads back. */
	fill_secret(&in, 20, FT_ALGO_SHA256, 8, 60, 3);
	{
		struct ft_file_policy pol;
		struct stat st;
		int rc;

		rc = ft_secret_store(
		    tpath("s1"), &in, (uid_t)-1, (gid_t)-1, err, sizeof(err));
		is_int(rc, FT_OK, "ft_secret_store (%s)", err);
		ok(stat(tpath("s1"), &st) == 0 &&
			(st.st_mode & 07777) == 0600 && st.st_uid == geteuid(),
		    "stored file mode 0600, ours");
		ft_secret_policy(geteuid(), &pol);
		rc = ft_secret_load(tpath("s1"), &pol, &out, err, sizeof(err));
		ok(rc == FT_OK && same_secret(&in, &out), "ft_secret_load");
		rc =
		    ft_secret_load(tpath("nope"), &pol, &out, err, sizeof(err));
		is_int(rc, FT_ERR_NOENT, "load of a missing file: NOENT");
		write_str(tpath("s2"), VALID "digits = 9\n", 0600);
		rc = ft_secret_load(tpath("s2"), &pol, &out, err, sizeof(err));
		ok(rc == FT_ERR_PARSE && contains(err, tpath("s2")) &&
			contains(err, "line 7"),
		    "load names file and line: %s", err);
	}

	/* Invalid structs are refused by the writer. */
	fill_secret(&in, 5, FT_ALGO_SHA1, 6, 30, 0);
	is_int(ft_secret_serialize(&in, &text, &len), FT_ERR_ARG,
	    "short key refused by the writer");
	fill_secret(&in, 20, FT_ALGO_SHA1, 9, 30, 0);
	is_int(ft_secret_serialize(&in, &text, &len), FT_ERR_ARG,
	    "9 digits refused by the writer");

	/* remove_backup keeps order and wipes the freed slot. */
	fill_secret(&in, 20, FT_ALGO_SHA1, 6, 30, 4);
	fill_secret(&out, 20, FT_ALGO_SHA1, 6, 30, 4);
	ok(ft_secret_remove_backup(&in, 1) == FT_OK && in.nbackup == 3 &&
		strcmp(in.backup[0], out.backup[0]) == 0 &&
		strcmp(in.backup[1], out.backup[2]) == 0 &&
		strcmp(in.backup[2], out.backup[3]) == 0 &&
		in.backup[3][0] == 0,
	    "remove_backup keeps order");
	is_int(ft_secret_remove_backup(&in, 3), FT_ERR_ARG,
	    "remove_backup out of range");
	ft_secret_wipe(&in);
	ok(in.keylen == 0 && in.key[0] == 0, "ft_secret_wipe");
}

/* Version 2: deliver, and no secret when it is there; a round trip
 * writes version 2 for such a file and version 1 for any other. */
static void
test_deliver(void)
{
	static const char v2[] = "version = 2\ndeliver = a@example.org\n"
				 "algorithm = SHA1\ndigits = 8\nperiod = 30\n"
				 "created = 1\n";
	struct ft_secret s, back;
	char err[256] = "", *out = NULL;
	size_t len = 0;
	int rc;

	rc = ft_secret_parse(v2, strlen(v2), &s, err, sizeof(err));
	ok(rc == FT_OK && s.keylen == 0 &&
		strcmp(s.deliver, "a@example.org") == 0 && s.digits == 8,
	    "version 2 with deliver and no secret parses (%s)", err);
	rc = ft_secret_serialize(&s, &out, &len);
	ok(rc == FT_OK && contains(out, "version = 2\n") &&
		!contains(out, "\nsecret") &&
		contains(out, "deliver = a@example.org\n"),
	    "written back as version 2 without a secret line");
	rc = rc == FT_OK ? ft_secret_parse(out, len, &back, err, sizeof(err))
			 : rc;
	ok(rc == FT_OK && strcmp(back.deliver, s.deliver) == 0 &&
		back.keylen == 0,
	    "and read again");
	if (out != NULL)
		ft_wipe_free(out, len);
	out = NULL;
	s.deliver[0] = '\0';
	is_int(ft_secret_serialize(&s, &out, &len), FT_ERR_ARG,
	    "no secret and no deliver: not written");
	ok(ft_secret_address_ok("x@y") && !ft_secret_address_ok("") &&
		!ft_secret_address_ok("-x") && !ft_secret_address_ok("a\tb"),
	    "the address rule");
}

int
main(void)
{
	tdir_make();
	test_malformed();
	test_accepts();
	test_roundtrip();
	test_deliver();
	return done_testing();
}
