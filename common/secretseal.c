/* The key of a version-2 secret file: sealed with the store key, bound to
 * the user name and the key id. */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "random.h"
#include "rc.h"
#include "secretcrypt.h"
#include "secretseal.h"
#include "wipe.h"
#include "workcount.h"

#define MSG_MAX 400U
#define DUMMY_USER "-"
#define DUMMY_ID "dummy"

int
ft_secret_unseal(struct ft_secret *s, const char *user,
    const struct ft_keyring *kr, char *err, size_t errlen)
{
	struct ft_sc_aad aad = {FT_SECRETFILE_VERSION_2, s->key_id, user};
	struct ft_sc_buf in = {s->enc, s->enclen};
	struct ft_sc_buf pt = {s->key, sizeof(s->key)};
	const struct ft_store_key *k;
	int rc;

	if (!s->sealed)
		return FT_OK;
	s->keylen = 0;
	if ((k = ft_keyring_find(kr, s->key_id)) == NULL)
		return ft_seterr(err, errlen, FT_ERR_UNSAFE,
		    "key_unknown: the file is sealed with key id %s, which "
		    "%s does not hold",
		    s->key_id, kr->path);
	rc = ft_sc_open(k->key, &aad, &in, &pt);
	if (rc == FT_OK && (pt.len < FT_KEY_MIN || pt.len > FT_KEY_MAX))
		rc = FT_ERR_PARSE;
	if (rc != FT_OK) {
		ft_wipe(s->key, sizeof(s->key));
		return ft_seterr(err, errlen, FT_ERR_UNSAFE,
		    "decrypt_failed: the sealed secret does not open with key "
		    "%s for %s (wrong key, damaged file, or another user's "
		    "file)",
		    s->key_id, user);
	}
	s->keylen = pt.len;
	return FT_OK;
}

int
ft_secret_seal(struct ft_secret *s, const char *user,
    const struct ft_store_key *k, char *err, size_t errlen)
{
	uint8_t nonce[FT_SC_NONCELEN];
	struct ft_sc_aad aad = {FT_SECRETFILE_VERSION_2, k->id, user};
	struct ft_sc_buf pt = {s->key, s->keylen};
	struct ft_sc_buf out = {s->enc, sizeof(s->enc)};
	int rc;

	if (s->keylen < FT_KEY_MIN || s->keylen > FT_KEY_MAX)
		return ft_seterr(err, errlen, FT_ERR_ARG, "no key to seal");
	if ((rc = ft_random_bytes(nonce, sizeof(nonce))) == FT_OK)
		rc = ft_sc_seal(k->key, nonce, &aad, &pt, &out);
	if (rc != FT_OK) {
		s->sealed = false;
		s->enclen = 0;
		return ft_seterr(err, errlen, rc, "cannot seal the secret: %s",
		    ft_rc_str(rc));
	}
	s->enclen = out.len;
	memcpy(s->key_id, k->id, sizeof(s->key_id));
	s->sealed = true;
	return FT_OK;
}

int
ft_secret_keyring(const char *primary, const char *fallback,
    struct ft_keyring *kr, char *err, size_t errlen)
{
	char msg[MSG_MAX];
	int rc;

	msg[0] = '\0';
	ft_work_note(FT_WORK_KEYFILE);
	rc = ft_keyring_load(primary, fallback, kr, msg, sizeof(msg));
	if (rc == FT_OK)
		return FT_OK;
	return ft_seterr(err, errlen, FT_ERR_UNSAFE, "%s: %s",
	    rc == FT_ERR_NOENT ? "store_key_missing" : "store_key_unsafe", msg);
}

int
ft_secret_seal_new(struct ft_secret *s, const char *user,
    const struct ft_config *c, char *err, size_t errlen)
{
	struct ft_keyring kr;
	int rc;

	s->sealed = false;
	/* A user without an app (deliver only) has no key to seal. */
	if (ft_config_secret_in_home(c) || c->encrypt == FT_ENCRYPT_NO ||
	    s->keylen == 0)
		return FT_OK;
	memset(&kr, 0, sizeof(kr));
	rc = ft_keyring_load(
	    c->store_key, c->store_key_fallback, &kr, err, errlen);
	if (rc == FT_ERR_NOENT && c->encrypt == FT_ENCRYPT_AUTO)
		rc = FT_OK; /* no store key: plain, as before version 2 */
	else if (rc == FT_ERR_NOENT)
		rc = ft_seterr(err, errlen, FT_ERR_NOENT,
		    "encrypt=yes but there is no store key (%s): run "
		    "'totp-enroll key init' first",
		    c->store_key);
	else if (rc == FT_OK)
		rc = ft_secret_seal(
		    s, user, ft_keyring_current(&kr), err, errlen);
	ft_keyring_wipe(&kr);
	return rc;
}

void
ft_secret_unseal_dummy(void)
{
	/* A zero key and a zero blob the size of a default key: the same
	 * cipher set-up, AAD and block count a real open does. */
	static const uint8_t key[FT_SC_KEYLEN];
	uint8_t blob[FT_SC_OVERHEAD + FT_KEY_DEFAULT];
	uint8_t pt[FT_KEY_DEFAULT];
	struct ft_sc_aad aad = {FT_SECRETFILE_VERSION_2, DUMMY_ID, DUMMY_USER};
	struct ft_sc_buf in = {blob, sizeof(blob)};
	struct ft_sc_buf out = {pt, sizeof(pt)};

	memset(blob, 0, sizeof(blob));
	(void)ft_sc_open(key, &aad, &in, &out);
	ft_wipe(pt, sizeof(pt));
}
