/* Version-2 secrets in the CLI: open a sealed secret after a load, seal a
 * new one before a save, as encrypt= says.  Secrets in a home stay plain:
 * the store key must not be readable by users, and the home's owner
 * could write a sealed file to probe with it. */
#include <config.h>

#include "cli.h"
#include "rc.h"
#include "secretseal.h"
#include "storekey.h"

int
cli_unseal(
    const struct cli_target *t, struct ft_secret *s, char *err, size_t errlen)
{
	struct ft_keyring kr;
	int rc;

	if (!s->sealed)
		return FT_OK;
	if (t->in_home || t->cfg == NULL) {
		ft_secret_wipe(s);
		return ft_seterr(err, errlen, FT_ERR_UNSAFE,
		    "sealed_in_home: %s holds an encrypted secret, which only "
		    "the root store may",
		    t->path);
	}
	rc = ft_secret_keyring(
	    t->cfg->store_key, t->cfg->store_key_fallback, &kr, err, errlen);
	if (rc == FT_OK)
		rc = ft_secret_unseal(s, t->name, &kr, err, errlen);
	ft_keyring_wipe(&kr);
	if (rc != FT_OK)
		ft_secret_wipe(s);
	return rc;
}

int
cli_seal_for_save(
    const struct cli_target *t, struct ft_secret *s, char *err, size_t errlen)
{
	s->sealed = false;
	if (t->cfg == NULL || t->in_home)
		return FT_OK;
	return ft_secret_seal_new(s, t->name, t->cfg, err, errlen);
}
