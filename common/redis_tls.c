/* TLS for the Redis transport (see redis_tls.h). */
#include <config.h>

#ifdef HAVE_REDIS

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "rc.h"
#include "redis_tls.h"
#include "redis_tls_ca.h"
#include "safefile.h"
#include "wipe.h"

#define PEM_MAX_SIZE (1024U * 1024U) /* a CA bundle fits */
#define PUBLIC_FORBIDDEN_MODE 022    /* CA, certificate: no one else writes */
#define KEY_FORBIDDEN_MODE 077	     /* key: no one else reads */
#define ERRBUF 256U
/* Key exchange: X25519 first (one key share in the ClientHello, so TLS
 * 1.3 needs one round trip), P-256 for servers without it (FIPS); the
 * slow ones (X448, P-521, finite-field groups) are not offered. */
#define TLS_GROUPS "X25519:P-256:P-384"

struct ft_redis_tls {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	struct ft_redis_ca *ca; /* redis_tls_ca's certificates, or NULL */
	BIO_METHOD *meth;	/* ours, per connection: no global state */
};

/* ---- a socket BIO that cannot raise SIGPIPE ---- */

static int
bio_write(BIO *b, const char *buf, int len)
{
	const struct ft_redis_tls *t = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = send(t->fd, buf, (size_t)len, MSG_NOSIGNAL);
	if (n < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		BIO_set_retry_write(b);
	return (int)n;
}

static int
bio_read(BIO *b, char *buf, int len)
{
	const struct ft_redis_tls *t = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = recv(t->fd, buf, (size_t)len, 0);
	if (n < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		BIO_set_retry_read(b);
	return (int)n;
}

static long
bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	/* Nothing is buffered here: a flush has nothing to do. */
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int
make_bio(struct ft_redis_tls *t)
{
	BIO *b;

	t->meth = BIO_meth_new(
	    BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "flowtotp-redis");
	if (t->meth == NULL || BIO_meth_set_write(t->meth, bio_write) != 1 ||
	    BIO_meth_set_read(t->meth, bio_read) != 1 ||
	    BIO_meth_set_ctrl(t->meth, bio_ctrl) != 1)
		return FT_ERR_CRYPTO;
	b = BIO_new(t->meth);
	if (b == NULL)
		return FT_ERR_CRYPTO;
	BIO_set_data(b, t);
	BIO_set_init(b, 1);
	SSL_set_bio(t->ssl, b, b);
	return FT_OK;
}

/* ---- messages ---- */

/* Why an SSL call failed: the certificate check, OpenSSL's error, or the
 * socket's. */
static void
tls_why(const struct ft_redis_tls *t, const char *what, int ret, char *why,
    size_t whylen)
{
	char buf[ERRBUF];
	unsigned long e;
	long v = X509_V_OK;

	if (t->ssl != NULL)
		v = SSL_get_verify_result(t->ssl);
	e = ERR_peek_last_error();
	if (v != X509_V_OK)
		(void)snprintf(why, whylen, "%s: certificate refused: %s", what,
		    X509_verify_cert_error_string(v));
	else if (e != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		(void)snprintf(why, whylen, "%s: %s", what, buf);
	} else if (ret == 0 || errno == 0)
		(void)snprintf(why, whylen, "%s: connection closed", what);
	else
		(void)snprintf(why, whylen, "%s: %s", what, strerror(errno));
	ERR_clear_error();
}

/* ---- files ---- */

/* A PEM file into a memory BIO.  It may be a key: our buffer is wiped
 * here, and the BIO's copy by OpenSSL when it is freed (BUF_MEM_free
 * clears what it frees). */
static int
read_pem(
    const char *path, mode_t forbidden, BIO **out, char *why, size_t whylen)
{
	const struct ft_file_policy pol = {.owner = geteuid(),
	    .allow_root = true,
	    .forbidden_mode = forbidden,
	    .max_size = PEM_MAX_SIZE};
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = ft_safe_read(path, &pol, &buf, &len, why, whylen);
	if (rc != FT_OK)
		return rc;
	*out = BIO_new(BIO_s_mem());
	if (*out == NULL || BIO_write(*out, buf, (int)len) != (int)len) {
		BIO_free(*out);
		*out = NULL;
		rc = ft_seterr(why, whylen, FT_ERR_NOMEM, "out of memory");
	}
	ft_wipe_free(buf, len);
	return rc;
}

/* redis_tls_ca: its certificates stay undecoded until the handshake
 * needs them (redis_tls_ca.h); unset: the system's CAs. */
static int
load_ca(struct ft_redis_tls *t, const char *path, char *why, size_t whylen)
{
	BIO *b = NULL;
	int rc;

	if (path[0] == '\0')
		return SSL_CTX_set_default_verify_paths(t->ctx) == 1
		    ? FT_OK
		    : ft_seterr(why, whylen, FT_ERR_CRYPTO,
			  "the system's CA certificates cannot be loaded");
	if ((rc = read_pem(path, PUBLIC_FORBIDDEN_MODE, &b, why, whylen)) !=
	    FT_OK)
		return rc;
	rc = ft_redis_ca_from_pem(b, path, &t->ca, why, whylen);
	BIO_free(b);
	if (rc == FT_OK)
		SSL_CTX_set_cert_verify_callback(
		    t->ctx, ft_redis_ca_verify, t->ca);
	return rc;
}

static int
load_client(SSL_CTX *ctx, const struct ft_config *c, char *why, size_t whylen)
{
	BIO *b = NULL;
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	int rc;

	if (c->redis_tls_cert[0] == '\0')
		return FT_OK;
	if ((rc = read_pem(c->redis_tls_cert, PUBLIC_FORBIDDEN_MODE, &b, why,
		 whylen)) != FT_OK)
		return rc;
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	b = NULL;
	if (x == NULL || SSL_CTX_use_certificate(ctx, x) != 1)
		rc = ft_seterr(why, whylen, FT_ERR_PARSE,
		    "redis_tls_cert %s: not a usable PEM certificate",
		    c->redis_tls_cert);
	if (rc == FT_OK &&
	    (rc = read_pem(c->redis_tls_key, KEY_FORBIDDEN_MODE, &b, why,
		 whylen)) == FT_OK) {
		k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		if (k == NULL || SSL_CTX_use_PrivateKey(ctx, k) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1)
			rc = ft_seterr(why, whylen, FT_ERR_PARSE,
			    "redis_tls_key %s: not the key of redis_tls_cert",
			    c->redis_tls_key);
	}
	BIO_free(b);
	EVP_PKEY_free(k);
	X509_free(x);
	ERR_clear_error();
	return rc;
}

/* ---- setting up ---- */

static int
make_ctx(
    struct ft_redis_tls *t, const struct ft_config *c, char *why, size_t whylen)
{
	int rc;

	t->ctx = SSL_CTX_new(TLS_client_method());
	if (t->ctx == NULL ||
	    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set1_groups_list(t->ctx, TLS_GROUPS) != 1)
		return ft_seterr(
		    why, whylen, FT_ERR_CRYPTO, "TLS: OpenSSL context failed");
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	/* One connection per login: a session cache would be state kept
	 * in the host process. */
	(void)SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
	if ((rc = load_ca(t, c->redis_tls_ca, why, whylen)) != FT_OK ||
	    (rc = load_client(t->ctx, c, why, whylen)) != FT_OK)
		return rc;
	return FT_OK;
}

static bool
is_ip(const char *name)
{
	unsigned char a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, name, a) == 1 ||
	    inet_pton(AF_INET6, name, a) == 1;
}

/* The name the certificate must carry; SNI for a DNS name only (RFC 6066
 * has no IP addresses in it). */
static int
make_ssl(struct ft_redis_tls *t, const char *name, char *why, size_t whylen)
{
	X509_VERIFY_PARAM *vp;
	bool ok;

	t->ssl = SSL_new(t->ctx);
	if (t->ssl == NULL || make_bio(t) != FT_OK)
		return ft_seterr(why, whylen, FT_ERR_CRYPTO,
		    "TLS: OpenSSL connection failed");
	vp = SSL_get0_param(t->ssl);
	if (is_ip(name))
		ok = X509_VERIFY_PARAM_set1_ip_asc(vp, name) == 1;
	else {
		X509_VERIFY_PARAM_set_hostflags(
		    vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		ok = SSL_set1_host(t->ssl, name) == 1 &&
		    SSL_set_tlsext_host_name(t->ssl, name) == 1;
	}
	if (!ok)
		return ft_seterr(why, whylen, FT_ERR_PARSE,
		    "TLS: server name %s not usable", name);
	return FT_OK;
}

/* Wait for what an SSL call wants; FT_OK to call it again. */
static int
want(const struct ft_redis_tls *t, const struct ft_redis_io *io,
    const char *what, int ret, char *why, size_t whylen)
{
	int e = SSL_get_error(t->ssl, ret), w;

	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
		tls_why(t, what, ret, why, whylen);
		return FT_ERR_BACKEND;
	}
	w = ft_redis_io_wait(io, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT);
	if (w == 1)
		return FT_OK;
	ft_redis_io_why(io, w, why, whylen);
	return FT_ERR_BACKEND;
}

static int
handshake(struct ft_redis_tls *t, const struct ft_redis_io *io, char *why,
    size_t whylen)
{
	int ret, rc;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		ret = SSL_connect(t->ssl);
		if (ret == 1)
			break;
		if ((rc = want(t, io, "TLS handshake", ret, why, whylen)) !=
		    FT_OK)
			return rc;
	}
	/* SSL_VERIFY_PEER already refused a bad chain; be explicit anyway. */
	if (SSL_get_verify_result(t->ssl) != X509_V_OK ||
	    SSL_get0_peer_certificate(t->ssl) == NULL) {
		tls_why(t, "TLS handshake", 1, why, whylen);
		return FT_ERR_BACKEND;
	}
	return FT_OK;
}

int
ft_redis_tls_start(const struct ft_redis_io *io, const struct ft_config *c,
    const char *name, struct ft_redis_tls **out, char *why, size_t whylen)
{
	struct ft_redis_tls *t;
	int rc;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return ft_seterr(why, whylen, FT_ERR_NOMEM, "out of memory");
	t->fd = io->fd;
	ERR_clear_error();
	if ((rc = make_ctx(t, c, why, whylen)) == FT_OK &&
	    (rc = make_ssl(t, name, why, whylen)) == FT_OK)
		rc = handshake(t, io, why, whylen);
	if (rc != FT_OK) {
		ft_redis_tls_close(t);
		return rc;
	}
	*out = t;
	return FT_OK;
}

/* ---- data ---- */

int
ft_redis_tls_write(struct ft_redis_tls *t, const struct ft_redis_io *io,
    const char *buf, size_t len, char *why, size_t whylen)
{
	size_t off = 0;
	int n, rc, chunk;

	while (off < len) {
		chunk = len - off > INT_MAX ? INT_MAX : (int)(len - off);
		ERR_clear_error();
		errno = 0;
		n = SSL_write(t->ssl, buf + off, chunk);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if ((rc = want(t, io, "send", n, why, whylen)) != FT_OK)
			return rc;
	}
	return FT_OK;
}

ssize_t
ft_redis_tls_read(struct ft_redis_tls *t, const struct ft_redis_io *io,
    char *buf, size_t len, char *why, size_t whylen)
{
	int n, chunk = len > INT_MAX ? INT_MAX : (int)len;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		n = SSL_read(t->ssl, buf, chunk);
		if (n > 0)
			return n;
		if (SSL_get_error(t->ssl, n) == SSL_ERROR_ZERO_RETURN)
			return 0;
		if (want(t, io, "receive", n, why, whylen) != FT_OK)
			return -1;
	}
}

void
ft_redis_tls_close(struct ft_redis_tls *t)
{
	if (t == NULL)
		return;
	/* No close_notify: the socket closes next, and a shutdown could
	 * block or raise SIGPIPE on a dead peer. */
	SSL_free(t->ssl); /* frees the BIO too */
	SSL_CTX_free(t->ctx);
	ft_redis_ca_free(t->ca);
	BIO_meth_free(t->meth);
	ERR_clear_error();
	free(t);
}

#endif /* HAVE_REDIS */
