/* Sealing and opening the key of a secret file (format version 2) with the
 * store key.  Error lines start with the word the module's log line uses as
 * the detail: store_key_missing, store_key_unsafe, key_unknown,
 * decrypt_failed (pam_flowtotp(8)). */
#ifndef FLOWTOTP_SECRETSEAL_H
#define FLOWTOTP_SECRETSEAL_H

#include <stddef.h>

#include "conf.h"
#include "secretfile.h"
#include "storekey.h"

/* Open s->enc (bound to user and s->key_id) with the matching key of kr
 * into s->key.  A plain secret is left alone.  FT_OK, or FT_ERR_UNSAFE
 * (key_unknown, decrypt_failed) with s's key wiped. */
int ft_secret_unseal(struct ft_secret *s, const char *user,
    const struct ft_keyring *kr, char *err, size_t errlen);

/* Seal s->key for user under k with a fresh random nonce: s becomes a
 * version 2 secret (s->key stays, for the caller's use). */
int ft_secret_seal(struct ft_secret *s, const char *user,
    const struct ft_store_key *k, char *err, size_t errlen);

/* The keyring for a version-2 file (ft_keyring_load) with the error line
 * prefixed for the log: store_key_missing or store_key_unsafe. */
int ft_secret_keyring(const char *primary, const char *fallback,
    struct ft_keyring *kr, char *err, size_t errlen);

/* Before a new secret is saved: seal s for user if c's template is the
 * root store and c->encrypt asks for it (auto: a store key exists; yes: it
 * must; no: never), with the current key.  Otherwise s stays plain. */
int ft_secret_seal_new(struct ft_secret *s, const char *user,
    const struct ft_config *c, char *err, size_t errlen);

/* One AES-GCM open of a fixed dummy (which fails, as it must): the work an
 * encrypted secret costs, for a login that has none (the equal-work rule,
 * pam_module/login.c). */
void ft_secret_unseal_dummy(void);

#endif
