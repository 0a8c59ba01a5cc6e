/* The store key file (flowtotp(5) "STORE KEY FILE"): the AES-256 keys that
 * seal the secrets of the root store, one "ID HEX" line each (64 hex
 * digits), several while a rotation runs.  The last line is the current
 * key, the one new files are sealed with.  The file is root's, mode 0600 or
 * 0400, read with ft_safe_read (no symlink, one link, size bound). */
#ifndef FLOWTOTP_STOREKEY_H
#define FLOWTOTP_STOREKEY_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "secretcrypt.h"

#ifndef FT_SYSCONFDIR
#define FT_SYSCONFDIR "/etc"
#endif
#define FT_STOREKEY_MAX 8U /* keys in one file */
#define FT_STOREKEY_MAX_SIZE 4096U
#define FT_STOREKEY_DEFAULT "/run/flowtotp/store.key"
#define FT_STOREKEY_FALLBACK_DEFAULT FT_SYSCONFDIR "/flowtotp/store.key"
#define FT_STOREKEY_CRED_DEFAULT FT_SYSCONFDIR "/flowtotp/store.key.cred"
/* The name systemd-creds binds the sealed key file to. */
#define FT_STOREKEY_CRED_NAME "flowtotp-store-key"

struct ft_store_key {
	char id[FT_KEY_ID_BUFSZ];
	uint8_t key[FT_SC_KEYLEN];
};

struct ft_keyring {
	size_t n;
	struct ft_store_key k[FT_STOREKEY_MAX];
	char path[PATH_MAX]; /* the file it was read from */
};

/* Parse buf[0..len): lines "ID HEX", '#' comments, blank lines; ids
 * unique.  At least one key.  On error kr is wiped and err says which line
 * (never a key). */
int ft_keyring_parse(const char *buf, size_t len, struct ft_keyring *kr,
    char *err, size_t errlen);

/* The file's text: a malloc'd string; ft_wipe_free(*out, *outlen). */
int ft_keyring_serialize(
    const struct ft_keyring *kr, char **out, size_t *outlen);

/* Read and parse one key file.  FT_ERR_NOENT if it does not exist. */
int ft_keyring_read(
    const char *path, struct ft_keyring *kr, char *err, size_t errlen);

/* The store key as the module finds it: `primary` (the unsealed file),
 * else, only when primary does not exist, `fallback` (the plain root-only
 * file; "" for none).  FT_ERR_NOENT when neither exists. */
int ft_keyring_load(const char *primary, const char *fallback,
    struct ft_keyring *kr, char *err, size_t errlen);

/* The key with this id, or NULL; the current (last) key, or NULL. */
const struct ft_store_key *ft_keyring_find(
    const struct ft_keyring *kr, const char *id);
const struct ft_store_key *ft_keyring_current(const struct ft_keyring *kr);

/* Append a fresh random key with a fresh random id (it becomes the current
 * one).  FT_ERR_TOOBIG when the file is full. */
int ft_keyring_add_random(struct ft_keyring *kr);

/* Drop the key with this id (FT_ERR_NOENT if absent). */
int ft_keyring_remove(struct ft_keyring *kr, const char *id);

/* Atomically write kr to path: root's, mode 0600. */
int ft_keyring_write(
    const char *path, const struct ft_keyring *kr, char *err, size_t errlen);

void ft_keyring_wipe(struct ft_keyring *kr);

#endif
