#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "backup.h"
#include "random.h"
#include "rc.h"
#include "wipe.h"
#include "workcount.h"

#define BK_PREFIX "pbkdf2-sha256$"
#define BK_SEP '$'
#define BK_SALT_LEN 16U
#define BK_HASH_LEN 32U	      /* SHA-256 output */
#define BK_ITER_DIGITS_MAX 8U /* FT_BACKUP_ITERATIONS_MAX has 8 digits */
#define BK_DECIMAL 10U

static const char bk_alphabet[] = FT_BACKUP_ALPHABET;
static const char bk_hex[] = "0123456789abcdef";

/* A parsed stored entry. */
struct bk_entry {
	unsigned iterations;
	uint8_t salt[BK_SALT_LEN];
	uint8_t hash[BK_HASH_LEN];
};

static bool
bk_in_alphabet(char c)
{
	return c != '\0' && strchr(bk_alphabet, c) != NULL;
}

int
ft_backup_generate(char *out, size_t outlen)
{
	const uint32_t nalpha = (uint32_t)(sizeof(bk_alphabet) - 1U);
	size_t i, o = 0;
	uint32_t r = 0;
	int rc;

	if (out == NULL || outlen < FT_BACKUP_SHOWN_BUFSZ)
		return FT_ERR_ARG;
	for (i = 0; i < FT_BACKUP_CHARS; i++) {
		if (i > 0 && i % FT_BACKUP_GROUP == 0)
			out[o++] = '-';
		if ((rc = ft_random_uniform(nalpha, &r)) != FT_OK) {
			ft_wipe(out, outlen);
			return rc;
		}
		out[o++] = bk_alphabet[r];
	}
	out[o] = '\0';
	ft_wipe(&r, sizeof(r));
	return FT_OK;
}

int
ft_backup_new_set(size_t count, char shown[][FT_BACKUP_SHOWN_BUFSZ],
    char hash[][FT_BACKUP_HASH_BUFSZ], size_t *n)
{
	char norm[FT_BACKUP_NORM_BUFSZ];
	size_t i, want = count;
	int rc = FT_OK;

	if (want > FT_BACKUP_MAX)
		want = FT_BACKUP_MAX;
	*n = 0;
	for (i = 0; rc == FT_OK && i < want; i++) {
		rc = ft_backup_generate(shown[i], FT_BACKUP_SHOWN_BUFSZ);
		if (rc == FT_OK)
			rc = ft_backup_normalize(shown[i], norm, sizeof(norm));
		if (rc == FT_OK)
			rc = ft_backup_hash(norm, FT_BACKUP_ITERATIONS_DEFAULT,
			    hash[i], FT_BACKUP_HASH_BUFSZ);
	}
	ft_wipe(norm, sizeof(norm));
	if (rc != FT_OK) {
		ft_wipe(shown, want * FT_BACKUP_SHOWN_BUFSZ);
		return rc;
	}
	*n = want;
	return FT_OK;
}

int
ft_backup_normalize(const char *in, char *out, size_t outlen)
{
	size_t n = 0;
	char c;

	if (in == NULL || out == NULL || outlen < FT_BACKUP_NORM_BUFSZ)
		return FT_ERR_ARG;
	for (; *in != '\0'; in++) {
		if (*in == ' ' || *in == '-')
			continue;
		c = *in;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (n == FT_BACKUP_CHARS || !bk_in_alphabet(c))
			goto bad;
		out[n++] = c;
	}
	if (n != FT_BACKUP_CHARS)
		goto bad;
	out[n] = '\0';
	return FT_OK;
bad:
	ft_wipe(out, outlen);
	out[0] = '\0';
	return FT_ERR_PARSE;
}

bool
ft_backup_looks_like(const char *in)
{
	char norm[FT_BACKUP_NORM_BUFSZ];
	bool ok;

	ok = ft_backup_normalize(in, norm, sizeof(norm)) == FT_OK;
	ft_wipe(norm, sizeof(norm));
	return ok;
}

/* Already normalized: exactly FT_BACKUP_CHARS alphabet characters. */
static bool
bk_is_normalized(const char *s)
{
	size_t i;

	for (i = 0; i < FT_BACKUP_CHARS; i++)
		if (!bk_in_alphabet(s[i]))
			return false;
	return s[FT_BACKUP_CHARS] == '\0';
}

static int
bk_pbkdf2(const char *normalized, const uint8_t *salt, unsigned iterations,
    uint8_t *hash)
{
	ft_work_note(FT_WORK_KDF);
	if (PKCS5_PBKDF2_HMAC(normalized, (int)FT_BACKUP_CHARS, salt,
		(int)BK_SALT_LEN, (int)iterations, EVP_sha256(),
		(int)BK_HASH_LEN, hash) != 1)
		return FT_ERR_CRYPTO;
	return FT_OK;
}

static void
bk_hex_encode(const uint8_t *in, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2U * i] = bk_hex[in[i] >> 4];
		out[2U * i + 1U] = bk_hex[in[i] & 0x0fU];
	}
	out[2U * n] = '\0';
}

int
ft_backup_hash(
    const char *normalized, unsigned iterations, char *out, size_t outlen)
{
	uint8_t salt[BK_SALT_LEN], hash[BK_HASH_LEN];
	char salthex[2U * BK_SALT_LEN + 1U], hashhex[2U * BK_HASH_LEN + 1U];
	int n, rc;

	if (normalized == NULL || out == NULL || outlen == 0 ||
	    !bk_is_normalized(normalized) ||
	    iterations < FT_BACKUP_ITERATIONS_MIN ||
	    iterations > FT_BACKUP_ITERATIONS_MAX)
		return FT_ERR_ARG;
	if ((rc = ft_random_bytes(salt, sizeof(salt))) != FT_OK)
		goto out;
	if ((rc = bk_pbkdf2(normalized, salt, iterations, hash)) != FT_OK)
		goto out;
	bk_hex_encode(salt, sizeof(salt), salthex);
	bk_hex_encode(hash, sizeof(hash), hashhex);
	n = snprintf(out, outlen, "%s%u%c%s%c%s", BK_PREFIX, iterations, BK_SEP,
	    salthex, BK_SEP, hashhex);
	if (n < 0 || (size_t)n >= outlen) {
		ft_wipe(out, outlen);
		rc = FT_ERR_ARG;
		goto out;
	}
	rc = FT_OK;
out:
	ft_wipe(hash, sizeof(hash));
	ft_wipe(hashhex, sizeof(hashhex));
	return rc;
}

static int
bk_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* upper case is not the stored form */
}

/* Exactly 2n lower-case hex digits followed by `end`; *pp moves past them. */
static bool
bk_hex_field(const char **pp, uint8_t *out, size_t n, char end)
{
	const char *p = *pp;
	size_t i;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if ((hi = bk_hexval(p[2U * i])) < 0 ||
		    (lo = bk_hexval(p[2U * i + 1U])) < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	if (p[2U * n] != end)
		return false;
	*pp = p + 2U * n;
	return true;
}

/* Decimal without sign or leading zero, in the allowed range, then '$'. */
static bool
bk_iter_field(const char **pp, unsigned *out)
{
	const char *p = *pp;
	unsigned long v = 0;
	size_t i;

	for (i = 0; p[i] >= '0' && p[i] <= '9'; i++) {
		if (i == BK_ITER_DIGITS_MAX)
			return false;
		v = v * BK_DECIMAL + (unsigned long)(p[i] - '0');
	}
	if (i == 0 || p[0] == '0' || p[i] != BK_SEP ||
	    v < FT_BACKUP_ITERATIONS_MIN || v > FT_BACKUP_ITERATIONS_MAX)
		return false;
	*out = (unsigned)v;
	*pp = p + i;
	return true;
}

static int
bk_parse(const char *stored, struct bk_entry *e)
{
	const char *p = stored;

	if (stored == NULL || strncmp(p, BK_PREFIX, strlen(BK_PREFIX)) != 0)
		return FT_ERR_PARSE;
	p += strlen(BK_PREFIX);
	if (!bk_iter_field(&p, &e->iterations))
		return FT_ERR_PARSE;
	p++;
	if (!bk_hex_field(&p, e->salt, BK_SALT_LEN, BK_SEP))
		return FT_ERR_PARSE;
	p++;
	if (!bk_hex_field(&p, e->hash, BK_HASH_LEN, '\0'))
		return FT_ERR_PARSE;
	return FT_OK;
}

int
ft_backup_hash_validate(const char *stored)
{
	struct bk_entry e;
	int rc;

	rc = bk_parse(stored, &e);
	ft_wipe(&e, sizeof(e));
	return rc;
}

int
ft_backup_dummy_work(const char *input, size_t n, unsigned iterations)
{
	/* A fixed salt: the result is thrown away, only the cost matters. */
	static const uint8_t salt[BK_SALT_LEN];
	char norm[FT_BACKUP_NORM_BUFSZ];
	uint8_t hash[BK_HASH_LEN];
	size_t i;
	int rc = FT_OK;

	if (input == NULL || n > FT_BACKUP_MAX ||
	    iterations < FT_BACKUP_ITERATIONS_MIN ||
	    iterations > FT_BACKUP_ITERATIONS_MAX)
		return FT_ERR_ARG;
	if (ft_backup_normalize(input, norm, sizeof(norm)) != FT_OK)
		return FT_OK; /* not a backup code: no hashing for anyone */
	for (i = 0; i < n && rc == FT_OK; i++)
		rc = bk_pbkdf2(norm, salt, iterations, hash);
	ft_wipe(norm, sizeof(norm));
	ft_wipe(hash, sizeof(hash));
	return rc;
}

/* All-ones if x is zero, else zero, without a branch on x. */
static size_t
bk_ct_zero_mask(int x)
{
	uint64_t v = (uint32_t)x;

	return (size_t)0 - (size_t)((v - 1U) >> 63);
}

int
ft_backup_verify(const char *input, const char *const *stored, size_t nstored,
    size_t *index_out)
{
	char norm[FT_BACKUP_NORM_BUFSZ];
	uint8_t hash[BK_HASH_LEN];
	struct bk_entry e;
	size_t i, found = 0, idx = 0, eq;
	int rc;

	if (input == NULL || index_out == NULL ||
	    (stored == NULL && nstored > 0) || nstored > FT_BACKUP_MAX)
		return FT_ERR_ARG;
	/* Every entry must parse before any work, so a bad file cannot make
	 * the amount of work depend on the position of the match. */
	for (i = 0; i < nstored; i++) {
		if ((rc = bk_parse(stored[i], &e)) != FT_OK)
			goto out;
	}
	if (ft_backup_normalize(input, norm, sizeof(norm)) != FT_OK) {
		rc = 0;
		goto out;
	}
	for (i = 0; i < nstored; i++) {
		if ((rc = bk_parse(stored[i], &e)) != FT_OK)
			goto out;
		if ((rc = bk_pbkdf2(norm, e.salt, e.iterations, hash)) != FT_OK)
			goto out;
		/* First match wins; no branch on the comparison. */
		eq =
		    bk_ct_zero_mask(CRYPTO_memcmp(hash, e.hash, sizeof(hash))) &
		    ~found;
		idx |= eq & i;
		found |= eq;
	}
	rc = found != 0 ? 1 : 0;
	if (rc == 1)
		*index_out = idx;
out:
	ft_wipe(norm, sizeof(norm));
	ft_wipe(hash, sizeof(hash));
	ft_wipe(&e, sizeof(e));
	return rc;
}
