/* Configuration: defaults, every option, bad values, the config file
 * (root-owned only; non-root runs check the refusal), precedence of argv
 * over the file, and secret path expansion. */
#include <config.h>

#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "backup.h"
#include "conf.h"
#include "otp.h"
#include "rc.h"
#include "util.h"

static const char *const all_names[] = {
    "enroll",
    "secret",
    "window",
    "prompt",
    "nullok",
    "cache",
    "deny",
    "unlock_time",
    "fail_interval",
    "try_first_pass",
    "use_first_pass",
    "forward_pass",
    "conf",
    "debug",
    "issuer",
    "backup_codes",
    "self_enroll",
    "redis_host",
    "redis_port",
    "redis_db",
    "redis_password_file",
    "redis_prefix",
    "redis_timeout_ms",
    "redis_fallback",
    "local_cache",
    "require",
    "exempt",
    "grace_days",
    "grace_dir",
    "remember",
    "store_key",
    "store_key_fallback",
    "store_key_cred",
    "encrypt",
    "redis_sentinels",
    "redis_master_name",
    "redis_sentinel_password_file",
    "redis_wait_replicas",
    "redis_wait_timeout_ms",
    "redis_cluster",
    "redis_socket",
    "redis_socket_owner",
    "redis_tls",
    "redis_tls_ca",
    "redis_tls_server_name",
    "redis_tls_cert",
    "redis_tls_key",
    "deliver",
    "deliver_user",
    "deliver_timeout",
    "deliver_ttl",
    "deliver_rate_minute",
    "deliver_rate_hour",
    "deliver_key",
};

/* require= and exempt=: the accepted forms, the refused ones, and nullok
 * with require= refused once all sources are applied (ft_config_check). */
static void
test_policy_options(void)
{
	static const char *const good[] = {"require=all", "require=none",
	    "require=group:wheel", "require=group:a,group:b-c.d_e",
	    "exempt=group:svc", "exempt=group:a,group:b", "exempt="};
	static const char *const bad[] = {"require=", "require=some",
	    "require=group:", "require=group:a,", "require=group:a,,group:b",
	    "require=group:a b", "require=wheel", "exempt=all", "exempt=none",
	    "exempt=group:a:b"};
	const char *both[] = {"nullok", "require=none"};
	const char *nullok_only[] = {"nullok", "exempt=group:svc"};
	struct ft_config c;
	char err[512] = "";
	size_t i;

	ft_config_defaults(&c);
	ok(strcmp(c.require, "all") == 0 && c.exempt[0] == '\0' &&
		!c.require_given,
	    "policy defaults: require=all, no exempt group");
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(ft_config_set_arg(&c, good[i], err, sizeof(err)) == FT_OK,
		    "%s accepted", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ok(ft_config_set_arg(&c, bad[i], err, sizeof(err)) ==
			    FT_ERR_PARSE &&
			contains(err, "expected"),
		    "%s refused: %s", bad[i], err);
	}
	ok(ft_config_from_args(&c, 2, both, err, sizeof(err)) == FT_ERR_PARSE &&
		contains(err, "nullok and require="),
	    "nullok with require= is a configuration error: %s", err);
	ok(ft_config_from_args(&c, 2, nullok_only, err, sizeof(err)) == FT_OK,
	    "nullok with exempt= is fine");
	ok(c.grace_days == 0 &&
		strcmp(c.grace_dir, "/var/lib/flowtotp/grace") == 0,
	    "grace defaults: off, /var/lib/flowtotp/grace");
	ok(ft_config_set_arg(&c, "grace_days=3650", err, sizeof(err)) ==
		    FT_OK &&
		c.grace_days == 3650 &&
		ft_config_set_arg(&c, "grace_dir=/srv/g", err, sizeof(err)) ==
		    FT_OK &&
		strcmp(c.grace_dir, "/srv/g") == 0,
	    "grace_days=3650 and grace_dir=/srv/g accepted");
	ok(ft_config_set_arg(&c, "grace_days=3651", err, sizeof(err)) ==
		    FT_ERR_PARSE &&
		ft_config_set_arg(&c, "grace_dir=rel", err, sizeof(err)) ==
		    FT_ERR_PARSE &&
		ft_config_set_arg(&c, "grace_dir=", err, sizeof(err)) ==
		    FT_ERR_PARSE,
	    "grace_days past ten years, a relative or empty grace_dir "
	    "refused");
}

static void
test_defaults(void)
{
	struct ft_config c;

	ft_config_defaults(&c);
	ok(strcmp(c.secret, FT_SECRET_DEFAULT) == 0 &&
		c.window == FT_WINDOW_DEFAULT &&
		strcmp(c.prompt, FT_PROMPT_DEFAULT) == 0 && !c.nullok &&
		strcmp(c.cache, FT_CACHE_DEFAULT) == 0 &&
		c.deny == FT_DENY_DEFAULT &&
		c.unlock_time == FT_UNLOCK_TIME_DEFAULT &&
		c.fail_interval == FT_FAIL_INTERVAL_DEFAULT &&
		!c.try_first_pass && !c.use_first_pass && !c.forward_pass &&
		c.conf[0] == '\0' && !c.debug && c.issuer[0] == '\0' &&
		c.backup_codes == FT_BACKUP_COUNT_DEFAULT,
	    "defaults (core)");
	ok(strcmp(c.redis_host, "127.0.0.1") == 0 &&
		c.redis_port == FT_REDIS_PORT_DEFAULT && c.redis_db == 0 &&
		c.redis_password_file[0] == '\0' &&
		strcmp(c.redis_prefix, FT_REDIS_PREFIX_DEFAULT) == 0 &&
		c.redis_timeout_ms == FT_REDIS_TIMEOUT_MS_DEFAULT &&
		c.redis_fallback == FT_REDIS_FALLBACK_DENY &&
		strcmp(c.local_cache, FT_CACHE_DEFAULT) == 0,
	    "defaults (redis)");
	ok(c.redis_socket[0] == '\0' &&
		strcmp(c.redis_socket_owner, "redis") == 0 && c.redis_tls &&
		c.redis_tls_ca[0] == '\0' &&
		c.redis_tls_server_name[0] == '\0' &&
		c.redis_tls_cert[0] == '\0' && c.redis_tls_key[0] == '\0',
	    "defaults (redis transport): TLS on, socket owner redis");
}

/* The Redis transport options that only work together, checked once
 * every source has been applied. */
static void
test_redis_transport(void)
{
	static const struct {
		const char *argv[2];
		const char *want; /* NULL: accepted */
	} cases[] = {
	    {{"redis_tls_cert=/c.pem", "redis_tls_key=/k.pem"}, NULL},
	    {{"redis_tls_cert=/c.pem", "debug"}, "go together"},
	    {{"redis_tls_key=/k.pem", "debug"}, "go together"},
	    {{"redis_host=/run/redis.sock", "debug"}, "redis_socket"},
	    {{"redis_socket=/run/r/s", "redis_tls_ca=/ca.pem"}, "TCP only"},
	    {{"redis_socket=/run/r/s", "redis_tls=no"}, NULL},
	    {{"redis_tls=no", "redis_socket_owner=valkey"}, NULL},
	};
	struct ft_config c;
	char err[512];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[2] = {cases[i].argv[0], cases[i].argv[1]};

		err[0] = '\0';
		rc = ft_config_from_args(&c, 2, argv, err, sizeof(err));
		if (cases[i].want == NULL)
			ok(rc == FT_OK, "%s %s: accepted (%s)",
			    cases[i].argv[0], cases[i].argv[1], err);
		else
			ok(rc == FT_ERR_PARSE && contains(err, cases[i].want),
			    "%s %s: refused: %s", cases[i].argv[0],
			    cases[i].argv[1], err);
	}
	ok(ft_config_set_arg(&c, "redis_socket=rel.sock", err, sizeof(err)) ==
		FT_ERR_PARSE,
	    "a relative redis_socket is refused");
}

static void
test_names(void)
{
	size_t i, j, n = 0, found = 0;
	const char *name;

	for (i = 0; (name = ft_config_option_name(i)) != NULL; i++) {
		n++;
		for (j = 0; j < sizeof(all_names) / sizeof(all_names[0]); j++)
			if (strcmp(name, all_names[j]) == 0)
				found++;
	}
	is_int(n, sizeof(all_names) / sizeof(all_names[0]),
	    "option table has every option");
	is_int(found, n, "every table name is a documented option");
}

static void
test_args(void)
{
	static const char *const good[] = {
	    "secret=~/.flowtotp",
	    "window=10",
	    "window=0",
	    "prompt=Code: ",
	    "nullok",
	    "cache=redis",
	    "deny=0",
	    "deny=1000",
	    "unlock_time=31536000",
	    "fail_interval=0",
	    "try_first_pass",
	    "use_first_pass",
	    "forward_pass",
	    "conf=/etc/x.conf",
	    "debug",
	    "issuer=Example Corp",
	    "issuer=",
	    "backup_codes=1",
	    "backup_codes=32",
	    "redis_host=10.0.0.1",
	    "redis_port=1",
	    "redis_port=65535",
	    "redis_db=255",
	    "redis_password_file=/etc/p",
	    "redis_prefix=ft",
	    "redis_timeout_ms=10",
	    "redis_timeout_ms=60000",
	    "redis_fallback=local",
	    "enroll=login",
	    "enroll=no",
	    "local_cache=/run/ft.gdbm",
	    "secret=/var/lib/ft/%u",
	    "secret=%h/.ft",
	    "cache=/dev/shm/x/state.gdbm",
	    "debug=no",
	};
	static const struct {
		const char *arg, *frag;
	} bad[] = {
	    {"window=11", "window: expected an integer 0..10"},
	    {"window=-1", "window: expected"},
	    {"window=1x", "window: expected"},
	    {"window=", "window: expected"},
	    {"window", "window: missing value"},
	    {"window=99999999999999999999", "window: expected"},
	    {"bogus=1", "unknown option \"bogus\""},
	    {"bogus", "unknown option"},
	    {"=1", "bad option"},
	    {"nullok=maybe", "nullok: expected yes/no"},
	    {"secret=relative/%u", "secret: must be an absolute path"},
	    {"secret=~alice/x", "secret: must be"},
	    {"cache=foo", "cache: must be an absolute path or \"redis\""},
	    {"local_cache=redis", "local_cache: must be"},
	    {"deny=1001", "deny: expected an integer 0..1000"},
	    {"unlock_time=31536001", "unlock_time: expected"},
	    {"fail_interval=-5", "fail_interval: expected"},
	    {"backup_codes=0", "backup_codes: expected an integer 1..32"},
	    {"backup_codes=33", "backup_codes: expected"},
	    {"redis_port=0", "redis_port: expected an integer 1..65535"},
	    {"redis_port=65536", "redis_port: expected"},
	    {"redis_db=256", "redis_db: expected"},
	    {"redis_timeout_ms=9", "redis_timeout_ms: expected"},
	    {"redis_timeout_ms=60001", "redis_timeout_ms: expected"},
	    {"redis_fallback=allow", "redis_fallback: expected deny or local"},
	    {"enroll=yes", "enroll: expected no or login"},
	    {"redis_host=", "redis_host: empty value"},
	    {"redis_password_file=pw", "redis_password_file: must be"},
	    {"prompt=a\tb", "prompt: control character"},
	    {"conf=etc/x", "conf: must be"},
	};
	struct ft_config c;
	char err[512] = "", longp[FT_CONF_STR_MAX + 10];
	size_t i;
	int rc, nok = 0;

	ft_config_defaults(&c);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		rc = ft_config_set_arg(&c, good[i], err, sizeof(err));
		if (rc != FT_OK)
			diag("%s: %s", good[i], err);
		else
			nok++;
	}
	is_int(nok, sizeof(good) / sizeof(good[0]), "valid options accepted");
	ok(strcmp(c.secret, "%h/.ft") == 0 && c.window == 0 &&
		strcmp(c.prompt, "Code: ") == 0 && c.nullok &&
		strcmp(c.cache, "/dev/shm/x/state.gdbm") == 0 &&
		c.deny == 1000 && c.unlock_time == 31536000 &&
		c.fail_interval == 0 && c.try_first_pass && c.use_first_pass &&
		c.forward_pass && strcmp(c.conf, "/etc/x.conf") == 0 &&
		!c.debug && c.issuer[0] == '\0' && c.backup_codes == 32 &&
		strcmp(c.redis_host, "10.0.0.1") == 0 &&
		c.redis_port == 65535 && c.redis_db == 255 &&
		strcmp(c.redis_password_file, "/etc/p") == 0 &&
		strcmp(c.redis_prefix, "ft") == 0 &&
		c.redis_timeout_ms == 60000 &&
		c.redis_fallback == FT_REDIS_FALLBACK_LOCAL &&
		strcmp(c.local_cache, "/run/ft.gdbm") == 0,
	    "values stored");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		rc = ft_config_set_arg(&c, bad[i].arg, err, sizeof(err));
		ok(rc == FT_ERR_PARSE && contains(err, bad[i].frag),
		    "bad option %s rejected: %s", bad[i].arg, err);
	}
	memset(longp, 'x', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	memcpy(longp, "prompt=", 7);
	ok(ft_config_set_arg(&c, longp, err, sizeof(err)) == FT_ERR_PARSE &&
		contains(err, "longer than"),
	    "over-long prompt: %s", err);
	ok(ft_config_set(&c, "nullok", "yes", err, sizeof(err)) == FT_OK &&
		c.nullok &&
		ft_config_set(&c, "nullok", "false", err, sizeof(err)) ==
		    FT_OK &&
		!c.nullok &&
		ft_config_set(&c, "nullok", "1", err, sizeof(err)) == FT_OK &&
		c.nullok,
	    "flag values yes/false/1");
}

static void
test_file(void)
{
	struct ft_config c;
	char err[512] = "", arg[PATH_MAX + 8];
	const char *file = tpath("flowtotp.conf");
	const char *argv[3];
	int rc;

	write_str(file,
	    "# site config\n\nwindow = 2\n  nullok\n"
	    "prompt = \"Token please: \"\nissuer=Corp\ndebug = yes\n"
	    "cache = redis\nredis_fallback = local\n",
	    0644);
	(void)snprintf(arg, sizeof(arg), "conf=%s", file);
	argv[0] = arg;
	argv[1] = "window=5";
	argv[2] = "debug=no";
	if (geteuid() != 0) {
		rc = ft_config_from_args(&c, 3, argv, err, sizeof(err));
		ok(rc == FT_ERR_UNSAFE && contains(err, "owned by uid"),
		    "non-root: a file not owned by root is refused (%s)", err);
		ft_config_defaults(&c);
		rc = ft_config_load_file(&c, file, true, err, sizeof(err));
		is_int(rc, FT_ERR_UNSAFE, "refused even when missing is ok");
		return;
	}
	rc = ft_config_from_args(&c, 3, argv, err, sizeof(err));
	ok(rc == FT_OK && c.window == 5 && c.nullok && !c.debug &&
		strcmp(c.prompt, "Token please: ") == 0 &&
		strcmp(c.issuer, "Corp") == 0 &&
		strcmp(c.cache, "redis") == 0 &&
		c.redis_fallback == FT_REDIS_FALLBACK_LOCAL,
	    "file read, argv overrides it (%s)", err);
	is_str(c.conf, file, "loaded file recorded in conf");
	ft_config_defaults(&c);
	rc = ft_config_load_file(&c, file, false, err, sizeof(err));
	ok(rc == FT_OK && c.window == 2 && c.debug, "file alone: window 2");

	ok(chmod(file, 0664) == 0, "chmod g+w");
	rc = ft_config_from_args(&c, 3, argv, err, sizeof(err));
	ok(rc == FT_ERR_UNSAFE && contains(err, "mode 0664"),
	    "group-writable file refused (%s)", err);
	ok(chmod(file, 0646) == 0, "chmod o+w");
	rc = ft_config_load_file(&c, file, false, err, sizeof(err));
	is_int(rc, FT_ERR_UNSAFE, "world-writable file refused");
	ok(chmod(file, 0640) == 0 && chown(file, 65534, 0) == 0, "chown");
	rc = ft_config_load_file(&c, file, false, err, sizeof(err));
	ok(rc == FT_ERR_UNSAFE && contains(err, "owned by uid 65534"),
	    "file not owned by root refused");
	ok(chown(file, 0, 0) == 0, "chown back");
	ok(symlink(file, tpath("link.conf")) == 0, "symlink");
	rc = ft_config_load_file(
	    &c, tpath("link.conf"), false, err, sizeof(err));
	ok(rc == FT_ERR_UNSAFE && contains(err, "symlink"),
	    "symlinked config refused (%s)", err);

	(void)snprintf(arg, sizeof(arg), "conf=%s", tpath("missing.conf"));
	rc = ft_config_from_args(&c, 1, argv, err, sizeof(err));
	is_int(rc, FT_ERR_NOENT, "conf= names a missing file: error");
	ft_config_defaults(&c);
	rc = ft_config_load_file(
	    &c, tpath("missing.conf"), true, err, sizeof(err));
	ok(rc == FT_OK && c.conf[0] == '\0', "missing file ok when allowed");

	write_str(tpath("bad.conf"), "window = 2\n# x\nwindow = 12\n", 0644);
	rc =
	    ft_config_load_file(&c, tpath("bad.conf"), false, err, sizeof(err));
	ok(rc == FT_ERR_PARSE && contains(err, "bad.conf:3: window"),
	    "bad value names file and line (%s)", err);
	write_str(tpath("bad2.conf"), "colour = red\n", 0644);
	rc = ft_config_load_file(
	    &c, tpath("bad2.conf"), false, err, sizeof(err));
	ok(rc == FT_ERR_PARSE && contains(err, "unknown option"),
	    "unknown option in file (%s)", err);
	write_str(tpath("bad3.conf"), "window = 2\r\n", 0644);
	rc = ft_config_load_file(
	    &c, tpath("bad3.conf"), false, err, sizeof(err));
	ok(rc == FT_ERR_PARSE && contains(err, "CRLF"), "CRLF in file");
	write_str(tpath("bad4.conf"), "window\n", 0644);
	rc = ft_config_load_file(
	    &c, tpath("bad4.conf"), false, err, sizeof(err));
	ok(rc == FT_ERR_PARSE && contains(err, "missing value"),
	    "missing value in file (%s)", err);
	write_str(tpath("bad5.conf"), "conf = /etc/other\n", 0644);
	rc = ft_config_load_file(
	    &c, tpath("bad5.conf"), false, err, sizeof(err));
	is_int(rc, FT_ERR_PARSE, "conf= inside a config file refused");
}

/* Expand the template for a user given by name and home; *home tells
 * whether the template reads from the home directory. */
static int
path_of(const struct ft_config *c, const char *user, const char *dir, char *out,
    size_t outlen, bool *home, char *err, size_t errlen)
{
	struct passwd pw;

	memset(&pw, 0, sizeof(pw));
	pw.pw_name = (char *)(uintptr_t)user;
	pw.pw_dir = (char *)(uintptr_t)dir;
	*home = ft_config_secret_in_home(c);
	return ft_config_secret_path(c, &pw, out, outlen, err, errlen);
}

static void
test_secret_path(void)
{
	struct ft_config c;
	char out[PATH_MAX], err[512], small[12];
	bool home;
	int rc;

	ft_config_defaults(&c);
	rc = path_of(&c, "alice", "/home/alice", out, sizeof(out), &home, err,
	    sizeof(err));
	ok(rc == FT_OK && strcmp(out, "/var/lib/flowtotp/users/alice") == 0 &&
		!home,
	    "default template: %s", out);
	(void)ft_config_set_arg(&c, "secret=~/.flowtotp", err, sizeof(err));
	rc = path_of(&c, "alice", "/home/alice", out, sizeof(out), &home, err,
	    sizeof(err));
	ok(rc == FT_OK && strcmp(out, "/home/alice/.flowtotp") == 0 && home,
	    "~/ expands to home: %s", out);
	(void)ft_config_set_arg(&c, "secret=%h/.ft/%u%%x", err, sizeof(err));
	rc = path_of(
	    &c, "bob", "/srv/bob", out, sizeof(out), &home, err, sizeof(err));
	ok(rc == FT_OK && strcmp(out, "/srv/bob/.ft/bob%x") == 0 && home,
	    "%%h %%u %%%% expand: %s", out);
	rc = path_of(
	    &c, "bob", "relative", out, sizeof(out), &home, err, sizeof(err));
	ok(rc != FT_OK, "relative home refused");
	rc = path_of(&c, "bob", "/srv/bob", small, sizeof(small), &home, err,
	    sizeof(err));
	ok(rc != FT_OK && small[0] == '\0', "overflow is an error (%s)", err);
	(void)ft_config_set_arg(&c, "secret=/x/%q", err, sizeof(err));
	rc = path_of(
	    &c, "bob", "/srv/bob", out, sizeof(out), &home, err, sizeof(err));
	ok(rc != FT_OK, "unknown escape refused (%s)", err);
	(void)ft_config_set_arg(&c, "secret=/x/%", err, sizeof(err));
	rc = path_of(
	    &c, "bob", "/srv/bob", out, sizeof(out), &home, err, sizeof(err));
	ok(rc != FT_OK, "trailing %% refused");
	ft_config_defaults(&c);
	ok(path_of(&c, "", "/h", out, sizeof(out), &home, err, sizeof(err)) !=
		FT_OK,
	    "empty user refused");
	ok(path_of(&c, "../etc", "/h", out, sizeof(out), &home, err,
	       sizeof(err)) != FT_OK,
	    "user with '/' and '.' refused");
	ok(path_of(&c, "a/b", "/h", out, sizeof(out), &home, err,
	       sizeof(err)) != FT_OK,
	    "user with '/' refused");
	ok(path_of(&c, ".hidden", "/h", out, sizeof(out), &home, err,
	       sizeof(err)) != FT_OK,
	    "user starting with '.' refused");
	ok(path_of(&c, "a\nb", "/h", out, sizeof(out), &home, err,
	       sizeof(err)) != FT_OK,
	    "user with a newline refused");
	ok(path_of(&c, "user.name-1_x", "/h", out, sizeof(out), &home, err,
	       sizeof(err)) == FT_OK,
	    "ordinary punctuation allowed");
}

int
main(void)
{
	tdir_make();
	test_defaults();
	test_names();
	test_redis_transport();
	test_args();
	test_file();
	test_secret_path();
	test_policy_options();
	return done_testing();
}
