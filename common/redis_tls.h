/* Internal: TLS for the Redis transport (redis_conn.c), OpenSSL over a
 * BIO of ours that sends with MSG_NOSIGNAL (no SIGPIPE in the host
 * process, no signal handler).  TLS 1.2 or later; the server's certificate
 * must chain to redis_tls_ca (the system's CAs when unset) and carry the
 * expected name (a DNS name, or an IP address in its SAN); with
 * redis_tls_cert/redis_tls_key we show a client certificate.  The CA and
 * certificate files must not be writable by others than root or us, the
 * key not readable by them either.  Only with HAVE_REDIS. */
#ifndef FLOWTOTP_REDIS_TLS_H
#define FLOWTOTP_REDIS_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include "conf.h"
#include "redis_io.h"

struct ft_redis_tls;

/* Handshake on io->fd (connected) within io's deadline, verifying the
 * server as name (not NULL).  FT_OK with *out set; else FT_ERR_BACKEND
 * (why says what failed: the certificate's verify error, a TLS alert, a
 * timeout), FT_ERR_UNSAFE or FT_ERR_PARSE (a file we would not use), or
 * FT_ERR_NOMEM/FT_ERR_CRYPTO, with why set. */
int ft_redis_tls_start(const struct ft_redis_io *io, const struct ft_config *c,
    const char *name, struct ft_redis_tls **out, char *why, size_t whylen);

/* Write all of buf within io's deadline: FT_OK or FT_ERR_BACKEND (why). */
int ft_redis_tls_write(struct ft_redis_tls *t, const struct ft_redis_io *io,
    const char *buf, size_t len, char *why, size_t whylen);

/* Read up to len bytes (waiting within io's deadline): the count, 0 when
 * the server closed, -1 on error (why). */
ssize_t ft_redis_tls_read(struct ft_redis_tls *t, const struct ft_redis_io *io,
    char *buf, size_t len, char *why, size_t whylen);

/* NULL is a no-op. */
void ft_redis_tls_close(struct ft_redis_tls *t);

#endif
