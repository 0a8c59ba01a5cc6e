/* The trust anchors of redis_tls_ca (see redis_tls_ca.h). */
#include <config.h>

#ifdef HAVE_REDIS

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "rc.h"
#include "redis_tls_ca.h"

#define CA_INITIAL 4U /* grows by doubling: a bundle may hold hundreds */

struct ca_der {
	unsigned char *der;
	long len;
};

struct ft_redis_ca {
	struct ca_der *certs;
	size_t n, cap;
};

void
ft_redis_ca_free(struct ft_redis_ca *ca)
{
	size_t i;

	if (ca == NULL)
		return;
	for (i = 0; i < ca->n; i++)
		OPENSSL_free(ca->certs[i].der);
	free(ca->certs);
	free(ca);
}

/* The PEM labels PEM_read_bio_X509 takes. */
static bool
is_cert_label(const char *name)
{
	return strcmp(name, PEM_STRING_X509) == 0 ||
	    strcmp(name, PEM_STRING_X509_OLD) == 0;
}

static int
add_der(struct ft_redis_ca *ca, unsigned char *der, long len)
{
	struct ca_der *p;
	size_t cap;

	if (ca->n == ca->cap) {
		cap = ca->cap != 0 ? 2U * ca->cap : CA_INITIAL;
		p = realloc(ca->certs, cap * sizeof(*p));
		if (p == NULL)
			return FT_ERR_NOMEM;
		ca->certs = p;
		ca->cap = cap;
	}
	ca->certs[ca->n].der = der;
	ca->certs[ca->n].len = len;
	ca->n++;
	return FT_OK;
}

int
ft_redis_ca_from_pem(BIO *b, const char *path, struct ft_redis_ca **out,
    char *why, size_t whylen)
{
	struct ft_redis_ca *ca;
	char *name = NULL, *header = NULL;
	unsigned char *der = NULL;
	long len = 0;
	int rc = FT_OK;

	*out = NULL;
	ca = calloc(1, sizeof(*ca));
	if (ca == NULL)
		return ft_seterr(why, whylen, FT_ERR_NOMEM, "out of memory");
	while (
	    rc == FT_OK && PEM_read_bio(b, &name, &header, &der, &len) == 1) {
		if (is_cert_label(name) && len > 0) {
			rc = add_der(ca, der, len);
			if (rc == FT_OK)
				der = NULL; /* ca owns it now */
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(der);
		name = header = NULL;
		der = NULL;
	}
	ERR_clear_error(); /* the end of the file */
	if (rc == FT_OK && ca->n == 0)
		rc = ft_seterr(why, whylen, FT_ERR_PARSE,
		    "redis_tls_ca %s: no certificate in it", path);
	else if (rc != FT_OK)
		rc = ft_seterr(why, whylen, rc, "out of memory");
	if (rc != FT_OK) {
		ft_redis_ca_free(ca);
		return rc;
	}
	*out = ca;
	return FT_OK;
}

/* Is x byte for byte one of the file's certificates? */
static bool
is_anchor(const struct ft_redis_ca *ca, X509 *x)
{
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);
	bool found = false;
	size_t i;

	for (i = 0; len > 0 && i < ca->n && !found; i++)
		found = ca->certs[i].len == (long)len &&
		    memcmp(ca->certs[i].der, der, (size_t)len) == 0;
	OPENSSL_free(der);
	return found;
}

/* The certificates the server sent that are anchors into st: how many. */
static int
add_sent(const struct ft_redis_ca *ca, X509_STORE *st, STACK_OF(X509) * sent)
{
	int i, n = 0;
	X509 *x;

	for (i = 0; i < sk_X509_num(sent); i++) {
		x = sk_X509_value(sent, i);
		if (is_anchor(ca, x) && X509_STORE_add_cert(st, x) == 1)
			n++;
	}
	return n;
}

/* None was sent: decode the file's (a bad one is no anchor, as when the
 * file was read with PEM_read_bio_X509). */
static void
add_decoded(const struct ft_redis_ca *ca, X509_STORE *st)
{
	const unsigned char *p;
	X509 *x;
	size_t i;

	for (i = 0; i < ca->n; i++) {
		p = ca->certs[i].der;
		x = d2i_X509(NULL, &p, ca->certs[i].len);
		if (x != NULL)
			(void)X509_STORE_add_cert(st, x);
		X509_free(x);
	}
}

int
ft_redis_ca_verify(X509_STORE_CTX *xs, void *arg)
{
	const struct ft_redis_ca *ca = arg;
	X509_STORE *st = X509_STORE_CTX_get0_store(xs);

	if (add_sent(ca, st, X509_STORE_CTX_get0_untrusted(xs)) == 0)
		add_decoded(ca, st);
	ERR_clear_error();
	return X509_verify_cert(xs) == 1 ? 1 : 0;
}

#endif /* HAVE_REDIS */
