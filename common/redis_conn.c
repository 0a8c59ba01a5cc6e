/* The Redis backend's transport (see redis_conn.h): sockets, the identity
 * of the server, TLS, deadlines; hiredis only formats and parses RESP. */
#include <config.h>

#ifdef HAVE_REDIS

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "rc.h"
#include "redis_conn.h"
#include "redis_io.h"
#include "redis_tls.h"
#include "wipe.h"

#define WHERE_MAX 320U	       /* "host:port (TLS)" for messages */
#define PORT_BUFSZ 8U	       /* "65535" and NUL */
#define READ_CHUNK 16384U      /* bytes per read */
#define OUT_INITIAL 1024U      /* a login's pipeline fits; grows if not */
#define REPLY_BYTES_MAX 65536U /* no reply of ours is near this */
#define PW_BUF_SIZE 16384U     /* getpwnam_r scratch */
#define DIR_WRITE_BITS (S_IWGRP | S_IWOTH)
#define OTHER_WRITE_BIT S_IWOTH
#define PERM_BITS (S_IRWXU | S_IRWXG | S_IRWXO)

struct ft_redis_conn {
	struct ft_redis_io io;
	struct ft_redis_tls *tls; /* NULL: plain TCP or the socket */
	redisReader *reader;
	char *out; /* queued commands, wiped when sent or freed */
	size_t outlen, outcap;
	bool broken;
	char where[WHERE_MAX];
};

/* ---- errors ---- */

static int
fail(struct ft_redis_conn *k, const char *what, const char *why, char *err,
    size_t errlen)
{
	k->broken = true;
	return ft_seterr(err, errlen, FT_ERR_BACKEND, "Redis %s: %s: %s",
	    k->where, what, why);
}

/* A wait that did not end ready: a timeout, or poll's error. */
static int
fail_wait(
    struct ft_redis_conn *k, const char *what, int w, char *err, size_t errlen)
{
	char why[64];

	ft_redis_io_why(&k->io, w, why, sizeof(why));
	return fail(k, what, why, err, errlen);
}

/* ---- connecting a socket ---- */

/* Finish a non-blocking connect within the deadline. */
static int
finish_connect(struct ft_redis_conn *k, int rc, char *why, size_t whylen)
{
	int e = 0, w;
	socklen_t elen = sizeof(e);

	if (rc == 0)
		return FT_OK;
	if (errno != EINPROGRESS && errno != EINTR) {
		(void)snprintf(why, whylen, "%s", strerror(errno));
		return FT_ERR_BACKEND;
	}
	w = ft_redis_io_wait(&k->io, POLLOUT);
	if (w <= 0) {
		(void)snprintf(
		    why, whylen, "%s", w < 0 ? strerror(errno) : "timed out");
		return FT_ERR_BACKEND;
	}
	if (getsockopt(k->io.fd, SOL_SOCKET, SO_ERROR, &e, &elen) != 0)
		e = errno;
	if (e != 0) {
		(void)snprintf(why, whylen, "%s", strerror(e));
		return FT_ERR_BACKEND;
	}
	return FT_OK;
}

static int
try_addr(struct ft_redis_conn *k, const struct sockaddr *sa, socklen_t salen,
    int family, char *why, size_t whylen)
{
	const int one = 1;
	int rc;

	k->io.fd =
	    socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (k->io.fd < 0) {
		(void)snprintf(why, whylen, "socket: %s", strerror(errno));
		return FT_ERR_BACKEND;
	}
	rc = finish_connect(k, connect(k->io.fd, sa, salen), why, whylen);
	/* The pipeline goes out in one write; never let Nagle hold it. */
	if (rc == FT_OK && family != AF_UNIX &&
	    setsockopt(k->io.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) !=
		0) {
		(void)snprintf(why, whylen, "TCP_NODELAY: %s", strerror(errno));
		rc = FT_ERR_BACKEND;
	}
	if (rc != FT_OK) {
		(void)close(k->io.fd);
		k->io.fd = -1;
	}
	return rc;
}

/* An IPv4 or IPv6 literal into *ss: no resolver, no files read (a
 * fleet's redis_host is usually an address).  false: a name. */
static bool
numeric_addr(const char *host, unsigned port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof(*v4);
		return true;
	}
	/* A scoped address (fe80::1%eth0) needs getaddrinfo. */
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*v6);
		return true;
	}
	return false;
}

static int
tcp_connect(struct ft_redis_conn *k, const char *host, unsigned port, char *err,
    size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	char sport[PORT_BUFSZ], why[FT_CONF_STR_MAX] = "no address";
	int g, rc = FT_ERR_BACKEND;

	if (numeric_addr(host, port, &ss, &sslen)) {
		rc = try_addr(k, (const struct sockaddr *)&ss, sslen,
		    ss.ss_family, why, sizeof(why));
		return rc == FT_OK ? FT_OK
				   : fail(k, "connect", why, err, errlen);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	(void)snprintf(sport, sizeof(sport), "%u", port);
	g = getaddrinfo(host, sport, &hints, &res);
	if (g != 0)
		return fail(k, "resolve", gai_strerror(g), err, errlen);
	for (ai = res; ai != NULL && rc != FT_OK; ai = ai->ai_next)
		rc = try_addr(k, ai->ai_addr, ai->ai_addrlen, ai->ai_family,
		    why, sizeof(why));
	freeaddrinfo(res);
	if (rc != FT_OK)
		return fail(k, "connect", why, err, errlen);
	return FT_OK;
}

/* ---- the unix socket's identity ---- */

/* The uid redis_socket_owner names; *found false when no such account
 * (then root alone is trusted). */
static int
owner_uid(const char *name, uid_t *uid, bool *found, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char *buf;
	int e;

	*found = false;
	buf = malloc(PW_BUF_SIZE);
	if (buf == NULL)
		return ft_seterr(err, errlen, FT_ERR_NOMEM, "out of memory");
	e = getpwnam_r(name, &pw, buf, PW_BUF_SIZE, &res);
	if (e == 0 && res != NULL) {
		*uid = pw.pw_uid;
		*found = true;
	}
	free(buf);
	if (e != 0 && e != ENOENT && e != ESRCH)
		return ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "redis_socket_owner %s: account lookup failed: %s", name,
		    strerror(e));
	return FT_OK;
}

struct trusted {
	uid_t uid;
	bool have;   /* else only root */
	bool looked; /* owner_uid ran */
	const char *name;
};

/* Is uid root's or redis_socket_owner's?  The account is looked up the
 * first time a uid other than root's is seen: a server that runs as root
 * costs no lookup through NSS. */
static int
is_trusted(struct trusted *t, uid_t uid, bool *ok, char *err, size_t errlen)
{
	int rc;

	*ok = uid == 0;
	if (*ok)
		return FT_OK;
	if (!t->looked) {
		rc = owner_uid(t->name, &t->uid, &t->have, err, errlen);
		if (rc != FT_OK)
			return rc;
		t->looked = true;
	}
	*ok = t->have && uid == t->uid;
	return FT_OK;
}

/* What one file on the way to the socket must be. */
struct node_rule {
	const char *path;
	mode_t type; /* S_IFDIR or S_IFSOCK */
	mode_t bad;  /* mode bits it must not have */
};

/* lstat the path: of the rule's type, owner trusted, no bad mode bits. */
static int
check_node(struct ft_redis_conn *k, const struct node_rule *n,
    struct trusted *t, char *err, size_t errlen)
{
	const char *path = n->path;
	const mode_t type = n->type, bad = n->bad;
	struct stat st;
	char why[FT_CONF_STR_MAX + 64U];
	bool ok = false;
	int rc;

	if (lstat(path, &st) != 0)
		(void)snprintf(
		    why, sizeof(why), "%s: %s", path, strerror(errno));
	else if ((st.st_mode & S_IFMT) != type)
		(void)snprintf(why, sizeof(why), "%s: not a %s (symlink?)",
		    path, type == S_IFDIR ? "directory" : "socket");
	else if ((rc = is_trusted(t, st.st_uid, &ok, err, errlen)) != FT_OK)
		return rc;
	else if (!ok)
		(void)snprintf(why, sizeof(why),
		    "%s: owned by uid %u, not root or %s", path,
		    (unsigned)st.st_uid, t->name);
	else if ((st.st_mode & bad) != 0)
		(void)snprintf(why, sizeof(why),
		    "%s: mode %03o is writable by %s", path,
		    (unsigned)(st.st_mode & PERM_BITS),
		    (bad & S_IWGRP) != 0 ? "group or others" : "others");
	else
		return FT_OK;
	return fail(k, "socket refused", why, err, errlen);
}

/* The socket and its directory, before connecting. */
static int
check_socket_path(struct ft_redis_conn *k, const char *path, struct trusted *t,
    char *err, size_t errlen)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	const struct node_rule d = {dir, S_IFDIR, DIR_WRITE_BITS};
	const struct node_rule sock = {path, S_IFSOCK, OTHER_WRITE_BIT};
	size_t n;
	int rc;

	if (path[0] != '/' || slash == NULL || slash[1] == '\0')
		return ft_seterr(err, errlen, FT_ERR_PARSE,
		    "redis_socket: must be an absolute path to a socket");
	n = slash == path ? 1U : (size_t)(slash - path);
	if (n >= sizeof(dir))
		return ft_seterr(
		    err, errlen, FT_ERR_PARSE, "redis_socket: path too long");
	memcpy(dir, path, n);
	dir[n] = '\0';
	rc = check_node(k, &d, t, err, errlen);
	if (rc == FT_OK)
		rc = check_node(k, &sock, t, err, errlen);
	return rc;
}

/* Who listens: the file may have been swapped since lstat. */
static int
check_peer(struct ft_redis_conn *k, struct trusted *t, char *err, size_t errlen)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	char why[FT_CONF_STR_MAX + 64U];
	bool ok = false;
	int rc;

	if (getsockopt(k->io.fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
		return fail(k, "SO_PEERCRED", strerror(errno), err, errlen);
	if ((rc = is_trusted(t, cr.uid, &ok, err, errlen)) != FT_OK || ok)
		return rc;
	(void)snprintf(why, sizeof(why),
	    "the server runs as uid %u, not root or %s", (unsigned)cr.uid,
	    t->name);
	return fail(k, "socket refused", why, err, errlen);
}

static int
unix_connect(struct ft_redis_conn *k, const struct ft_config *c, char *err,
    size_t errlen)
{
	struct sockaddr_un sun;
	struct trusted t = {.name = c->redis_socket_owner};
	char why[FT_CONF_STR_MAX];
	int rc;

	if (strlen(c->redis_socket) >= sizeof(sun.sun_path))
		return ft_seterr(err, errlen, FT_ERR_PARSE,
		    "redis_socket: longer than %zu bytes",
		    sizeof(sun.sun_path) - 1U);
	if ((rc = check_socket_path(k, c->redis_socket, &t, err, errlen)) !=
	    FT_OK)
		return rc;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, c->redis_socket, strlen(c->redis_socket) + 1U);
	rc = try_addr(k, (const struct sockaddr *)&sun, sizeof(sun), AF_UNIX,
	    why, sizeof(why));
	if (rc != FT_OK)
		return fail(k, "connect", why, err, errlen);
	return check_peer(k, &t, err, errlen);
}

/* ---- opening ---- */

static int
set_where(struct ft_redis_conn *k, const struct ft_config *c, const char *host,
    unsigned port, bool tls)
{
	int n;

	if (host == NULL)
		n = snprintf(k->where, sizeof(k->where), "%s", c->redis_socket);
	else
		n = snprintf(k->where, sizeof(k->where), "%s:%u%s", host, port,
		    tls ? " (TLS)" : "");
	return n < 0 || (size_t)n >= sizeof(k->where) ? FT_ERR_ARG : FT_OK;
}

static int
conn_new(const struct ft_config *c, struct ft_redis_conn **out, char *err,
    size_t errlen)
{
	struct ft_redis_conn *k;

	*out = NULL;
	if ((c->redis_tls_cert[0] == '\0') != (c->redis_tls_key[0] == '\0'))
		return ft_seterr(err, errlen, FT_ERR_PARSE,
		    "redis_tls_cert and redis_tls_key go together");
	k = calloc(1, sizeof(*k));
	if (k == NULL)
		return ft_seterr(err, errlen, FT_ERR_NOMEM, "out of memory");
	k->io.fd = -1;
	k->io.timeout_ms = (long)c->redis_timeout_ms;
	k->reader = redisReaderCreate();
	if (k->reader == NULL) {
		free(k);
		return ft_seterr(err, errlen, FT_ERR_NOMEM, "out of memory");
	}
	*out = k;
	return FT_OK;
}

/* The name the certificate must carry: the target's, else
 * redis_tls_server_name, else the host we connect to. */
static int
start_tls(struct ft_redis_conn *k, const struct ft_config *c,
    const struct ft_redis_target *t, const char *host, char *err, size_t errlen)
{
	const char *name = host;
	char why[FT_CONF_STR_MAX + 64U];
	int rc;

	if (t != NULL && t->server_name != NULL)
		name = t->server_name;
	else if (c->redis_tls_server_name[0] != '\0')
		name = c->redis_tls_server_name;
	why[0] = '\0';
	rc = ft_redis_tls_start(&k->io, c, name, &k->tls, why, sizeof(why));
	if (rc == FT_OK)
		return FT_OK;
	k->broken = true;
	/* why names the step: "TLS handshake: certificate refused: ..." */
	return ft_seterr(err, errlen, rc, "Redis %s: %s", k->where, why);
}

int
ft_redis_conn_open(const struct ft_config *c, const struct ft_redis_target *t,
    struct ft_redis_conn **out, char *err, size_t errlen)
{
	const bool sock = t == NULL && c->redis_socket[0] != '\0';
	const char *host = t != NULL ? t->host : c->redis_host;
	const unsigned port = t != NULL ? t->port : c->redis_port;
	const bool tls = !sock && c->redis_tls;
	struct ft_redis_conn *k = NULL;
	int rc;

	*out = NULL;
	if ((rc = conn_new(c, &k, err, errlen)) != FT_OK)
		return rc;
	if (set_where(k, c, sock ? NULL : host, port, tls) != FT_OK) {
		rc = ft_seterr(err, errlen, FT_ERR_ARG, "redis_host too long");
		goto out;
	}
	ft_redis_io_start(&k->io);
	if (sock)
		rc = unix_connect(k, c, err, errlen);
	else if (host == NULL || host[0] == '\0' || host[0] == '/')
		rc = ft_seterr(err, errlen, FT_ERR_PARSE,
		    "redis_host: a host name or address (a socket goes in "
		    "redis_socket=)");
	else
		rc = tcp_connect(k, host, port, err, errlen);
	if (rc == FT_OK && tls)
		rc = start_tls(k, c, t, host, err, errlen);
out:
	if (rc != FT_OK) {
		ft_redis_conn_close(k);
		return rc;
	}
	*out = k;
	return FT_OK;
}

/* ---- commands ---- */

static int
grow(struct ft_redis_conn *k, size_t more)
{
	/* Small: the whole buffer is wiped when freed. */
	size_t cap = k->outcap != 0 ? k->outcap : OUT_INITIAL;
	char *p;

	if (more > SIZE_MAX / 2U - k->outlen)
		return FT_ERR_TOOBIG;
	while (cap < k->outlen + more)
		cap *= 2U;
	if (cap == k->outcap)
		return FT_OK;
	/* No realloc: the old copy may hold the password. */
	p = malloc(cap);
	if (p == NULL)
		return FT_ERR_NOMEM;
	if (k->outlen > 0)
		memcpy(p, k->out, k->outlen);
	if (k->out != NULL)
		ft_wipe_free(k->out, k->outcap);
	k->out = p;
	k->outcap = cap;
	return FT_OK;
}

int
ft_redis_conn_append(struct ft_redis_conn *k, int argc, const char **argv,
    const size_t *argvlen, char *err, size_t errlen)
{
	char *cmd = NULL;
	int len, rc;

	if (k->broken)
		return ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "Redis %s: connection lost earlier", k->where);
	len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
	if (len < 0 || cmd == NULL)
		return ft_seterr(err, errlen, FT_ERR_NOMEM, "out of memory");
	rc = grow(k, (size_t)len);
	if (rc == FT_OK) {
		memcpy(k->out + k->outlen, cmd, (size_t)len);
		k->outlen += (size_t)len;
	}
	ft_wipe(cmd, (size_t)len);
	free(cmd);
	if (rc != FT_OK)
		return ft_seterr(err, errlen, rc, "out of memory");
	return FT_OK;
}

/* Plain: send all of out with MSG_NOSIGNAL. */
static int
send_plain(struct ft_redis_conn *k, const char *what, char *err, size_t errlen)
{
	size_t off = 0;
	ssize_t n;
	int w;

	while (off < k->outlen) {
		n = send(k->io.fd, k->out + off, k->outlen - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return fail(k, what, strerror(errno), err, errlen);
		if ((w = ft_redis_io_wait(&k->io, POLLOUT)) <= 0)
			return fail_wait(k, what, w, err, errlen);
	}
	return FT_OK;
}

static ssize_t
tls_read(struct ft_redis_conn *k, const char *what, char *buf, size_t len,
    char *err, size_t errlen)
{
	char why[FT_CONF_STR_MAX];
	ssize_t n;

	n = ft_redis_tls_read(k->tls, &k->io, buf, len, why, sizeof(why));
	if (n < 0)
		(void)fail(k, what, why, err, errlen);
	return n;
}

/* One read into buf: bytes, 0 at the peer's end, -1 error (err set). */
static ssize_t
read_some(struct ft_redis_conn *k, const char *what, char *buf, size_t len,
    char *err, size_t errlen)
{
	ssize_t n;
	int w;

	for (;;) {
		if (k->tls != NULL)
			return tls_read(k, what, buf, len, err, errlen);
		n = recv(k->io.fd, buf, len, 0);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return fail(k, what, strerror(errno), err, errlen);
		if ((w = ft_redis_io_wait(&k->io, POLLIN)) <= 0)
			return fail_wait(k, what, w, err, errlen);
	}
}

static int
read_replies(struct ft_redis_conn *k, const char *what, redisReply **reps,
    size_t n, char *err, size_t errlen)
{
	char buf[READ_CHUNK];
	size_t got = 0, total = 0;
	void *rep;
	ssize_t r;

	while (got < n) {
		rep = NULL;
		if (redisReaderGetReply(k->reader, &rep) != REDIS_OK)
			return fail(k, what, "protocol error in the reply", err,
			    errlen);
		if (rep != NULL) {
			reps[got++] = rep;
			continue;
		}
		r = read_some(k, what, buf, sizeof(buf), err, errlen);
		if (r < 0)
			return FT_ERR_BACKEND;
		if (r == 0)
			return fail(k, what, "connection closed by the server",
			    err, errlen);
		total += (size_t)r;
		if (total > REPLY_BYTES_MAX ||
		    redisReaderFeed(k->reader, buf, (size_t)r) != REDIS_OK)
			return fail(k, what, "reply too long or malformed", err,
			    errlen);
	}
	return FT_OK;
}

int
ft_redis_conn_exchange(struct ft_redis_conn *k, const char *what,
    redisReply **reps, size_t n, char *err, size_t errlen)
{
	char why[FT_CONF_STR_MAX];
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		reps[i] = NULL;
	if (k->broken)
		return ft_seterr(err, errlen, FT_ERR_BACKEND,
		    "Redis %s: connection lost earlier", k->where);
	ft_redis_io_start(&k->io);
	if (k->tls != NULL) {
		why[0] = '\0';
		rc = ft_redis_tls_write(
		    k->tls, &k->io, k->out, k->outlen, why, sizeof(why));
		if (rc != FT_OK)
			rc = fail(k, what, why, err, errlen);
	} else
		rc = send_plain(k, what, err, errlen);
	ft_wipe(k->out, k->outlen);
	k->outlen = 0;
	if (rc == FT_OK)
		rc = read_replies(k, what, reps, n, err, errlen);
	if (rc != FT_OK) {
		k->broken = true;
		for (i = 0; i < n; i++) {
			freeReplyObject(reps[i]);
			reps[i] = NULL;
		}
	}
	return rc;
}

/* ---- the rest of the interface ---- */

const char *
ft_redis_conn_where(const struct ft_redis_conn *k)
{
	return k->where;
}

bool
ft_redis_conn_broken(const struct ft_redis_conn *k)
{
	return k->broken;
}

void
ft_redis_conn_close(struct ft_redis_conn *k)
{
	if (k == NULL)
		return;
	ft_redis_tls_close(k->tls);
	if (k->io.fd >= 0)
		(void)close(k->io.fd);
	if (k->out != NULL)
		ft_wipe_free(k->out, k->outcap);
	if (k->reader != NULL)
		redisReaderFree(k->reader);
	free(k);
}

#endif /* HAVE_REDIS */
