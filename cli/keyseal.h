/* The systemd-creds sealed copy of the store key file (keyseal.c). */
#ifndef FLOWTOTP_CLI_KEYSEAL_H
#define FLOWTOTP_CLI_KEYSEAL_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "storekey.h"

/* systemd-creds is installed. */
bool cli_creds_available(void);
/* Seal kr's text into cred (atomic, root 0600). */
int cli_creds_seal(
    const char *cred, const struct ft_keyring *kr, char *err, size_t errlen);
/* Unseal cred into kr. */
int cli_creds_unseal(
    const char *cred, struct ft_keyring *kr, char *err, size_t errlen);

/* The store key where commands find it (ft_keyring_load over store_key
 * and store_key_fallback); *sealed: it is the unsealed store_key and the
 * sealed copy store_key_cred exists, so a change must reseal it too. */
int cli_keyring_load(const struct ft_config *c, struct ft_keyring *kr,
    bool *sealed, char *err, size_t errlen);
/* Write kr back: sealed, the credential first and then store_key; else
 * the file it came from (kr->path).  Missing directories are created,
 * root's (/etc/flowtotp 0755, /run/flowtotp 0700). */
int cli_keyring_save(const struct ft_config *c, const struct ft_keyring *kr,
    bool sealed, char *err, size_t errlen);
/* What flowtotp-key.service does, for a host where it did not run:
 * unseal store_key_cred onto store_key (root, 0600). */
int cli_keyring_unseal(
    const struct ft_config *c, struct ft_keyring *kr, char *err, size_t errlen);
/* A store key of some form (unsealed, plain or sealed) is there. */
bool cli_key_exists(const struct ft_config *c);

#endif
