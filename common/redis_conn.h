/* Internal: the Redis backend's transport.  One job: reach a server over
 * TCP, TLS or a Unix socket within a deadline, make sure it is the server
 * we mean before anything else goes out, then send pipelined RESP commands
 * and read their replies.  hiredis is used for the protocol only
 * (redisFormatCommandArgv, redisReader); the sockets and TLS are ours.
 * Only with HAVE_REDIS.
 *
 * Who the server is (checked by ft_redis_conn_open, before any command can
 * be sent):
 *   redis_socket=PATH  the socket and its directory (no symlinks) belong to
 *                      root or the redis_socket_owner account; the
 *                      directory is writable by its owner alone, the socket
 *                      not by others; SO_PEERCRED says the listener runs as
 *                      root or that account.
 *   redis_tls=yes      (the default for TCP): TLS 1.2 or later, the
 *                      server's certificate chains to redis_tls_ca and
 *                      names redis_tls_server_name (default: the host we
 *                      connect to); optional client certificate.
 *   redis_tls=no       plain TCP: nobody is authenticated; the admin asked.
 *
 * Deadlines: ft_redis_conn_open has redis_timeout_ms for name lookup (a
 * numeric address needs none), connect and TLS handshake together; each
 * ft_redis_conn_exchange has redis_timeout_ms of its own.  After the first
 * I/O error or timeout the connection is broken: every later call fails at
 * once, so a dead server costs one timeout, not several.
 *
 * No SIGPIPE: plain sockets write with MSG_NOSIGNAL, and TLS goes through
 * a BIO of ours that does the same.  Every byte we formatted (commands may
 * hold the password) is wiped before it is freed.  Error texts never hold
 * a command's arguments. */
#ifndef FLOWTOTP_REDIS_CONN_H
#define FLOWTOTP_REDIS_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include <hiredis/hiredis.h>

#include "conf.h"

struct ft_redis_conn;

/* Where to connect, when not where the configuration says: for a server
 * learned at run time (Sentinel's answer, a Cluster redirect).  The TLS
 * settings stay the configuration's.  NULL fields fall back to c. */
struct ft_redis_target {
	const char *host;	 /* TCP host name or address (not a socket) */
	unsigned port;		 /* with host */
	const char *server_name; /* the name the certificate must carry;
				    NULL: redis_tls_server_name if set, else
				    host */
};

/* Connect and authenticate the server (not ourselves: AUTH is a command
 * the caller sends).  t NULL: c's redis_socket if set, else redis_host and
 * redis_port.  FT_OK with *out set; FT_ERR_BACKEND (unreachable, timed
 * out, TLS or identity check failed: the message says which), FT_ERR_PARSE
 * (a transport option that cannot work, e.g. redis_tls_cert without
 * redis_tls_key), FT_ERR_NOMEM, FT_ERR_CRYPTO. */
int ft_redis_conn_open(const struct ft_config *c,
    const struct ft_redis_target *t, struct ft_redis_conn **out, char *err,
    size_t errlen);

/* Queue one command (argv[i] of argvlen[i] bytes; argvlen NULL: strlen)
 * for the next exchange.  Nothing is sent yet. */
int ft_redis_conn_append(struct ft_redis_conn *k, int argc, const char **argv,
    const size_t *argvlen, char *err, size_t errlen);

/* Send everything queued in one write and read n replies (n may exceed
 * what was queued now, for replies still owed), all within one deadline.
 * On FT_OK reps[0..n) are set, error replies included (caller frees with
 * freeReplyObject); else none are set and the connection is broken.  what
 * names the exchange in messages. */
int ft_redis_conn_exchange(struct ft_redis_conn *k, const char *what,
    redisReply **reps, size_t n, char *err, size_t errlen);

/* "host:port", "host:port (TLS)" or the socket path, for messages. */
const char *ft_redis_conn_where(const struct ft_redis_conn *k);

/* Did an exchange fail (the connection is unusable)? */
bool ft_redis_conn_broken(const struct ft_redis_conn *k);

/* Close and free; wipes what was queued.  NULL is a no-op. */
void ft_redis_conn_close(struct ft_redis_conn *k);

#endif
