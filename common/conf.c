/* Configuration: one option table drives the pam.d arguments, the config
 * file, totp-enroll --option and the defaults, so they cannot disagree. */
#include <config.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "conf.h"
#include "grace.h"
#include "remember.h"
#include "otp.h"
#include "policy.h"
#include "rc.h"
#include "redis_topology.h"
#include "safefile.h"
#include "storekey.h"
#include "wipe.h"

#define ROOT_UID 0
#define CONF_FORBIDDEN_MODE 022
#define CONF_LINE_MAX 1024U
#define CONF_KEY_MAX 64U
#define DENY_MAX 1000U
#define SECONDS_MAX 31536000U /* one year */
#define PORT_MIN 1U
#define PORT_MAX 65535U
#define REDIS_DB_MAX 255U
#define REDIS_TIMEOUT_MIN 10U
#define REDIS_TIMEOUT_MAX 60000U
#define REDIS_WAIT_REPLICAS_MAX 16U
#define SHOWN_MAX 64 /* chars of a bad token quoted */
#define DELIVER_TIMEOUT_MIN 1U
#define DELIVER_TIMEOUT_MAX 120U
#define DELIVER_TTL_MIN 30U
#define DELIVER_TTL_MAX 3600U
#define DELIVER_RATE_MAX 100U
#define CONF_MSG_MAX 512U

/* OPT_GROUPS: a string checked by ft_policy_check_list; min 1 allows the
 * words all and none (require=), 0 allows "" (exempt=). */
enum opt_kind { OPT_FLAG, OPT_UINT, OPT_STR, OPT_PATH, OPT_ENUM, OPT_GROUPS };

/* What a path option accepts besides an absolute path. */
enum path_extra {
	PX_NONE = 0,
	PX_EMPTY = 1, /* "" (unset) */
	PX_HOME = 2,  /* "~/..." or "%h..." (secret= template) */
	PX_REDIS = 4, /* the word "redis" (cache=) */
};

struct opt {
	const char *name;
	enum opt_kind kind;
	size_t off;
	size_t size;
	unsigned min, max;   /* OPT_UINT range; OPT_PATH: path_extra */
	unsigned def_num;    /* default of FLAG/UINT/ENUM */
	const char *def_str; /* default of STR/PATH */
	bool nonempty;	     /* OPT_STR: "" refused */
	const char *help;
};

/* The values of each OPT_ENUM option, in enum order; the table row names
 * its list by index (struct opt's min). */
enum enum_list { ENUM_FALLBACK = 0, ENUM_ENROLL, ENUM_ENCRYPT };
static const char *const fallback_names[] = {"deny", "local", NULL};
static const char *const enroll_names[] = {"no", "login", NULL};
static const char *const encrypt_names[] = {"auto", "yes", "no", NULL};
static const char *const *const enum_lists[] = {
    [ENUM_FALLBACK] = fallback_names,
    [ENUM_ENROLL] = enroll_names,
    [ENUM_ENCRYPT] = encrypt_names};
static const char *const enum_expected[] = {[ENUM_FALLBACK] = "deny or local",
    [ENUM_ENROLL] = "no or login",
    [ENUM_ENCRYPT] = "auto, yes or no"};

#define F(field)                                                               \
	offsetof(struct ft_config, field),                                     \
	    sizeof(((struct ft_config *)0)->field)

static const struct opt options[] = {
    {"secret", OPT_PATH, F(secret), 0, PX_HOME, 0, FT_SECRET_DEFAULT, true,
	"secret file template (%u user, %h or leading ~ home)"},
    {"window", OPT_UINT, F(window), 0, FT_WINDOW_MAX, FT_WINDOW_DEFAULT, NULL,
	false, "time steps accepted either side of now"},
    {"prompt", OPT_STR, F(prompt), 0, 0, 0, FT_PROMPT_DEFAULT, true,
	"prompt for the code"},
    {"nullok", OPT_FLAG, F(nullok), 0, 0, 0, NULL, false,
	"users without a secret file pass"},
    {"cache", OPT_PATH, F(cache), 0, PX_REDIS, 0, FT_CACHE_DEFAULT, true,
	"replay/lockout cache (gdbm file) or \"redis\""},
    {"deny", OPT_UINT, F(deny), 0, DENY_MAX, FT_DENY_DEFAULT, NULL, false,
	"failures before lockout (0: no lockout)"},
    {"unlock_time", OPT_UINT, F(unlock_time), 0, SECONDS_MAX,
	FT_UNLOCK_TIME_DEFAULT, NULL, false,
	"seconds a lockout lasts (0: until an admin unlocks)"},
    {"fail_interval", OPT_UINT, F(fail_interval), 0, SECONDS_MAX,
	FT_FAIL_INTERVAL_DEFAULT, NULL, false,
	"seconds in which deny failures cause a lockout"},
    {"try_first_pass", OPT_FLAG, F(try_first_pass), 0, 0, 0, NULL, false,
	"try the stacked password as the code first"},
    {"use_first_pass", OPT_FLAG, F(use_first_pass), 0, 0, 0, NULL, false,
	"use only the stacked password as the code"},
    {"forward_pass", OPT_FLAG, F(forward_pass), 0, 0, 0, NULL, false,
	"read password+code in one prompt, pass the password on"},
    {"conf", OPT_PATH, F(conf), 0, PX_EMPTY, 0, "", false,
	"configuration file"},
    {"debug", OPT_FLAG, F(debug), 0, 0, 0, NULL, false,
	"log decisions at debug level"},
    {"issuer", OPT_STR, F(issuer), 0, 0, 0, "", false,
	"issuer shown in authenticator apps (\"\": host name)"},
    {"backup_codes", OPT_UINT, F(backup_codes), 1, FT_BACKUP_MAX,
	FT_BACKUP_COUNT_DEFAULT, NULL, false,
	"backup codes totp-enroll issues"},
    {"self_enroll", OPT_FLAG, F(self_enroll), 0, 0, 0, NULL, false,
	"users may enrol themselves from a shell (flowtotp-helper)"},
    {"redis_host", OPT_STR, F(redis_host), 0, 0, 0, "127.0.0.1", true,
	"Redis host name, address, or unix socket path"},
    {"redis_port", OPT_UINT, F(redis_port), PORT_MIN, PORT_MAX,
	FT_REDIS_PORT_DEFAULT, NULL, false, "Redis TCP port"},
    {"redis_db", OPT_UINT, F(redis_db), 0, REDIS_DB_MAX, 0, NULL, false,
	"Redis database number"},
    {"redis_password_file", OPT_PATH, F(redis_password_file), 0, PX_EMPTY, 0,
	"", false, "file holding the Redis password"},
    {"redis_prefix", OPT_STR, F(redis_prefix), 0, 0, 0, FT_REDIS_PREFIX_DEFAULT,
	true, "Redis key prefix"},
    {"redis_timeout_ms", OPT_UINT, F(redis_timeout_ms), REDIS_TIMEOUT_MIN,
	REDIS_TIMEOUT_MAX, FT_REDIS_TIMEOUT_MS_DEFAULT, NULL, false,
	"Redis connect/command timeout"},
    {"enroll", OPT_ENUM, F(enroll), ENUM_ENROLL, 0, FT_ENROLL_NO, NULL, false,
	"enrol a user without a secret: no, or login (in the PAM "
	"conversation)"},
    {"redis_fallback", OPT_ENUM, F(redis_fallback), ENUM_FALLBACK, 0,
	FT_REDIS_FALLBACK_DENY, NULL, false,
	"when Redis is down: deny, or local (use local_cache)"},
    {"local_cache", OPT_PATH, F(local_cache), 0, PX_NONE, 0, FT_CACHE_DEFAULT,
	true, "gdbm cache for redis_fallback=local"},
    {"require", OPT_GROUPS, F(require), 1, 0, 0, FT_REQUIRE_DEFAULT, true,
	"who must give a code: all, none, or group:NAME[,group:NAME...]"},
    {"exempt", OPT_GROUPS, F(exempt), 0, 0, 0, "", false,
	"group:NAME[,...] never asked (PAM_IGNORE)"},
    {"grace_days", OPT_UINT, F(grace_days), 0, FT_GRACE_DAYS_MAX, 0, NULL,
	false, "days a required user without enrolment is let in (0: none)"},
    {"grace_dir", OPT_PATH, F(grace_dir), 0, PX_NONE, 0, FT_GRACE_DIR_DEFAULT,
	true, "root-owned directory of the grace first-seen records"},
    {"remember", OPT_UINT, F(remember), 0, FT_REMEMBER_SECONDS_MAX, 0, NULL,
	false,
	"seconds the same service, remote host and tty are not asked again "
	"after a code (0: off)"},
    {"store_key", OPT_PATH, F(store_key), 0, PX_NONE, 0, FT_STOREKEY_DEFAULT,
	true, "the unsealed store key file (version 2 secrets)"},
    {"store_key_fallback", OPT_PATH, F(store_key_fallback), 0, PX_EMPTY, 0,
	FT_STOREKEY_FALLBACK_DEFAULT, false,
	"plain store key file, read when store_key does not exist"},
    {"store_key_cred", OPT_PATH, F(store_key_cred), 0, PX_NONE, 0,
	FT_STOREKEY_CRED_DEFAULT, true,
	"the systemd-creds sealed store key (totp-enroll key)"},
    {"encrypt", OPT_ENUM, F(encrypt), ENUM_ENCRYPT, 0, FT_ENCRYPT_AUTO, NULL,
	false,
	"seal new secrets of the root store: auto (when a store key "
	"exists), yes, or no"},
    {"redis_sentinels", OPT_STR, F(redis_sentinels), 0, 0, 0, "", false,
	"Sentinels host:port,... asked for the primary (\"\": none)"},
    {"redis_master_name", OPT_STR, F(redis_master_name), 0, 0, 0, "", false,
	"name of the primary the Sentinels monitor"},
    {"redis_sentinel_password_file", OPT_PATH, F(redis_sentinel_password_file),
	0, PX_EMPTY, 0, "", false, "file holding the Sentinels' password"},
    {"redis_wait_replicas", OPT_UINT, F(redis_wait_replicas), 0,
	REDIS_WAIT_REPLICAS_MAX, 0, NULL, false,
	"replicas that must acknowledge an accepted code (0: no WAIT)"},
    {"redis_wait_timeout_ms", OPT_UINT, F(redis_wait_timeout_ms),
	REDIS_TIMEOUT_MIN, REDIS_TIMEOUT_MAX, FT_REDIS_WAIT_TIMEOUT_MS_DEFAULT,
	NULL, false, "how long WAIT waits for the replicas"},
    {"redis_cluster", OPT_FLAG, F(redis_cluster), 0, 0, 0, NULL, false,
	"redis_host:redis_port is a Redis Cluster node"},
    {"redis_socket", OPT_PATH, F(redis_socket), 0, PX_EMPTY, 0, "", false,
	"Redis unix socket (instead of redis_host; owner checked)"},
    {"redis_socket_owner", OPT_STR, F(redis_socket_owner), 0, 0, 0,
	FT_REDIS_SOCKET_OWNER_DEFAULT, true,
	"account (besides root) the Redis socket and server may run as"},
    {"redis_tls", OPT_FLAG, F(redis_tls), 0, 0, 1, NULL, false,
	"TLS to Redis over TCP (no: plain text, the server unauthenticated)"},
    {"redis_tls_ca", OPT_PATH, F(redis_tls_ca), 0, PX_EMPTY, 0, "", false,
	"CA certificates (PEM file) the Redis server's certificate must chain "
	"to (\"\": the system's)"},
    {"redis_tls_server_name", OPT_STR, F(redis_tls_server_name), 0, 0, 0, "",
	false, "name the Redis certificate must carry (\"\": redis_host)"},
    {"redis_tls_cert", OPT_PATH, F(redis_tls_cert), 0, PX_EMPTY, 0, "", false,
	"client certificate (PEM) for Redis mutual TLS"},
    {"redis_tls_key", OPT_PATH, F(redis_tls_key), 0, PX_EMPTY, 0, "", false,
	"private key (PEM) of redis_tls_cert"},
    {"deliver", OPT_PATH, F(deliver), 0, PX_EMPTY, 0, "", false,
	"root-owned command that delivers one-time codes (\"\": off)"},
    {"deliver_user", OPT_STR, F(deliver_user), 0, 0, 0, FT_DELIVER_USER_DEFAULT,
	true, "user the deliver command runs as"},
    {"deliver_timeout", OPT_UINT, F(deliver_timeout), DELIVER_TIMEOUT_MIN,
	DELIVER_TIMEOUT_MAX, FT_DELIVER_TIMEOUT_DEFAULT, NULL, false,
	"seconds the deliver command may run"},
    {"deliver_ttl", OPT_UINT, F(deliver_ttl), DELIVER_TTL_MIN, DELIVER_TTL_MAX,
	FT_DELIVER_TTL_DEFAULT, NULL, false,
	"seconds a delivered code stays valid"},
    {"deliver_rate_minute", OPT_UINT, F(deliver_rate_minute), 1,
	DELIVER_RATE_MAX, FT_DELIVER_RATE_MINUTE_DEFAULT, NULL, false,
	"code deliveries per user per minute"},
    {"deliver_rate_hour", OPT_UINT, F(deliver_rate_hour), 1, DELIVER_RATE_MAX,
	FT_DELIVER_RATE_HOUR_DEFAULT, NULL, false,
	"code deliveries per user per hour"},
    {"deliver_key", OPT_PATH, F(deliver_key), 0, PX_NONE, 0,
	FT_DELIVER_KEY_DEFAULT, true,
	"root-only key for the hashes of delivered codes"},
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static const struct opt *
find_opt(const char *key)
{
	size_t i;

	for (i = 0; i < NOPTIONS; i++)
		if (strcmp(options[i].name, key) == 0)
			return &options[i];
	return NULL;
}

static bool
has_cntrl(const char *s)
{
	for (; *s != '\0'; s++)
		/* ASCII controls, whatever the caller's locale. */
		if ((unsigned char)*s < 0x20U || (unsigned char)*s == 0x7fU)
			return true;
	return false;
}

static int
set_flag(struct ft_config *c, const struct opt *o, const char *value, char *err,
    size_t errlen)
{
	bool *p = (bool *)((char *)c + o->off);

	if (value == NULL || strcmp(value, "yes") == 0 ||
	    strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
		*p = true;
	else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 ||
	    strcmp(value, "0") == 0)
		*p = false;
	else
		return ft_seterr(err, errlen, FT_ERR_PARSE,
		    "%s: expected yes/no/true/false/1/0", o->name);
	return FT_OK;
}

static int
set_uint(struct ft_config *c, const struct opt *o, const char *value, char *err,
    size_t errlen)
{
	uint64_t v = 0;
	const char *s;

	for (s = value; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > UINT32_MAX)
			break;
		v = v * 10U + (uint64_t)(*s - '0');
	}
	if (*value == '\0' || *s != '\0' || v < o->min || v > o->max)
		return ft_seterr(err, errlen, FT_ERR_PARSE,
		    "%s: expected an integer %u..%u", o->name, o->min, o->max);
	*(unsigned *)((char *)c + o->off) = (unsigned)v;
	return FT_OK;
}

static int
set_string(struct ft_config *c, const struct opt *o, const char *value,
    char *err, size_t errlen)
{
	size_t n = strlen(value);

	if (n >= o->size)
		return ft_seterr(err, errlen, FT_ERR_PARSE,
		    "%s: longer than %zu characters", o->name, o->size - 1U);
	if (has_cntrl(value))
		return ft_seterr(err, errlen, FT_ERR_PARSE,
		    "%s: control character in value", o->name);
	if (o->nonempty && n == 0)
		return ft_seterr(
		    err, errlen, FT_ERR_PARSE, "%s: empty value", o->name);
	memcpy((char *)c + o->off, value, n + 1U);
	return FT_OK;
}

static int
set_path(struct ft_config *c, const struct opt *o, const char *value, char *err,
    size_t errlen)
{
	bool good = value[0] == '/' ||
	    ((o->max & PX_EMPTY) && value[0] == '\0') ||
	    ((o->max & PX_HOME) &&
		(strncmp(value, "~/", 2) == 0 ||
		    strncmp(value, "%h", 2) == 0)) ||
	    ((o->max & PX_REDIS) && strcmp(value, FT_CACHE_REDIS) == 0);

	if (!good)
		return ft_seterr(err, errlen, FT_ERR_PARSE,
		    "%s: must be an absolute path%s%s", o->name,
		    (o->max & PX_HOME) ? " or start with ~/ or %h" : "",
		    (o->max & PX_REDIS) ? " or \"redis\"" : "");
	return set_string(c, o, value, err, errlen);
}

static int
set_groups(struct ft_config *c, const struct opt *o, const char *value,
    char *err, size_t errlen)
{
	char msg[FT_CONF_STR_MAX];
	int rc;

	rc = ft_policy_check_list(value, o->min != 0, msg, sizeof(msg));
	if (rc != FT_OK)
		return ft_seterr(err, errlen, rc, "%s: %s", o->name, msg);
	rc = set_string(c, o, value, err, errlen);
	if (rc == FT_OK && o->min != 0)
		c->require_given = true;
	return rc;
}

/* Store value number i of an OPT_ENUM option, through its own enum type. */
static void
store_enum(struct ft_config *c, const struct opt *o, unsigned i)
{
	char *field = (char *)c + o->off;

	if (o->min == ENUM_ENROLL)
		*(enum ft_enroll *)field = (enum ft_enroll)i;
	else if (o->min == ENUM_ENCRYPT)
		*(enum ft_encrypt *)field = (enum ft_encrypt)i;
	else
		*(enum ft_redis_fallback *)field = (enum ft_redis_fallback)i;
}

static int
set_enum(struct ft_config *c, const struct opt *o, const char *value, char *err,
    size_t errlen)
{
	const char *const *names = enum_lists[o->min];
	unsigned i;

	for (i = 0; names[i] != NULL; i++) {
		if (strcmp(value, names[i]) == 0) {
			store_enum(c, o, i);
			return FT_OK;
		}
	}
	return ft_seterr(err, errlen, FT_ERR_PARSE, "%s: expected %s", o->name,
	    enum_expected[o->min]);
}

int
ft_config_set(struct ft_config *c, const char *key, const char *value,
    char *err, size_t errlen)
{
	const struct opt *o;

	if (key == NULL || (o = find_opt(key)) == NULL)
		return ft_seterr(err, errlen, FT_ERR_PARSE,
		    "unknown option \"%.*s\"", SHOWN_MAX,
		    key != NULL ? key : "");
	if (o->kind != OPT_FLAG && value == NULL)
		return ft_seterr(
		    err, errlen, FT_ERR_PARSE, "%s: missing value", o->name);
	if (o->off == offsetof(struct ft_config, redis_host))
		c->redis_host_given = true;
	switch (o->kind) {
	case OPT_FLAG: return set_flag(c, o, value, err, errlen);
	case OPT_UINT: return set_uint(c, o, value, err, errlen);
	case OPT_STR: return set_string(c, o, value, err, errlen);
	case OPT_PATH: return set_path(c, o, value, err, errlen);
	case OPT_ENUM: return set_enum(c, o, value, err, errlen);
	case OPT_GROUPS: return set_groups(c, o, value, err, errlen);
	}
	return ft_seterr(err, errlen, FT_ERR_ARG, "%s: bad table", o->name);
}

/* A default into its zeroed field, cut to fit.  Not snprintf: this runs for
 * every option on every login, and a plain copy is far cheaper. */
static void
copy_default(char *field, size_t size, const char *def)
{
	size_t n;

	if (def == NULL || size == 0)
		return;
	n = strnlen(def, size - 1U);
	memcpy(field, def, n);
	field[n] = '\0';
}

void
ft_config_defaults(struct ft_config *c)
{
	const struct opt *o;
	char *field;
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < NOPTIONS; i++) {
		o = &options[i];
		field = (char *)c + o->off;
		switch (o->kind) {
		case OPT_FLAG: *(bool *)field = o->def_num != 0; break;
		case OPT_UINT: *(unsigned *)field = o->def_num; break;
		case OPT_ENUM: store_enum(c, o, o->def_num); break;
		case OPT_STR:
		case OPT_GROUPS:
		case OPT_PATH: copy_default(field, o->size, o->def_str); break;
		}
	}
}

int
ft_config_set_arg(
    struct ft_config *c, const char *arg, char *err, size_t errlen)
{
	char key[CONF_KEY_MAX];
	const char *eq;
	size_t n;

	if (arg == NULL)
		return ft_seterr(err, errlen, FT_ERR_ARG, "no argument");
	eq = strchr(arg, '=');
	if (eq == NULL)
		return ft_config_set(c, arg, NULL, err, errlen);
	n = (size_t)(eq - arg);
	if (n == 0 || n >= sizeof(key))
		return ft_seterr(err, errlen, FT_ERR_PARSE,
		    "bad option \"%.*s\"", SHOWN_MAX, arg);
	memcpy(key, arg, n);
	key[n] = '\0';
	return ft_config_set(c, key, eq + 1, err, errlen);
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* One line of the file, NUL-terminated in a writable buffer. */
static int
conf_line(struct ft_config *c, char *line, char *err, size_t errlen)
{
	char *key, *val, *eq, *end;
	size_t n;

	for (key = line; is_blank(*key); key++)
		;
	for (end = key + strlen(key); end > key && is_blank(end[-1]); end--)
		;
	*end = '\0';
	if (*key == '\0' || *key == '#')
		return FT_OK;
	val = NULL;
	if ((eq = strchr(key, '=')) != NULL) {
		for (end = eq; end > key && is_blank(end[-1]); end--)
			;
		*end = '\0';
		for (val = eq + 1; is_blank(*val); val++)
			;
		/* "..." keeps leading/trailing blanks (e.g. a prompt). */
		n = strlen(val);
		if (n >= 2 && val[0] == '"' && val[n - 1] == '"') {
			val[n - 1] = '\0';
			val++;
		}
	}
	if (*key == '\0')
		return ft_seterr(err, errlen, FT_ERR_PARSE, "empty key");
	if (strcmp(key, "conf") == 0)
		return ft_seterr(err, errlen, FT_ERR_PARSE,
		    "conf cannot be set inside a configuration file");
	return ft_config_set(c, key, val, err, errlen);
}

static int
conf_parse(struct ft_config *c, const char *path, const char *buf, size_t len,
    char *err, size_t errlen)
{
	char line[CONF_LINE_MAX + 1U];
	char msg[256];
	const char *nl;
	size_t pos = 0, n;
	unsigned lineno = 0;
	int rc = FT_OK;

	while (pos < len) {
		lineno++;
		nl = memchr(buf + pos, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - (buf + pos)) : len - pos;
		msg[0] = '\0';
		if (n > CONF_LINE_MAX)
			rc = ft_seterr(msg, sizeof(msg), FT_ERR_PARSE,
			    "longer than %u bytes", CONF_LINE_MAX);
		else if (memchr(buf + pos, '\0', n) != NULL)
			rc = ft_seterr(
			    msg, sizeof(msg), FT_ERR_PARSE, "NUL byte");
		else if (n > 0 && buf[pos + n - 1U] == '\r')
			rc = ft_seterr(msg, sizeof(msg), FT_ERR_PARSE,
			    "CRLF line ending (use Unix line endings)");
		else {
			memcpy(line, buf + pos, n);
			line[n] = '\0';
			rc = conf_line(c, line, msg, sizeof(msg));
		}
		if (rc != FT_OK)
			return ft_seterr(
			    err, errlen, rc, "%s:%u: %s", path, lineno, msg);
		pos += n + (nl != NULL ? 1U : 0U);
	}
	return FT_OK;
}

int
ft_config_load_file(struct ft_config *c, const char *path, bool missing_ok,
    char *err, size_t errlen)
{
	struct ft_file_policy pol;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	memset(&pol, 0, sizeof(pol));
	pol.owner = ROOT_UID;
	pol.allow_root = true;
	pol.forbidden_mode = CONF_FORBIDDEN_MODE;
	pol.max_size = FT_CONF_MAX_SIZE;
	if (strlen(path) >= sizeof(c->conf))
		return ft_seterr(
		    err, errlen, FT_ERR_ARG, "%s: path too long", path);
	rc = ft_safe_read(path, &pol, &buf, &len, err, errlen);
	if (rc == FT_ERR_NOENT && missing_ok)
		return FT_OK;
	if (rc != FT_OK)
		return rc;
	rc = conf_parse(c, path, buf, len, err, errlen);
	/* Only the check a later pam.d argument cannot settle. */
	if (rc == FT_OK && c->nullok && c->require_given)
		rc = ft_seterr(err, errlen, FT_ERR_PARSE,
		    "%s: nullok and require= both given (nullok is "
		    "require=none; keep one)",
		    path);
	if (rc == FT_OK)
		(void)snprintf(c->conf, sizeof(c->conf), "%s", path);
	ft_wipe_free(buf, len);
	return rc;
}

int
ft_config_from_args(
    struct ft_config *c, int argc, const char **argv, char *err, size_t errlen)
{
	const char *conf = NULL;
	int i, rc;

	ft_config_defaults(c);
	for (i = 0; i < argc; i++)
		if (argv[i] != NULL && strncmp(argv[i], "conf=", 5) == 0)
			conf = argv[i] + 5;
	if (conf != NULL) {
		if (conf[0] != '/')
			return ft_seterr(err, errlen, FT_ERR_PARSE,
			    "conf: must be an absolute path");
		rc = ft_config_load_file(c, conf, false, err, errlen);
	} else
		rc = ft_config_load_file(c, FT_CONF_DEFAULT, true, err, errlen);
	if (rc != FT_OK)
		return rc;
	for (i = 0; i < argc; i++)
		if ((rc = ft_config_set_arg(c, argv[i], err, errlen)) != FT_OK)
			return rc;
	return ft_config_check(c, err, errlen);
}

/* The Redis topology: one of a plain server, Sentinel or Cluster. */
static int
check_redis_topology(const struct ft_config *c, char *err, size_t errlen)
{
	struct ft_redis_addr addrs[FT_REDIS_ADDRS_MAX];
	char msg[CONF_MSG_MAX];
	bool sentinel = c->redis_sentinels[0] != '\0';
	size_t n = 0;

	if (ft_redis_prefix_check(c->redis_prefix, msg, sizeof(msg)) != FT_OK)
		return ft_seterr(err, errlen, FT_ERR_PARSE, "%s", msg);
	if (sentinel != (c->redis_master_name[0] != '\0'))
		return ft_seterr(err, errlen, FT_ERR_PARSE,
		    "redis_sentinels and redis_master_name go together");
	if (sentinel &&
	    ft_redis_addr_list(c->redis_sentinels, addrs, FT_REDIS_ADDRS_MAX,
		&n, msg, sizeof(msg)) != FT_OK)
		return ft_seterr(
		    err, errlen, FT_ERR_PARSE, "redis_sentinels: %s", msg);
	if (sentinel && c->redis_host_given)
		return ft_seterr(err, errlen, FT_ERR_PARSE,
		    "redis_sentinels and redis_host both given (the Sentinels "
		    "name the primary; keep one)");
	if (sentinel && c->redis_cluster)
		return ft_seterr(err, errlen, FT_ERR_PARSE,
		    "redis_sentinels and redis_cluster exclude each other");
	if ((sentinel || c->redis_cluster) && c->redis_socket[0] != '\0')
		return ft_seterr(err, errlen, FT_ERR_PARSE,
		    "redis_socket reaches one server: not with redis_sentinels "
		    "or redis_cluster (their nodes are reached over TCP)");
	if (c->redis_wait_replicas > 0 &&
	    c->redis_wait_timeout_ms >= c->redis_timeout_ms)
		return ft_seterr(err, errlen, FT_ERR_PARSE,
		    "redis_wait_timeout_ms must be less than redis_timeout_ms "
		    "(WAIT is part of one exchange)");
	if (c->redis_cluster && c->redis_db != 0)
		return ft_seterr(err, errlen, FT_ERR_PARSE,
		    "redis_cluster needs redis_db=0 (a Cluster has only "
		    "database 0)");
	return FT_OK;
}

/* The Redis transport options that only work together. */
static int
check_redis(const struct ft_config *c, char *err, size_t errlen)
{
	if ((c->redis_tls_cert[0] == '\0') != (c->redis_tls_key[0] == '\0'))
		return ft_seterr(err, errlen, FT_ERR_PARSE,
		    "redis_tls_cert and redis_tls_key go together (mutual TLS "
		    "needs both)");
	if (c->redis_host[0] == '/')
		return ft_seterr(err, errlen, FT_ERR_PARSE,
		    "redis_host: a unix socket goes in redis_socket=");
	if (c->redis_socket[0] != '\0' &&
	    (c->redis_tls_ca[0] != '\0' || c->redis_tls_cert[0] != '\0'))
		return ft_seterr(err, errlen, FT_ERR_PARSE,
		    "redis_socket with redis_tls_ca or redis_tls_cert: Redis "
		    "speaks TLS on TCP only (the socket is checked by owner)");
	return FT_OK;
}

int
ft_config_check(const struct ft_config *c, char *err, size_t errlen)
{
	int rc;

	if (c->nullok && c->require_given)
		return ft_seterr(err, errlen, FT_ERR_PARSE,
		    "nullok and require= both given (nullok is require=none; "
		    "keep one)");
	if ((rc = check_redis(c, err, errlen)) != FT_OK)
		return rc;
	return check_redis_topology(c, err, errlen);
}

/* Append n bytes to out; false on overflow. */
static bool
append(char *out, size_t outlen, size_t *pos, const char *s, size_t n)
{
	if (n >= outlen - *pos)
		return false;
	memcpy(out + *pos, s, n);
	*pos += n;
	out[*pos] = '\0';
	return true;
}

static int
check_user(const char *user, char *err, size_t errlen)
{
	if (user == NULL || user[0] == '\0')
		return ft_seterr(err, errlen, FT_ERR_ARG, "empty user name");
	if (user[0] == '.' || strchr(user, '/') != NULL || has_cntrl(user))
		return ft_seterr(
		    err, errlen, FT_ERR_ARG, "user name not usable in a path");
	return FT_OK;
}

static int
home_part(const char *home, const char **out, char *err, size_t errlen)
{
	if (home == NULL || home[0] != '/')
		return ft_seterr(err, errlen, FT_ERR_ARG,
		    "secret path needs the home directory, which is not an "
		    "absolute path");
	*out = home;
	return FT_OK;
}

bool
ft_config_secret_in_home(const struct ft_config *c)
{
	const char *t = c->secret;

	if (t[0] == '~')
		return true;
	for (; *t != '\0'; t++) {
		if (*t != '%')
			continue;
		t++;
		if (*t == 'h')
			return true;
		if (*t == '\0')
			break;
	}
	return false;
}

int
ft_config_secret_path(const struct ft_config *c, const struct passwd *pw,
    char *out, size_t outlen, char *err, size_t errlen)
{
	const char *t = c->secret, *h = NULL, *user = pw->pw_name;
	const char *home = pw->pw_dir;
	size_t pos = 0;
	int rc;

	if (outlen == 0)
		return ft_seterr(err, errlen, FT_ERR_ARG, "no room");
	out[0] = '\0';
	if ((rc = check_user(user, err, errlen)) != FT_OK)
		return rc;
	if (t[0] == '~') {
		if (t[1] != '/' && t[1] != '\0')
			return ft_seterr(err, errlen, FT_ERR_PARSE,
			    "secret: only a leading ~/ is supported");
		if ((rc = home_part(home, &h, err, errlen)) != FT_OK)
			return rc;
		if (!append(out, outlen, &pos, h, strlen(h)))
			goto toolong;
		t++;
	}
	for (; *t != '\0'; t++) {
		if (*t != '%') {
			if (!append(out, outlen, &pos, t, 1))
				goto toolong;
			continue;
		}
		t++;
		if (*t == '%') {
			if (!append(out, outlen, &pos, "%", 1))
				goto toolong;
		} else if (*t == 'u') {
			if (!append(out, outlen, &pos, user, strlen(user)))
				goto toolong;
		} else if (*t == 'h') {
			if ((rc = home_part(home, &h, err, errlen)) != FT_OK)
				return rc;
			if (!append(out, outlen, &pos, h, strlen(h)))
				goto toolong;
		} else
			return ft_seterr(err, errlen, FT_ERR_PARSE,
			    "secret: unknown %%-escape (use %%u, %%h or %%%%)");
	}
	if (out[0] != '/')
		return ft_seterr(
		    err, errlen, FT_ERR_PARSE, "secret: not an absolute path");
	return FT_OK;
toolong:
	out[0] = '\0';
	return ft_seterr(err, errlen, FT_ERR_TOOBIG,
	    "secret path for this user is too long");
}

const char *
ft_config_option_name(size_t i)
{
	return i < NOPTIONS ? options[i].name : NULL;
}
