/* AES-256-GCM for the secrets of the root store (format version 2, see
 * flowtotp(5)).  A sealed value is nonce || ciphertext || tag; the
 * associated data binds the format version, the store key's id and the
 * canonical user name, so a file copied to another user's name, or relabelled
 * with another key id, does not open. */
#ifndef FLOWTOTP_SECRETCRYPT_H
#define FLOWTOTP_SECRETCRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FT_SC_KEYLEN 32U   /* AES-256 */
#define FT_SC_NONCELEN 12U /* the GCM standard nonce */
#define FT_SC_TAGLEN 16U
#define FT_SC_OVERHEAD (FT_SC_NONCELEN + FT_SC_TAGLEN)
/* A key id: 1..FT_KEY_ID_MAX of [A-Za-z0-9._-] (it is written in files
 * and logs, so nothing that could split a line or a log field). */
#define FT_KEY_ID_MAX 32U
#define FT_KEY_ID_BUFSZ (FT_KEY_ID_MAX + 1U)

/* What a sealed value is bound to. */
struct ft_sc_aad {
	unsigned version;   /* the file format version */
	const char *key_id; /* the store key's id */
	const char *user;   /* the canonical (pw_name) user name */
};

/* True if id is a well-formed key id. */
bool ft_key_id_valid(const char *id);

/* The plaintext and the sealed value of one secret. */
struct ft_sc_buf {
	uint8_t *p;
	size_t len; /* in: capacity (out buffers), out: length written */
};

/* Seal pt under key with the given nonce (callers draw it with
 * ft_random_bytes; a fixed one is for known-answer tests only).  out
 * receives nonce || ciphertext || tag and needs pt.len + FT_SC_OVERHEAD
 * bytes.  FT_OK, FT_ERR_ARG, FT_ERR_CRYPTO. */
int ft_sc_seal(const uint8_t key[FT_SC_KEYLEN],
    const uint8_t nonce[FT_SC_NONCELEN], const struct ft_sc_aad *aad,
    const struct ft_sc_buf *pt, struct ft_sc_buf *out);

/* Open a sealed value: FT_OK with pt filled, FT_ERR_PARSE when in is too
 * short to hold a nonce and a tag, FT_ERR_CRYPTO when the tag does not
 * verify (wrong key, another user's or key id's file, a flipped bit): pt
 * is then wiped, nothing of it is returned. */
int ft_sc_open(const uint8_t key[FT_SC_KEYLEN], const struct ft_sc_aad *aad,
    const struct ft_sc_buf *in, struct ft_sc_buf *pt);

#endif
