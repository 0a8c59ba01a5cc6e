/* AES-256-GCM through OpenSSL EVP.  The tag check is OpenSSL's
 * (EVP_DecryptFinal_ex compares in constant time); on any failure the
 * partial plaintext is wiped before returning. */
#include <config.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "rc.h"
#include "secretcrypt.h"
#include "wipe.h"
#include "workcount.h"

/* "flowtotp-secret" NUL version NUL key_id NUL user: the NULs keep the
 * fields apart (none of them may hold one). */
#define AAD_LABEL "flowtotp-secret"
#define AAD_MAX (sizeof(AAD_LABEL) + 16U + FT_KEY_ID_BUFSZ + 256U + 1U)

bool
ft_key_id_valid(const char *id)
{
	size_t i;

	if (id == NULL || id[0] == '\0')
		return false;
	for (i = 0; id[i] != '\0'; i++) {
		char c = id[i];

		if (i >= FT_KEY_ID_MAX ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '.' || c == '_' ||
			c == '-'))
			return false;
	}
	return true;
}

/* The associated data in buf; its length, or 0 if it does not fit. */
static size_t
build_aad(const struct ft_sc_aad *aad, uint8_t *buf, size_t cap)
{
	int n;

	if (aad == NULL || aad->user == NULL || aad->user[0] == '\0' ||
	    !ft_key_id_valid(aad->key_id))
		return 0;
	n = snprintf((char *)buf, cap, "%s%c%u%c%s%c%s", AAD_LABEL, '\0',
	    aad->version, '\0', aad->key_id, '\0', aad->user);
	if (n < 0 || (size_t)n >= cap)
		return 0;
	return (size_t)n;
}

/* One EVP context set up for key, nonce and aad, encrypting or not. */
static EVP_CIPHER_CTX *
gcm_start(const uint8_t *key, const uint8_t *nonce, const struct ft_sc_aad *aad,
    int enc)
{
	uint8_t ad[AAD_MAX];
	size_t adlen = build_aad(aad, ad, sizeof(ad));
	EVP_CIPHER_CTX *c = NULL;
	int outl = 0;

	if (adlen == 0 || (c = EVP_CIPHER_CTX_new()) == NULL)
		return NULL;
	if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) !=
		1 ||
	    EVP_CIPHER_CTX_ctrl(
		c, EVP_CTRL_GCM_SET_IVLEN, (int)FT_SC_NONCELEN, NULL) != 1 ||
	    EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc) != 1 ||
	    EVP_CipherUpdate(c, NULL, &outl, ad, (int)adlen) != 1) {
		EVP_CIPHER_CTX_free(c);
		c = NULL;
	}
	ft_wipe(ad, sizeof(ad));
	return c;
}

int
ft_sc_seal(const uint8_t key[FT_SC_KEYLEN], const uint8_t nonce[FT_SC_NONCELEN],
    const struct ft_sc_aad *aad, const struct ft_sc_buf *pt,
    struct ft_sc_buf *out)
{
	EVP_CIPHER_CTX *c;
	uint8_t *ct;
	int l1 = 0, l2 = 0, rc = FT_ERR_CRYPTO;

	if (pt == NULL || out == NULL || pt->len == 0 || pt->len > INT_MAX ||
	    out->len < pt->len + FT_SC_OVERHEAD)
		return FT_ERR_ARG;
	if ((c = gcm_start(key, nonce, aad, 1)) == NULL)
		return FT_ERR_CRYPTO;
	ct = out->p + FT_SC_NONCELEN;
	memcpy(out->p, nonce, FT_SC_NONCELEN);
	if (EVP_EncryptUpdate(c, ct, &l1, pt->p, (int)pt->len) == 1 &&
	    EVP_EncryptFinal_ex(c, ct + l1, &l2) == 1 &&
	    (size_t)l1 + (size_t)l2 == pt->len &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, (int)FT_SC_TAGLEN,
		ct + pt->len) == 1) {
		out->len = pt->len + FT_SC_OVERHEAD;
		rc = FT_OK;
	}
	EVP_CIPHER_CTX_free(c);
	if (rc != FT_OK)
		ft_wipe(out->p, pt->len + FT_SC_OVERHEAD);
	return rc;
}

int
ft_sc_open(const uint8_t key[FT_SC_KEYLEN], const struct ft_sc_aad *aad,
    const struct ft_sc_buf *in, struct ft_sc_buf *pt)
{
	EVP_CIPHER_CTX *c;
	uint8_t tag[FT_SC_TAGLEN];
	size_t ctlen;
	int l1 = 0, l2 = 0, rc = FT_ERR_CRYPTO;

	ft_work_note(FT_WORK_AEAD);
	if (in == NULL || pt == NULL || in->len <= FT_SC_OVERHEAD)
		return FT_ERR_PARSE;
	ctlen = in->len - FT_SC_OVERHEAD;
	if (ctlen > INT_MAX || pt->len < ctlen)
		return FT_ERR_ARG;
	if ((c = gcm_start(key, in->p, aad, 0)) == NULL)
		return FT_ERR_CRYPTO;
	memcpy(tag, in->p + FT_SC_NONCELEN + ctlen, sizeof(tag));
	if (EVP_DecryptUpdate(
		c, pt->p, &l1, in->p + FT_SC_NONCELEN, (int)ctlen) == 1 &&
	    EVP_CIPHER_CTX_ctrl(
		c, EVP_CTRL_GCM_SET_TAG, (int)sizeof(tag), tag) == 1 &&
	    EVP_DecryptFinal_ex(c, pt->p + l1, &l2) == 1 &&
	    (size_t)l1 + (size_t)l2 == ctlen) {
		pt->len = ctlen;
		rc = FT_OK;
	}
	EVP_CIPHER_CTX_free(c);
	if (rc != FT_OK)
		ft_wipe(pt->p, ctlen);
	return rc;
}
