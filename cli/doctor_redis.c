/* totp-enroll doctor: the Redis cache (cache=redis).  The server is reached
 * and authenticated exactly as the module does it (ft_state_open with the
 * parsed configuration), then two of its settings are read: an eviction
 * policy may drop replay and lockout records (a used code works again, a
 * locked user is unlocked), and without persistence a restart forgets the
 * lockouts.  The password is only ever read by the state layer; no message
 * here can hold it. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"
#include "rc.h"
#include "state.h"
#ifdef HAVE_REDIS
#include "state_redis.h"
#endif

#define VALUE_MAX 256U /* a maxmemory-policy, a save schedule */

#ifndef HAVE_REDIS
static const struct doc_kind k_unsupported = {"redis-unsupported", DOC_INFO,
    "build flowtotp with --with-redis (hiredis): a module built without it "
    "refuses cache=redis, and this doctor cannot check the server"};
#else
static const struct doc_kind k_reachable = {"redis-reachable", DOC_INFO, ""};
static const struct doc_kind k_topology = {"redis-topology", DOC_INFO, ""};
static const struct doc_kind k_unreachable = {"redis-unreachable", DOC_ERROR,
    "start the Redis server, or correct redis_host/redis_port/redis_socket/"
    "redis_tls_ca/redis_tls_server_name/redis_timeout_ms (the message says "
    "which check failed; a reset right after a TLS handshake is often a "
    "server that wants a client certificate: redis_tls_cert and "
    "redis_tls_key): until the module reaches it every login that needs "
    "the cache is denied "
    "(or, with redis_fallback=local, decided by this host alone)"};
static const struct doc_kind k_auth = {"redis-auth", DOC_ERROR,
    "make redis_password_file hold the server's password (one line, owned by "
    "root, mode 0600) and redis_db a database it may use: until then every "
    "login that needs the cache is denied"};
static const struct doc_kind k_eviction = {"redis-eviction", DOC_WARN,
    "set \"maxmemory-policy noeviction\" on the server (redis.conf or CONFIG "
    "SET): volatile-* and allkeys-* policies may drop replay and lockout "
    "records under memory pressure, so a used code would work again and a "
    "locked user be unlocked"};
static const struct doc_kind k_plaintext = {"redis-plaintext", DOC_WARN,
    "set redis_tls=yes (the default) with redis_tls_ca and the server's "
    "tls-port, or use redis_socket: over plain TCP the password goes out "
    "in clear text to whoever answers on the port, and whoever answers "
    "decides logins (a wrong or replayed code can be made to pass)"};
static const struct doc_kind k_unknown = {"redis-config-unknown", DOC_INFO,
    "CONFIG is renamed or denied to this user: check by hand that "
    "maxmemory-policy is noeviction"};
static const struct doc_kind k_nopersist = {"redis-no-persistence", DOC_INFO,
    "nothing to do for replay records (they live minutes); but a restart of "
    "the server forgets every lockout: enable appendonly or save if "
    "lockouts must survive one"};
/* grace_days= keeps its first-seen records in Redis (no TTL): a server
 * that forgets them on a restart (or FLUSHALL) gives every unenrolled
 * required user a new grace. */
static const struct doc_kind k_grace_nopersist = {"redis-grace-no-persistence",
    DOC_WARN,
    "enable appendonly (or a save schedule) on the server: grace_days= keeps "
    "its first-seen records there, and a restart without persistence starts "
    "every unenrolled user's grace again"};

/* A wrong or unusable password: the server's refusal, or a password file
 * the state layer would not read (missing, unsafe, empty). */
static bool
is_auth(int rc, const char *err)
{
	static const char *const words[] = {
	    "WRONGPASS", "NOAUTH", "ERR AUTH", "invalid password"};
	size_t i;

	if (rc != FT_ERR_BACKEND && rc != FT_ERR_ARG && rc != FT_ERR_NOMEM)
		return true;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(err, words[i]) != NULL)
			return true;
	return false;
}

/* An error of the state layer as a finding. */
static void
report_failure(int rc, const char *err, struct doc_report *rep)
{
	const struct doc_where w = {NULL, 0};

	if (rc == FT_ERR_NOMEM)
		rep->oom = true;
	else if (rc == FT_ERR_UNSUPPORTED || rc == FT_ERR_TOOBIG)
		doc_add(rep, &k_unknown, &w, "%s", err);
	else
		doc_add(rep, is_auth(rc, err) ? &k_auth : &k_unreachable, &w,
		    "%s", err);
}

#define MODE_MAX 512U

/* The high-availability set-up (pam_flowtotp(8), High availability);
 * false for a single server without WAIT. */
static bool
describe_mode(const struct ft_config *c, char *out, size_t outlen)
{
	int n = 0;

	out[0] = '\0';
	if (c->redis_sentinels[0] != '\0')
		n = snprintf(out, outlen,
		    "Sentinel: the primary of %s, asked of %s (ROLE checked)",
		    c->redis_master_name, c->redis_sentinels);
	else if (c->redis_cluster)
		n = snprintf(out, outlen,
		    "Cluster: %s:%u is the first node asked; MOVED and ASK "
		    "followed",
		    c->redis_host, c->redis_port);
	if (n < 0 || (size_t)n >= outlen)
		return out[0] != '\0';
	if (c->redis_wait_replicas > 0)
		(void)snprintf(out + n, outlen - (size_t)n,
		    "%severy accepted step waits for %u replica(s) (WAIT, %u "
		    "ms)",
		    n > 0 ? "; " : "", c->redis_wait_replicas,
		    c->redis_wait_timeout_ms);
	return out[0] != '\0';
}

static bool
check_reach(const struct ft_config *c, struct doc_report *rep)
{
	const struct doc_where w = {NULL, 0};
	struct ft_state *st = NULL;
	char err[CLI_ERRLEN], mode[MODE_MAX];
	int rc;

	err[0] = '\0';
	rc = ft_state_open(c, 0, &st, err, sizeof(err));
	ft_state_close(st);
	/* Opening checks the settings; the first call connects. */
	if (rc == FT_OK)
		rc = ft_state_redis_ping(c, err, sizeof(err));
	if (rc != FT_OK) {
		report_failure(rc, err, rep);
		return false;
	}
	if (c->redis_socket[0] != '\0')
		doc_add(rep, &k_reachable, &w,
		    "Redis %s (database %u): connected, socket owner checked",
		    c->redis_socket, c->redis_db);
	else
		doc_add(rep, &k_reachable, &w,
		    "Redis %s:%u (database %u): connected%s", c->redis_host,
		    c->redis_port, c->redis_db,
		    c->redis_tls ? " over TLS, certificate verified" : "");
	if (describe_mode(c, mode, sizeof(mode)))
		doc_add(rep, &k_topology, &w, "%s", mode);
	return true;
}

/* redis_tls=no over TCP: allowed because the admin asked, never quiet. */
static void
check_plaintext(const struct ft_config *c, struct doc_report *rep)
{
	const struct doc_where w = {NULL, 0};

	if (c->redis_socket[0] == '\0' && !c->redis_tls)
		doc_add(rep, &k_plaintext, &w,
		    "redis_tls=no: Redis %s:%u is reached in plain text, the "
		    "server unauthenticated",
		    c->redis_host, c->redis_port);
}

/* One setting; false (reported) when it cannot be read. */
static bool
get(const struct ft_config *c, const char *param, char *val,
    struct doc_report *rep)
{
	char err[CLI_ERRLEN];
	int rc;

	err[0] = '\0';
	rc = ft_state_redis_config_get(
	    c, param, val, VALUE_MAX, err, sizeof(err));
	if (rc == FT_OK)
		return true;
	report_failure(rc, err, rep);
	return false;
}

static void
check_settings(const struct ft_config *c, struct doc_report *rep)
{
	const struct doc_where w = {NULL, 0};
	char policy[VALUE_MAX], save[VALUE_MAX], aof[VALUE_MAX];

	if (!get(c, "maxmemory-policy", policy, rep))
		return;
	if (strcmp(policy, "noeviction") != 0)
		doc_add(rep, &k_eviction, &w, "maxmemory-policy is %s", policy);
	if (!get(c, "save", save, rep) || !get(c, "appendonly", aof, rep))
		return;
	if (save[0] != '\0' || strcmp(aof, "no") != 0)
		return;
	doc_add(rep, &k_nopersist, &w,
	    "save is off and appendonly is no: a restart of the server "
	    "forgets the lockouts");
	if (c->grace_days > 0)
		doc_add(rep, &k_grace_nopersist, &w,
		    "grace_days=%u keeps the grace records in this server, "
		    "which neither saves nor appends",
		    c->grace_days);
}
#endif

void
doc_check_redis(const struct ft_config *cfg, struct doc_report *rep)
{
#ifdef HAVE_REDIS
	struct ft_config *c;
#else
	const struct doc_where w = {NULL, 0};
#endif

	if (strcmp(cfg->cache, FT_CACHE_REDIS) != 0)
		return;
#ifdef HAVE_REDIS
	/* The server itself, not the local cache redis_fallback=local would
	 * quietly answer with. */
	c = malloc(sizeof(*c));
	if (c == NULL) {
		rep->oom = true;
		return;
	}
	*c = *cfg;
	c->redis_fallback = FT_REDIS_FALLBACK_DENY;
	check_plaintext(c, rep);
	if (check_reach(c, rep))
		check_settings(c, rep);
	free(c);
#else
	doc_add(rep, &k_unsupported, &w, "cache=redis (%s:%u): not checked",
	    cfg->redis_host, cfg->redis_port);
#endif
}
