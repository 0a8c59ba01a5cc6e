/* One-time backup codes: generation, normalization, salted slow hashes.
 *
 * A code is FT_BACKUP_CHARS characters from FT_BACKUP_ALPHABET (no 0/o,
 * 1/i/l look-alikes), i.e. about 59 bits, shown in groups of 4 separated by
 * '-' (e.g. "k7qm-4xwz-r2pt").  Input is accepted regardless of case, spaces
 * and dashes.  Stored form (one string, no spaces):
 *   pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX
 * with a 16-byte random salt per code and a 32-byte PBKDF2-HMAC-SHA256. */
#ifndef FLOWTOTP_BACKUP_H
#define FLOWTOTP_BACKUP_H

#include <stdbool.h>
#include <stddef.h>

#define FT_BACKUP_ALPHABET "23456789abcdefghjkmnpqrstuvwxyz"
#define FT_BACKUP_CHARS 12U	  /* normalized length */
#define FT_BACKUP_GROUP 4U	  /* shown in groups of 4 */
#define FT_BACKUP_SHOWN_BUFSZ 16U /* 12 + 2 dashes + NUL, rounded */
#define FT_BACKUP_NORM_BUFSZ (FT_BACKUP_CHARS + 1U)
#define FT_BACKUP_HASH_BUFSZ 160U /* stored string incl. NUL */
#define FT_BACKUP_COUNT_DEFAULT 10U
#define FT_BACKUP_MAX 32U /* most codes one file may hold */
#define FT_BACKUP_ITERATIONS_DEFAULT 20000U
#define FT_BACKUP_ITERATIONS_MIN 1000U
#define FT_BACKUP_ITERATIONS_MAX 10000000U

/* A fresh random code in display form (grouped with '-'), out >=
 * FT_BACKUP_SHOWN_BUFSZ. */
int ft_backup_generate(char *out, size_t outlen);

/* `count` fresh codes (at most FT_BACKUP_MAX; *n says how many): shown[i]
 * in display form, hash[i] its stored entry (FT_BACKUP_ITERATIONS_DEFAULT
 * rounds).  What enrolment in the CLI and at login both give a user: shown
 * once, kept only as hashes.  On error nothing is kept (*n = 0, the codes
 * wiped). */
int ft_backup_new_set(size_t count, char shown[][FT_BACKUP_SHOWN_BUFSZ],
    char hash[][FT_BACKUP_HASH_BUFSZ], size_t *n);

/* Remove spaces and dashes, lower-case; the result must be exactly
 * FT_BACKUP_CHARS characters of the alphabet, else FT_ERR_PARSE.
 * out >= FT_BACKUP_NORM_BUFSZ. */
int ft_backup_normalize(const char *in, char *out, size_t outlen);

/* True if `in` normalizes to a well-formed backup code (cheap; used to tell a
 * backup code from a TOTP answer before doing any slow hashing). */
bool ft_backup_looks_like(const char *in);

/* Hash a normalized code with a fresh salt into the stored form. */
int ft_backup_hash(
    const char *normalized, unsigned iterations, char *out, size_t outlen);

/* Syntax check of one stored hash string (used by the file parser):
 * FT_OK or FT_ERR_PARSE. */
int ft_backup_hash_validate(const char *stored);

/* Check user input against the stored list.  The input is hashed against
 * every entry and compared in constant time; the work does not depend on
 * where (or whether) it matches.  Returns 1 and sets *index_out on a match,
 * 0 on no match (also for malformed input), negative ft_rc on error. */
int ft_backup_verify(const char *input, const char *const *stored,
    size_t nstored, size_t *index_out);

/* The cost of checking `input` against n stored codes of `iterations`
 * rounds, on nothing: so that an answer costs the same whether the user is
 * enrolled, unenrolled, unknown or locked (the timing tells nothing).  No
 * work if input is not shaped like a backup code (as ft_backup_verify).
 * FT_OK, or a negative ft_rc. */
int ft_backup_dummy_work(const char *input, size_t n, unsigned iterations);

#endif
