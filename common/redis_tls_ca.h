/* Internal: the trust anchors of redis_tls_ca for one TLS connection
 * (redis_tls.c).  Decoding an X.509 certificate costs OpenSSL 3.0 about
 * as much as the rest of a handshake's certificate work together (its
 * public key goes through the provider decoders), and a server usually
 * sends its CA along with its own certificate.  So the file's
 * certificates are kept as DER bytes, undecoded; at verification a
 * certificate the server sent that is byte for byte one of them becomes
 * the anchor (it is that certificate), and only when none is the file's
 * certificates are decoded.  The anchors are exactly the file's either
 * way.  Only with HAVE_REDIS. */
#ifndef FLOWTOTP_REDIS_TLS_CA_H
#define FLOWTOTP_REDIS_TLS_CA_H

#include <stddef.h>

#include <openssl/bio.h>
#include <openssl/x509.h>

struct ft_redis_ca;

/* Every CERTIFICATE block of the PEM text in b (other blocks are skipped,
 * as PEM_read_bio_X509 does).  FT_OK with *out set; FT_ERR_PARSE (with
 * why) when there is none; FT_ERR_NOMEM. */
int ft_redis_ca_from_pem(BIO *b, const char *path, struct ft_redis_ca **out,
    char *why, size_t whylen);

/* The certificate verification of one handshake
 * (SSL_CTX_set_cert_verify_callback, arg the ft_redis_ca): puts the
 * anchors into xs's store as described above, then X509_verify_cert.
 * 1 verified, else 0 with xs's error set. */
int ft_redis_ca_verify(X509_STORE_CTX *xs, void *arg);

/* NULL is a no-op. */
void ft_redis_ca_free(struct ft_redis_ca *ca);

#endif
