/* One option table for the PAM module's arguments, /etc/security/flowtotp.conf
 * and totp-enroll: same keys, same checks, same defaults (documented in
 * pam_flowtotp(8) and flowtotp(5)).  Precedence: built-in defaults, then the
 * config file, then pam.d arguments (argv wins). */
#ifndef FLOWTOTP_CONF_H
#define FLOWTOTP_CONF_H

#include <limits.h>
#include <stdbool.h>
#include <pwd.h>
#include <stddef.h>

#ifndef FT_SYSCONFDIR
#define FT_SYSCONFDIR "/etc"
#endif
#define FT_CONF_DEFAULT FT_SYSCONFDIR "/security/flowtotp.conf"
#define FT_SECRET_DEFAULT "/var/lib/flowtotp/users/%u"
#define FT_CACHE_DIR_DEFAULT "/dev/shm/flowtotp"
#define FT_CACHE_DEFAULT FT_CACHE_DIR_DEFAULT "/state.gdbm"
#define FT_CACHE_REDIS "redis"
#define FT_PROMPT_DEFAULT "Verification code: "
#define FT_WINDOW_DEFAULT 1U
#define FT_DENY_DEFAULT 3U
#define FT_UNLOCK_TIME_DEFAULT 600U
#define FT_FAIL_INTERVAL_DEFAULT 900U
#define FT_REDIS_PORT_DEFAULT 6379U
#define FT_REDIS_TIMEOUT_MS_DEFAULT 500U
#define FT_REDIS_PREFIX_DEFAULT "flowtotp"
#define FT_REDIS_WAIT_TIMEOUT_MS_DEFAULT 200U
#define FT_REDIS_SOCKET_OWNER_DEFAULT "redis"
#define FT_REQUIRE_DEFAULT "all"
#define FT_DELIVER_KEY_DEFAULT "/var/lib/flowtotp/deliver.key"
#define FT_DELIVER_USER_DEFAULT "nobody"
#define FT_DELIVER_TIMEOUT_DEFAULT 10U
#define FT_DELIVER_TTL_DEFAULT 300U
#define FT_DELIVER_RATE_MINUTE_DEFAULT 1U
#define FT_DELIVER_RATE_HOUR_DEFAULT 5U
#define FT_CONF_MAX_SIZE (64U * 1024U)
#define FT_CONF_STR_MAX 256U

enum ft_redis_fallback { FT_REDIS_FALLBACK_DENY = 0, FT_REDIS_FALLBACK_LOCAL };
/* enroll=: may a user without a secret enrol?  no (the default), or login:
 * in the PAM conversation, after the first factor (pam_flowtotp(8)). */
enum ft_enroll { FT_ENROLL_NO = 0, FT_ENROLL_LOGIN };
/* encrypt=: does totp-enroll seal new secrets of the root store with the
 * store key (flowtotp(5) version 2)?  auto: when a store key exists. */
enum ft_encrypt { FT_ENCRYPT_AUTO = 0, FT_ENCRYPT_YES, FT_ENCRYPT_NO };

struct ft_config {
	char secret[PATH_MAX];	      /* secret=  path template: %u %h ~ %% */
	unsigned window;	      /* window=  steps either side */
	char prompt[FT_CONF_STR_MAX]; /* prompt= */
	bool nullok;		      /* nullok */
	char cache[PATH_MAX];	      /* cache=  gdbm file path, or "redis" */
	unsigned deny;		      /* deny=  0 disables lockout */
	unsigned unlock_time;	      /* unlock_time=  0: admin only */
	unsigned fail_interval;	      /* fail_interval= */
	bool try_first_pass;	      /* try_first_pass */
	bool use_first_pass;	      /* use_first_pass */
	bool forward_pass;	      /* forward_pass */
	char conf[PATH_MAX];	      /* conf=  the file that was loaded */
	bool debug;		      /* debug */
	char issuer[FT_CONF_STR_MAX]; /* issuer=  totp-enroll default; "" =
					 hostname */
	unsigned backup_codes; /* backup_codes=  how many totp-enroll issues */
	enum ft_enroll enroll; /* enroll=  no or login */
	/* self_enroll=  the set-uid helper lets a user with no enrolment
	 * enrol (or import) from a shell; off by default because whoever
	 * has the password and a shell could bind their own phone first */
	bool self_enroll;
	/* Redis backend (cache=redis) */
	char redis_host[FT_CONF_STR_MAX];
	unsigned redis_port;
	unsigned redis_db;
	char redis_password_file[PATH_MAX];
	char redis_prefix[FT_CONF_STR_MAX];
	unsigned redis_timeout_ms;
	enum ft_redis_fallback redis_fallback;
	char local_cache[PATH_MAX]; /* local_cache=  gdbm file used when
				     * cache=redis and redis_fallback=local */
	/* Rollout policy (policy.h): require=  all, none or group:NAME,...;
	 * exempt=  "" or group:NAME,... */
	char require[FT_CONF_STR_MAX];
	char exempt[FT_CONF_STR_MAX];
	/* require= was given (file or argv): with nullok it is a
	 * configuration error, since they say the same thing twice and could
	 * disagree.  Not an option of its own. */
	bool require_given;
	/* grace_days=  days an unenrolled required user is let in (0: none);
	 * grace_dir=  where the first-seen records live (grace.h) */
	unsigned grace_days;
	char grace_dir[PATH_MAX];
	/* remember=  seconds an origin that gave a code is not asked again
	 * (0: off; remember.h) */
	unsigned remember;
	/* Secrets at rest (storekey.h): store_key=  the unsealed key file;
	 * store_key_fallback=  the plain root-only key file read only when
	 * store_key does not exist ("" none); store_key_cred=  the
	 * systemd-creds sealed copy totp-enroll keeps; encrypt= */
	char store_key[PATH_MAX];
	char store_key_fallback[PATH_MAX];
	char store_key_cred[PATH_MAX];
	enum ft_encrypt encrypt;
	/* Redis high availability (pam_flowtotp(8), HIGH AVAILABILITY):
	 * redis_sentinels=  "host:port,..." asked for redis_master_name's
	 * primary ("": no Sentinel); redis_sentinel_password_file=  their
	 * AUTH ("": none); redis_wait_replicas=  replicas that must hold an
	 * accepted step before the login succeeds (0: no WAIT), within
	 * redis_wait_timeout_ms; redis_cluster=  redis_host:redis_port is a
	 * Cluster node and MOVED/ASK are followed */
	char redis_sentinels[FT_CONF_STR_MAX];
	char redis_master_name[FT_CONF_STR_MAX];
	char redis_sentinel_password_file[PATH_MAX];
	unsigned redis_wait_replicas;
	unsigned redis_wait_timeout_ms;
	bool redis_cluster;
	/* redis_host= was given (file or argv): with redis_sentinels it is a
	 * configuration error.  Not an option of its own. */
	bool redis_host_given;
	/* Redis transport (redis_conn.h): redis_socket=  "" or a socket path
	 * used instead of redis_host; redis_socket_owner=  the account besides
	 * root it and its server may belong to; redis_tls=  TLS over TCP (the
	 * default; no: plain text); the CA file, the name the certificate must
	 * carry ("" = redis_host), a client certificate and its key */
	char redis_socket[PATH_MAX];
	char redis_socket_owner[FT_CONF_STR_MAX];
	bool redis_tls;
	char redis_tls_ca[PATH_MAX];
	char redis_tls_server_name[FT_CONF_STR_MAX];
	char redis_tls_cert[PATH_MAX];
	char redis_tls_key[PATH_MAX];
	/* Codes delivered by a command (deliver.h): deliver=  the command
	 * ("" off); deliver_user=  whom it runs as; deliver_timeout=
	 * seconds it may take; deliver_ttl=  seconds a code stays valid;
	 * deliver_rate_minute= / deliver_rate_hour=  requests per user;
	 * deliver_key=  the root-only key the stored code hashes use */
	char deliver[PATH_MAX];
	char deliver_user[FT_CONF_STR_MAX];
	unsigned deliver_timeout;
	unsigned deliver_ttl;
	unsigned deliver_rate_minute;
	unsigned deliver_rate_hour;
	char deliver_key[PATH_MAX];
};

void ft_config_defaults(struct ft_config *c);

/* Apply one option.  value is NULL for a bare flag ("nullok", the same as
 * "nullok=yes"); flags also take yes/no, true/false, 1/0 in both places, so a
 * pam.d line can turn off a flag the config file set.  Unknown keys, a missing
 * value and out-of-range values: FT_ERR_PARSE with err set. */
int ft_config_set(struct ft_config *c, const char *key, const char *value,
    char *err, size_t errlen);

/* Parse one "key=value" or "flag" token (the pam.d argument form). */
int ft_config_set_arg(
    struct ft_config *c, const char *arg, char *err, size_t errlen);

/* Load a config file (lines "key = value", "flag", comments '#', blanks).
 * Refused (FT_ERR_UNSAFE) unless a regular file owned by root and not
 * writable by group or others, opened without following a symlink.
 * missing_ok: a missing file is FT_OK (defaults stay). */
int ft_config_load_file(struct ft_config *c, const char *path, bool missing_ok,
    char *err, size_t errlen);

/* What the module does: defaults, then the file named by a conf= argument
 * (or FT_CONF_DEFAULT, missing allowed), then every argv option. */
int ft_config_from_args(
    struct ft_config *c, int argc, const char **argv, char *err, size_t errlen);

/* Expand the secret= template for a user: %u the user name, %h the home
 * directory, a leading ~ the home, %% a literal %.  User names containing
 * '/' or starting with '.' are rejected. */
int ft_config_secret_path(const struct ft_config *c, const struct passwd *pw,
    char *out, size_t outlen, char *err, size_t errlen);

/* True if the secret= template uses the home directory (the module then
 * reads the file with the user's privileges). */
bool ft_config_secret_in_home(const struct ft_config *c);

/* Checks across options, made once every source has been applied:
 * nullok together with require=, and the Redis topology options that
 * exclude each other (pam_flowtotp(8)), are FT_ERR_PARSE. */
int ft_config_check(const struct ft_config *c, char *err, size_t errlen);

/* Iterate the option table (for --help output and the documentation test):
 * returns the name of option i, or NULL past the end. */
const char *ft_config_option_name(size_t i);

#endif
