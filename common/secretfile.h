/* The per-user secret file, format version 1 (documented in flowtotp(5)).
 *
 *   # comment lines and blank lines are ignored
 *   version = 1
 *   secret = BASE32 (unpadded, upper case when written)
 *   algorithm = SHA1 | SHA256 | SHA512
 *   digits = 6..8
 *   period = 15..300
 *   created = UNIX-SECONDS
 *   backup = pbkdf2-sha256$...      (0..FT_BACKUP_MAX times; the only key
 *                                    that may repeat)
 *
 * Required: version, secret, algorithm, digits, period, created.  The file
 * holds no per-login state, so it can be read-only.
 *
 * Version 2 (written only when a file needs it, so version 1 files stay
 * as they are) adds
 *   key_id = ID                     (the store key, storekey.h)
 *   secret_enc = HEX                (nonce || ciphertext || tag, secretcrypt.h)
 * in place of `secret` (root store only; the parser keeps the sealed value,
 * secretseal.h opens it), and
 *   deliver = ADDRESS   where pam_flowtotp sends one-time codes (deliver.h)
 * which makes a secret optional (a user without an app). */
#ifndef FLOWTOTP_SECRETFILE_H
#define FLOWTOTP_SECRETFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backup.h"
#include "otp.h"
#include "secretcrypt.h"

#define FT_SECRETFILE_VERSION 1
/* The version of a file with a version-2 key (key_id, secret_enc,
 * deliver). */
#define FT_SECRETFILE_VERSION_2 2
#define FT_SECRET_ENC_MAX (FT_KEY_MAX + FT_SC_OVERHEAD)
/* An address for deliver= (ADDRESS and NUL): ft_deliver_address_ok. */
#define FT_DELIVER_ADDR_BUFSZ 257U
#define FT_SECRETFILE_MAX_SIZE (64U * 1024U)
#define FT_SECRETFILE_MAX_LINE 1024U
/* The most PBKDF2 rounds a backup entry may ask for.  The file sets the
 * work the module does as root for every backup-shaped answer (each entry
 * is tried), and with a home template its owner writes it: ten times the
 * default bounds that work (documented in flowtotp(5)). */
#define FT_SECRETFILE_ROUNDS_MAX (10U * FT_BACKUP_ITERATIONS_DEFAULT)

struct ft_secret {
	uint8_t key[FT_KEY_MAX];
	size_t keylen;
	enum ft_algo algo;
	unsigned digits;
	unsigned period;
	int64_t created;
	size_t nbackup;
	char backup[FT_BACKUP_MAX][FT_BACKUP_HASH_BUFSZ];
	/* Version 2: the key sealed under store key key_id (enc: nonce ||
	 * ciphertext || tag).  keylen stays 0 until it is opened; written
	 * back, a sealed secret keeps enc and never writes key. */
	bool sealed;
	char key_id[FT_KEY_ID_BUFSZ];
	uint8_t enc[FT_SECRET_ENC_MAX];
	size_t enclen;
	/* deliver=: "" none.  With an address keylen may be 0 (no app). */
	char deliver[FT_DELIVER_ADDR_BUFSZ];
};

/* Parse buf[0..len) (need not be NUL-terminated).  On error *out is wiped
 * and err names the problem and the line number. */
int ft_secret_parse(const char *buf, size_t len, struct ft_secret *out,
    char *err, size_t errlen);

/* Serialize to a malloc'd NUL-terminated string (*outlen excludes the NUL).
 * Caller must ft_wipe_free(*out, *outlen). */
int ft_secret_serialize(const struct ft_secret *s, char **out, size_t *outlen);

/* A deliver= address: 1..256 printable ASCII bytes, no space, not
 * starting with '-' (it must never be taken for an option). */
bool ft_secret_address_ok(const char *addr);

/* Remove backup entry idx, keeping order. */
int ft_secret_remove_backup(struct ft_secret *s, size_t idx);

/* Wipe the whole struct. */
void ft_secret_wipe(struct ft_secret *s);

/* The parameters ft_totp_match needs for secret s, checking `window` steps
 * either side.  out->key points into s: s must outlive out, and wiping s
 * is enough. */
void ft_secret_totp_params(
    const struct ft_secret *s, unsigned window, struct ft_totp_params *out);

#endif
