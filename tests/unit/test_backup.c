/* Backup codes: generation, normalization, hashing, verification and the
 * stored-hash syntax check. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "rc.h"
#include "tap.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define GEN_COUNT 3000U
#define SHOWN_LEN 14U /* 12 characters and 2 dashes */
#define NALPHA (sizeof(FT_BACKUP_ALPHABET) - 1U)
#define FAST_ITER FT_BACKUP_ITERATIONS_MIN
#define LIST_LEN 10U

/* PBKDF2-HMAC-SHA256("k7qm4xwzr2pt", salt 00..0f) from Python's hashlib. */
static const char *const known_1000 =
    "pbkdf2-sha256$1000$000102030405060708090a0b0c0d0e0f$"
    "d5c868b6b436ced3c37566145a2c4951f076b0d57fcc4da457ba1a949f86ee99";
static const char *const known_20000 =
    "pbkdf2-sha256$20000$000102030405060708090a0b0c0d0e0f$"
    "3e47455180028730f31f2aee7d8003dd41d989d4ae5ea007d426d9b9b19e6161";

static int
cmp_str(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static void
test_generate(void)
{
	char(*codes)[FT_BACKUP_SHOWN_BUFSZ];
	size_t i, j, counts[NALPHA] = {0}, badfmt = 0, dups = 0, lo, hi;
	const char *pos;
	char buf[FT_BACKUP_SHOWN_BUFSZ];

	codes = calloc(GEN_COUNT, sizeof(*codes));
	if (codes == NULL)
		bail_out("out of memory");
	for (i = 0; i < GEN_COUNT; i++) {
		if (ft_backup_generate(codes[i], sizeof(codes[i])) != FT_OK)
			bail_out("generate failed");
		if (strlen(codes[i]) != SHOWN_LEN || codes[i][4] != '-' ||
		    codes[i][9] != '-') {
			badfmt++;
			continue;
		}
		for (j = 0; j < SHOWN_LEN; j++) {
			if (j == 4 || j == 9)
				continue;
			pos = strchr(FT_BACKUP_ALPHABET, codes[i][j]);
			if (codes[i][j] == '\0' || pos == NULL) {
				badfmt++;
				break;
			}
			counts[pos - FT_BACKUP_ALPHABET]++;
		}
	}
	is_int(badfmt, 0, "%u codes look like xxxx-xxxx-xxxx from the alphabet",
	    GEN_COUNT);
	ok(ft_backup_looks_like(codes[0]), "a generated code looks like one");
	qsort(codes, GEN_COUNT, sizeof(*codes), cmp_str);
	for (i = 1; i < GEN_COUNT; i++)
		if (strcmp(codes[i - 1], codes[i]) == 0)
			dups++;
	is_int(dups, 0, "%u generated codes are distinct", GEN_COUNT);
	free(codes);
	/* Expected count per character is 36000/31 ~ 1161 (sd ~ 34); the
	 * bounds are > 10 sd away, so only a broken generator fails. */
	lo = GEN_COUNT * FT_BACKUP_CHARS / NALPHA / 2U;
	hi = GEN_COUNT * FT_BACKUP_CHARS / NALPHA * 3U / 2U;
	for (i = 0, j = 0; i < NALPHA; i++)
		if (counts[i] < lo || counts[i] > hi)
			j++;
	is_int(j, 0, "every alphabet character is used about evenly");
	is_int(NALPHA, 31, "alphabet has 31 characters");
	ok(strpbrk(FT_BACKUP_ALPHABET, "01ilo") == NULL,
	    "alphabet has no 0/1/i/l/o");
	is_int(ft_backup_generate(buf, FT_BACKUP_SHOWN_BUFSZ - 1U), FT_ERR_ARG,
	    "generate: small buffer rejected");
}

static void
test_normalize(void)
{
	static const char *const good[] = {
	    "k7qm-4xwz-r2pt",
	    "K7QM-4XWZ-R2PT",
	    "k7qm4xwzr2pt",
	    "k7qm 4xwz r2pt",
	    "  k7qm4xwzr2pt  ",
	    "K7qM-4xWz-r2Pt",
	    "k-7-q-m-4-x-w-z-r-2-p-t",
	    "k7qm--4xwz  r2pt-",
	};
	static const char *const bad[] = {
	    "",
	    "k7qm-4xwz-r2p",
	    "k7qm-4xwz-r2ptx",
	    "k7qm-4xwz-r2p0",
	    "k7qm-4xwz-r2p1",
	    "k7qm-4xwz-r2pi",
	    "k7qm-4xwz-r2pl",
	    "k7qm-4xwz-r2po",
	    "k7qm-4xwz-r2pO",
	    "k7qm\t4xwz r2pt",
	    "k7qm_4xwz_r2pt",
	    "k7qm.4xwz.r2pt",
	    "k7qm-4xwz-r2p\xc3\xa9",
	    "k7qm-4xwz-r2pt\n",
	    "123456",
	    "12345678",
	    "------------",
	    "k7qm-4xwz-r2pt-k7qm-4xwz-r2pt",
	};
	char out[FT_BACKUP_NORM_BUFSZ];
	size_t i;

	for (i = 0; i < NELEM(good); i++) {
		ok(ft_backup_normalize(good[i], out, sizeof(out)) == FT_OK &&
			strcmp(out, "k7qm4xwzr2pt") == 0,
		    "normalize \"%s\"", good[i]);
		ok(ft_backup_looks_like(good[i]), "looks like: \"%s\"",
		    good[i]);
	}
	for (i = 0; i < NELEM(bad); i++) {
		is_int(ft_backup_normalize(bad[i], out, sizeof(out)),
		    FT_ERR_PARSE, "normalize rejects bad input %zu", i);
		ok(!ft_backup_looks_like(bad[i]), "does not look like: %zu", i);
	}
	is_int(ft_backup_normalize("k7qm-4xwz-r2pt", out, sizeof(out) - 1U),
	    FT_ERR_ARG, "normalize: small buffer");
	ok(!ft_backup_looks_like(NULL), "NULL does not look like a code");
}

static void
test_validate(void)
{
	static const char *const bad[] = {
	    "",
	    "pbkdf2-sha256$",
	    "pbkdf2-sha1$1000$000102030405060708090a0b0c0d0e0f$"
	    "d5c868b6b436ced3c37566145a2c4951f076b0d57fcc4da457ba1a949f86ee99",
	    "PBKDF2-SHA256$1000$000102030405060708090a0b0c0d0e0f$"
	    "d5c868b6b436ced3c37566145a2c4951f076b0d57fcc4da457ba1a949f86ee99",
	    "pbkdf2-sha256$999$000102030405060708090a0b0c0d0e0f$"
	    "d5c868b6b436ced3c37566145a2c4951f076b0d57fcc4da457ba1a949f86ee99",
	    "pbkdf2-sha256$0$000102030405060708090a0b0c0d0e0f$"
	    "d5c868b6b436ced3c37566145a2c4951f076b0d57fcc4da457ba1a949f86ee99",
	    "pbkdf2-sha256$01000$000102030405060708090a0b0c0d0e0f$"
	    "d5c868b6b436ced3c37566145a2c4951f076b0d57fcc4da457ba1a949f86ee99",
	    "pbkdf2-sha256$+1000$000102030405060708090a0b0c0d0e0f$"
	    "d5c868b6b436ced3c37566145a2c4951f076b0d57fcc4da457ba1a949f86ee99",
	    "pbkdf2-sha256$10000001$000102030405060708090a0b0c0d0e0f$"
	    "d5c868b6b436ced3c37566145a2c4951f076b0d57fcc4da457ba1a949f86ee99",
	    "pbkdf2-sha256$99999999999999999999$"
	    "000102030405060708090a0b0c0d0e0f$"
	    "d5c868b6b436ced3c37566145a2c4951f076b0d57fcc4da457ba1a949f86ee99",
	    "pbkdf2-sha256$$000102030405060708090a0b0c0d0e0f$"
	    "d5c868b6b436ced3c37566145a2c4951f076b0d57fcc4da457ba1a949f86ee99",
	    "pbkdf2-sha256$1000$000102030405060708090A0B0C0D0E0F$"
	    "d5c868b6b436ced3c37566145a2c4951f076b0d57fcc4da457ba1a949f86ee99",
	    "pbkdf2-sha256$1000$000102030405060708090a0b0c0d0e$"
	    "d5c868b6b436ced3c37566145a2c4951f076b0d57fcc4da457ba1a949f86ee99",
	    "pbkdf2-sha256$1000$000102030405060708090a0b0c0d0e0f10$"
	    "d5c868b6b436ced3c37566145a2c4951f076b0d57fcc4da457ba1a949f86ee99",
	    "pbkdf2-sha256$1000$000102030405060708090a0b0c0d0e0g$"
	    "d5c868b6b436ced3c37566145a2c4951f076b0d57fcc4da457ba1a949f86ee99",
	    "pbkdf2-sha256$1000$000102030405060708090a0b0c0d0e0f$"
	    "d5c868b6b436ced3c37566145a2c4951f076b0d57fcc4da457ba1a949f86ee",
	    "pbkdf2-sha256$1000$000102030405060708090a0b0c0d0e0f$"
	    "d5c868b6b436ced3c37566145a2c4951f076b0d57fcc4da457ba1a949f86ee990"
	    "0",
	    "pbkdf2-sha256$1000$000102030405060708090a0b0c0d0e0f$"
	    "D5C868B6B436CED3C37566145A2C4951F076B0D57FCC4DA457BA1A949F86EE99",
	    "pbkdf2-sha256$1000$000102030405060708090a0b0c0d0e0f$"
	    "d5c868b6b436ced3c37566145a2c4951f076b0d57fcc4da457ba1a949f86ee99 ",
	    "pbkdf2-sha256$1000$000102030405060708090a0b0c0d0e0f$"
	    "d5c868b6b436ced3c37566145a2c4951f076b0d57fcc4da457ba1a949f86ee99"
	    "\n",
	    "pbkdf2-sha256$1000$000102030405060708090a0b0c0d0e0f$"
	    "d5c868b6b436ced3c37566145a2c4951f076b0d57fcc4da457ba1a949f86ee99$",
	    " pbkdf2-sha256$1000$000102030405060708090a0b0c0d0e0f$"
	    "d5c868b6b436ced3c37566145a2c4951f076b0d57fcc4da457ba1a949f86ee99",
	    "pbkdf2-sha256$1000$000102030405060708090a0b0c0d0e0f"
	    "d5c868b6b436ced3c37566145a2c4951f076b0d57fcc4da457ba1a949f86ee99",
	    "pbkdf2-sha256$1000$000102030405060708090a0b0c0d0e0f$",
	    "k7qm-4xwz-r2pt",
	};
	size_t i;

	is_int(ft_backup_hash_validate(known_1000), FT_OK,
	    "validate: known good (1000)");
	is_int(ft_backup_hash_validate(known_20000), FT_OK,
	    "validate: known good (20000)");
	is_int(ft_backup_hash_validate(
		   "pbkdf2-sha256$10000000$000102030405060708090a0b0c0d0e0f$"
		   "d5c868b6b436ced3c37566145a2c4951f076b0d57fcc4da457ba1a949f8"
		   "6ee99"),
	    FT_OK, "validate: maximum iterations");
	for (i = 0; i < NELEM(bad); i++)
		is_int(ft_backup_hash_validate(bad[i]), FT_ERR_PARSE,
		    "validate rejects malformed hash %zu", i);
	is_int(ft_backup_hash_validate(NULL), FT_ERR_PARSE,
	    "validate rejects NULL");
}

static void
test_hash(void)
{
	char a[FT_BACKUP_HASH_BUFSZ], b[FT_BACKUP_HASH_BUFSZ];
	const char *list[1];
	size_t idx = 99;

	is_int(ft_backup_hash("k7qm4xwzr2pt", FAST_ITER, a, sizeof(a)), FT_OK,
	    "hash");
	is_int(ft_backup_hash_validate(a), FT_OK, "hash output validates");
	ok(strncmp(a, "pbkdf2-sha256$1000$", 19) == 0, "prefix and iterations");
	is_int(strlen(a), 19U + 32U + 1U + 64U, "stored length");
	is_int(ft_backup_hash("k7qm4xwzr2pt", FAST_ITER, b, sizeof(b)), FT_OK,
	    "hash again");
	ok(strcmp(a, b) != 0, "fresh salt: two hashes of one code differ");
	ok(strncmp(a, b, 19U + 32U) != 0, "the salts differ");
	is_int(ft_backup_hash(
		   "k7qm4xwzr2pt", FT_BACKUP_ITERATIONS_DEFAULT, b, sizeof(b)),
	    FT_OK, "hash at the default iterations");
	list[0] = b;
	ok(ft_backup_verify("k7qm-4xwz-r2pt", list, 1, &idx) == 1 && idx == 0,
	    "default-iteration hash verifies");
	is_int(ft_backup_hash("K7QM4XWZR2PT", FAST_ITER, a, sizeof(a)),
	    FT_ERR_ARG, "hash wants the normalized form");
	is_int(ft_backup_hash("k7qm-4xwz-r2pt", FAST_ITER, a, sizeof(a)),
	    FT_ERR_ARG, "hash rejects the display form");
	is_int(ft_backup_hash("k7qm4xwzr2p", FAST_ITER, a, sizeof(a)),
	    FT_ERR_ARG, "hash rejects a short code");
	is_int(ft_backup_hash(
		   "k7qm4xwzr2pt", FT_BACKUP_ITERATIONS_MIN - 1U, a, sizeof(a)),
	    FT_ERR_ARG, "too few iterations rejected");
	is_int(ft_backup_hash(
		   "k7qm4xwzr2pt", FT_BACKUP_ITERATIONS_MAX + 1U, a, sizeof(a)),
	    FT_ERR_ARG, "too many iterations rejected");
	is_int(ft_backup_hash("k7qm4xwzr2pt", FAST_ITER, a, 116), FT_ERR_ARG,
	    "hash: buffer one byte short");
	is_int(ft_backup_hash("k7qm4xwzr2pt", FAST_ITER, a, 117), FT_OK,
	    "hash: exact buffer");
}

static void
test_verify(void)
{
	char shown[LIST_LEN][FT_BACKUP_SHOWN_BUFSZ];
	char hashes[LIST_LEN + 1U][FT_BACKUP_HASH_BUFSZ];
	char norm[FT_BACKUP_NORM_BUFSZ], upper[FT_BACKUP_SHOWN_BUFSZ];
	const char *list[FT_BACKUP_MAX + 1U];
	const char *bad_list[2];
	size_t i, j, idx;
	int rc;

	for (i = 0; i < LIST_LEN; i++) {
		if (ft_backup_generate(shown[i], sizeof(shown[i])) != FT_OK ||
		    ft_backup_normalize(shown[i], norm, sizeof(norm)) !=
			FT_OK ||
		    ft_backup_hash(
			norm, FAST_ITER, hashes[i], sizeof(hashes[i])) != FT_OK)
			bail_out("cannot prepare codes");
		list[i] = hashes[i];
	}
	for (i = 0; i < LIST_LEN; i++) {
		idx = 99;
		rc = ft_backup_verify(shown[i], list, LIST_LEN, &idx);
		ok(rc == 1 && idx == i, "code %zu verifies at index %zu", i,
		    idx);
		for (j = 0; shown[i][j] != '\0'; j++)
			upper[j] =
			    (char)(shown[i][j] >= 'a' && shown[i][j] <= 'z'
				    ? shown[i][j] - 'a' + 'A'
				    : shown[i][j]);
		upper[j] = '\0';
		idx = 99;
		rc = ft_backup_verify(upper, list, LIST_LEN, &idx);
		ok(rc == 1 && idx == i, "upper-case code %zu verifies", i);
	}
	/* The known vector from an independent implementation. */
	bad_list[0] = known_1000;
	ok(ft_backup_verify("K7QM 4XWZ R2PT", bad_list, 1, &idx) == 1 &&
		idx == 0,
	    "hashlib vector (1000) verifies");
	bad_list[0] = known_20000;
	ok(ft_backup_verify("k7qm-4xwz-r2pt", bad_list, 1, &idx) == 1 &&
		idx == 0,
	    "hashlib vector (20000) verifies");
	ok(ft_backup_verify("k7qm-4xwz-r2pu", bad_list, 1, &idx) == 0,
	    "one character off is rejected");

	/* Wrong codes. */
	is_int(ft_backup_verify("k7qm-4xwz-r2pt", list, LIST_LEN, &idx), 0,
	    "code not in the list rejected");
	is_int(ft_backup_verify("123456", list, LIST_LEN, &idx), 0,
	    "TOTP-looking input rejected");
	is_int(ft_backup_verify("", list, LIST_LEN, &idx), 0,
	    "empty input rejected");
	is_int(ft_backup_verify(shown[0], list, 0, &idx), 0,
	    "empty list matches nothing");
	is_int(ft_backup_verify(shown[0], list + 1, LIST_LEN - 1U, &idx), 0,
	    "code removed from the list no longer verifies");

	/* Duplicate entry: the first index wins. */
	if (ft_backup_normalize(shown[3], norm, sizeof(norm)) != FT_OK ||
	    ft_backup_hash(norm, FAST_ITER, hashes[LIST_LEN],
		sizeof(hashes[LIST_LEN])) != FT_OK)
		bail_out("cannot hash");
	list[LIST_LEN] = hashes[LIST_LEN];
	rc = ft_backup_verify(shown[3], list, LIST_LEN + 1U, &idx);
	ok(rc == 1 && idx == 3, "duplicate: first index reported");

	/* Malformed stored entries are errors, not non-matches. */
	bad_list[0] = hashes[0];
	bad_list[1] = "pbkdf2-sha256$1000$zz";
	is_int(ft_backup_verify(shown[0], bad_list, 2, &idx), FT_ERR_PARSE,
	    "malformed stored entry is an error");
	bad_list[1] = NULL;
	is_int(ft_backup_verify(shown[0], bad_list, 2, &idx), FT_ERR_PARSE,
	    "NULL stored entry is an error");
	for (i = 0; i <= FT_BACKUP_MAX; i++)
		list[i] = hashes[0];
	is_int(ft_backup_verify(shown[0], list, FT_BACKUP_MAX + 1U, &idx),
	    FT_ERR_ARG, "more than FT_BACKUP_MAX entries rejected");
	is_int(ft_backup_verify(NULL, list, 1, &idx), FT_ERR_ARG,
	    "NULL input is an error");
	is_int(ft_backup_verify(shown[0], list, 1, NULL), FT_ERR_ARG,
	    "NULL index is an error");
}

/* The set both enrolments issue: each shown code matches its own entry,
 * at the default rounds; more than FT_BACKUP_MAX are capped. */
static void
test_new_set(void)
{
	static char shown[FT_BACKUP_MAX][FT_BACKUP_SHOWN_BUFSZ];
	static char hash[FT_BACKUP_MAX][FT_BACKUP_HASH_BUFSZ];
	const char *list[FT_BACKUP_MAX];
	size_t i, n = 99, idx, good = 0;

	is_int(ft_backup_new_set(3, shown, hash, &n), FT_OK, "new set of 3");
	is_int(n, 3, "three codes made");
	for (i = 0; i < n; i++)
		list[i] = hash[i];
	for (i = 0; i < n; i++)
		if (ft_backup_verify(shown[i], list, n, &idx) == 1 &&
		    idx == i &&
		    strncmp(hash[i], "pbkdf2-sha256$20000$", 20) == 0)
			good++;
	is_int(good, 3, "each shown code matches its own entry (20000 rounds)");
	is_int(ft_backup_new_set(FT_BACKUP_MAX + 5U, shown, hash, &n), FT_OK,
	    "new set of more than FT_BACKUP_MAX");
	is_int(n, FT_BACKUP_MAX, "capped at FT_BACKUP_MAX");
	ok(ft_backup_hash_validate(hash[FT_BACKUP_MAX - 1U]) == FT_OK &&
		ft_backup_looks_like(shown[FT_BACKUP_MAX - 1U]),
	    "the last one is made too");
	is_int(ft_backup_new_set(0, shown, hash, &n), FT_OK, "new set of 0");
	is_int(n, 0, "no codes made");
}

int
main(void)
{
	test_generate();
	test_normalize();
	test_validate();
	test_hash();
	test_verify();
	test_new_set();
	return done_testing();
}
