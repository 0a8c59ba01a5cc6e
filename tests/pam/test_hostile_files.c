/* The secret file as a hostile local user or a broken directory service
 * shapes it, through real libpam and the test build of the module:
 *
 *   - a case-insensitive user database (foldcase.c preloaded ahead of
 *     nss_wrapper, as SSSD or winbind with AD): every spelling of a name is
 *     the one account, with one secret, one replay record and one lockout
 *     counter, and nullok never skips the code for "ALICE";
 *   - nullok opens only when the file (or a directory below the anchor) is
 *     absent, never when the home or the store itself is missing or cannot
 *     be searched;
 *   - a secret file with a second hard link is refused;
 *   - a backup entry asking for more PBKDF2 rounds than the cap is refused.
 *
 * Codes come from oathtool; time is pinned with FLOWTOTP_TEST_NOW; the
 * module's syslog lines are caught by syslogcap.c.  Like test_pam, the
 * program sets up a temp dir and re-runs itself with the preloads, and
 * removes the temp dir whatever happened to the child. */
#include <config.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "backup.h"
#include "nsswrap.h"
#include "pamconv.h"
#include "rc.h"
#include "secretfile.h"
#include "tap.h"
#include "util.h"

#define T0 1700000110L /* 10 s into a 30 s step */
#define PERIOD 30L
#define HIDEY_UID 4243 /* its home is mode 000 */
#define GHOST_UID 4244 /* its home does not exist */
/* What libpam answers when the only module returns PAM_IGNORE; the log
 * line (result=ignore) says it was the module's nullok. */
#define IGNORED PAM_PERM_DENIED
#define LOGBUF_MAX (256 * 1024)
#define SVC "ft-hostile"
#define KEY20 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
#define BACKUP_CODE "abcd-efgh-jkmn"
#define WRONG_CODE "000000"

static struct {
	char root[PATH_MAX];
	char module[PATH_MAX];
	char log[PATH_MAX];
	char cli[PATH_MAX];
	bool is_root;
} E;

/* ---- codes, files, one login ---- */

static void
code_at(long t, char *out, size_t outlen)
{
	const struct tu_totp k = {KEY20, "SHA1", 6, (unsigned)PERIOD};

	tu_totp_code(&k, t, out, outlen);
}

/* A version 1 secret, with one backup entry of `rounds` rounds (0: none). */
static void
put_secret(const char *path, unsigned rounds, uid_t uid)
{
	char text[1024], norm[FT_BACKUP_NORM_BUFSZ], hash[FT_BACKUP_HASH_BUFSZ];

	tu_fmt(text, sizeof(text),
	    "version = 1\nsecret = %s\nalgorithm = SHA1\ndigits = 6\n"
	    "period = 30\ncreated = 1699990000\n",
	    KEY20);
	if (rounds > 0) {
		if (ft_backup_normalize(BACKUP_CODE, norm, sizeof(norm)) !=
			FT_OK ||
		    ft_backup_hash(norm, rounds, hash, sizeof(hash)) != FT_OK)
			bail_out("cannot hash the backup code");
		strncat(text, "backup = ", sizeof(text) - strlen(text) - 1);
		strncat(text, hash, sizeof(text) - strlen(text) - 1);
		strncat(text, "\n", sizeof(text) - strlen(text) - 1);
	}
	MUST(tu_write_file(path, text, strlen(text), 0600));
	if (uid != getuid())
		MUST(chown(path, uid, uid));
}

struct tcase {
	char dir[PATH_MAX];
	char pamd[PATH_MAX];
	char store[PATH_MAX];
};

/* A case directory with a service file: our module with `secret`
 * (NULL: the store under the case directory) and `args`. */
static void
case_new(
    struct tcase *c, const char *name, const char *secret, const char *args)
{
	char text[4096];

	tu_fmt(c->dir, sizeof(c->dir), "%s/cases/%s", E.root, name);
	tu_fmt(c->pamd, sizeof(c->pamd), "%s/pam.d", c->dir);
	tu_fmt(c->store, sizeof(c->store), "%s/store", c->dir);
	MUST(mkdir(c->dir, 0700));
	pt_confdir(c->pamd);
	MUST(mkdir(c->store, 0700));
	tu_fmt(text, sizeof(text),
	    "auth required %s secret=%s%s cache=%s/cache/state.gdbm "
	    "window=1 deny=3 unlock_time=600 fail_interval=900 %s\n",
	    E.module, secret != NULL ? secret : c->store,
	    secret != NULL ? "" : "/%u", c->dir, args);
	pt_service(c->pamd, SVC, text);
}

struct result {
	int rc;
	int nprompts;
	char log[LOGBUF_MAX];
};

static void
login(const struct tcase *c, const char *user, long now, const char *answer,
    struct result *r)
{
	const char *ans[1] = {answer};
	struct pt_conv cv = {.ans = ans, .nans = answer != NULL ? 1U : 0U};
	struct pt_login l = {.service = SVC,
	    .user = user,
	    .confdir = c->pamd,
	    .now = now,
	    .logpath = E.log,
	    .log = r->log,
	    .logcap = sizeof(r->log)};

	r->rc = pt_login(&l, &cv);
	r->nprompts = cv.nprompts;
}

/* rc and the one outcome line's result= and reason= (and, if given, more
 * text it must hold). */
static void
expect(const struct result *r, int rc, const char *outcome, const char *also,
    const char *what)
{
	char want[128];
	bool good;

	tu_fmt(want, sizeof(want), "result=%s", outcome);
	good = r->rc == rc && strstr(r->log, want) != NULL &&
	    (also == NULL || strstr(r->log, also) != NULL);
	ok(good, "%s: %s, %s%s%s", what, pam_strerror(NULL, rc), want,
	    also != NULL ? ", " : "", also != NULL ? also : "");
	if (!good)
		diag("rc=%d (%s), log: %s", r->rc, pam_strerror(NULL, r->rc),
		    r->log);
}

/* totp-enroll on the case's store and cache; its exit status, with stdout
 * and stderr together in out. */
static int
cli_run(const struct tcase *c, const char *cmd, const char *user, char *out,
    size_t outlen)
{
	char secret[PATH_MAX + 16], cache[PATH_MAX + 32], conf[PATH_MAX];
	char dash_c[] = "-c", dash_o[] = "-o", json[] = "--json";
	char *argv[] = {E.cli, dash_c, conf, dash_o, secret, dash_o, cache,
	    (char *)(uintptr_t)cmd, (char *)(uintptr_t)user, json, NULL};

	tu_fmt(conf, sizeof(conf), "%s/empty.conf", E.root);
	tu_fmt(secret, sizeof(secret), "secret=%s/%%u", c->store);
	tu_fmt(cache, sizeof(cache), "cache=%s/cache/state.gdbm", c->dir);
	if (strcmp(cmd, "status") != 0)
		argv[9] = NULL; /* --json only where it is taken */
	return tu_run(argv, true, out, outlen);
}

/* ---- case-insensitive user database ---- */

static void
t_spellings_nullok(void)
{
	struct tcase c;
	struct result r;
	char code[16], path[PATH_MAX];

	case_new(&c, "fold-nullok", NULL, "nullok");
	tu_fmt(path, sizeof(path), "%s/alice", c.store);
	put_secret(path, 0, getuid());
	code_at(T0, code, sizeof(code));
	login(&c, "ALICE", T0, WRONG_CODE, &r);
	expect(&r, PAM_AUTH_ERR, "failure reason=bad_code", "user=alice",
	    "nullok, ALICE with a wrong code (alice is enrolled)");
	ok(r.nprompts == 1, "ALICE is asked for the code, not skipped");
	login(&c, "Alice", T0, code, &r);
	expect(&r, PAM_SUCCESS, "success", "user=alice",
	    "Alice with alice's code: logged as the canonical name");
	ok(strstr(r.log, "user=Alice") == NULL,
	    "the typed spelling is not "
	    "the logged user");
}

static void
t_spellings_replay(void)
{
	struct tcase c;
	struct result r;
	char code[16], path[PATH_MAX];

	case_new(&c, "fold-replay", NULL, "");
	tu_fmt(path, sizeof(path), "%s/alice", c.store);
	put_secret(path, 0, getuid());
	code_at(T0, code, sizeof(code));
	login(&c, "alice", T0, code, &r);
	expect(&r, PAM_SUCCESS, "success", NULL, "alice logs in");
	login(&c, "ALICE", T0, code, &r);
	expect(&r, PAM_AUTH_ERR, "failure reason=replay", "user=alice",
	    "the same code as ALICE is a replay");
	login(&c, "Alice", T0 + 1, code, &r);
	expect(&r, PAM_AUTH_ERR, "failure reason=replay", "user=alice",
	    "the same code as Alice is a replay");
}

static void
t_spellings_lockout(void)
{
	static const char *const names[] = {"ALICE", "Alice", "alice"};
	struct tcase c;
	struct result r;
	char code[16], path[PATH_MAX], out[4096];
	int ex;

	case_new(&c, "fold-lockout", NULL, "");
	tu_fmt(path, sizeof(path), "%s/alice", c.store);
	put_secret(path, 0, getuid());
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		login(&c, names[i], T0 + (long)i, WRONG_CODE, &r);
		ok(r.rc == PAM_AUTH_ERR, "wrong code as %s denied", names[i]);
	}
	code_at(T0 + PERIOD, code, sizeof(code));
	login(&c, "aLiCe", T0 + PERIOD, code, &r);
	expect(&r, PAM_AUTH_ERR, "failure reason=locked", "user=alice",
	    "three failures over three spellings lock the one account");
	ex = cli_run(&c, "status", "ALICE", out, sizeof(out));
	ok(ex == 0 && strstr(out, "\"user\":\"alice\"") != NULL &&
		strstr(out, "\"locked\":true") != NULL &&
		strstr(out, "\"failures\":3") != NULL,
	    "totp-enroll status ALICE shows alice's one record: locked, 3 "
	    "failures");
	if (ex != 0 || strstr(out, "\"locked\":true") == NULL)
		diag("exit %d: %s", ex, out);
	ex = cli_run(&c, "unlock", "ALICE", out, sizeof(out));
	ok(ex == 0, "totp-enroll unlock ALICE");
	if (ex != 0)
		diag("exit %d: %s", ex, out);
	login(&c, "alice", T0 + PERIOD, code, &r);
	expect(&r, PAM_SUCCESS, "success", "user=alice",
	    "after unlock ALICE, alice logs in: the CLI used the same record");
}

/* ---- nullok and the anchor ---- */

static void
t_nullok_anchor_store(void)
{
	struct tcase c;
	struct result r;
	char tpl[PATH_MAX];

	case_new(&c, "anchor-store", NULL, "nullok");
	login(&c, "alice", T0, WRONG_CODE, &r);
	expect(&r, IGNORED, "ignore", NULL,
	    "store exists, no file for alice: nullok skips");
	ok(r.nprompts == 0, "no prompt when nullok skips");

	tu_fmt(tpl, sizeof(tpl), "%s/cases/anchor-nostore/gone/%%u", E.root);
	case_new(&c, "anchor-nostore", tpl, "nullok");
	login(&c, "alice", T0, WRONG_CODE, &r);
	expect(&r, PAM_AUTH_ERR, "failure reason=unsafe_file", "does not exist",
	    "the store directory is missing: denied, not skipped");

	tu_fmt(tpl, sizeof(tpl), "%s/cases/anchor-below/%%u/secret", E.root);
	case_new(&c, "anchor-below", tpl, "nullok");
	login(&c, "alice", T0, WRONG_CODE, &r);
	expect(&r, IGNORED, "ignore", NULL,
	    "a per-user directory below the store is missing: nullok skips");
}

static void
t_nullok_anchor_home(void)
{
	struct tcase c;
	struct result r;
	char path[PATH_MAX];

	case_new(&c, "anchor-home", "~/.ft/secret", "nullok");
	login(&c, "alice", T0, WRONG_CODE, &r);
	expect(
	    &r, IGNORED, "ignore", NULL, "home exists, no ~/.ft: nullok skips");
	tu_fmt(path, sizeof(path), "%s/home/alice/.ft", E.root);
	MUST(mkdir(path, 0700));
	login(&c, "alice", T0, WRONG_CODE, &r);
	expect(&r, IGNORED, "ignore", NULL,
	    "home and ~/.ft exist, no file: nullok skips");
	login(&c, "ghost", T0, WRONG_CODE, &r);
	expect(&r, PAM_AUTH_ERR, "failure reason=unsafe_file", "does not exist",
	    "the home directory is missing (NFS down): denied, not skipped");
	if (!E.is_root) {
		ok(true, "# SKIP an unreadable home needs root (the drop)");
		return;
	}
	login(&c, "hidey", T0, WRONG_CODE, &r);
	expect(&r, PAM_AUTH_ERR, "failure reason=unsafe_file", NULL,
	    "a home the user cannot search (mode 000): denied");
}

/* ---- hard links and round counts ---- */

static void
t_hard_link(void)
{
	struct tcase c;
	struct result r;
	char code[16], path[PATH_MAX], other[PATH_MAX], out[4096];
	int ex;

	case_new(&c, "hardlink", NULL, "");
	tu_fmt(path, sizeof(path), "%s/alice", c.store);
	tu_fmt(other, sizeof(other), "%s/alice-copy", c.dir);
	put_secret(path, 0, getuid());
	code_at(T0, code, sizeof(code));
	MUST(link(path, other));
	login(&c, "alice", T0, code, &r);
	expect(&r, PAM_AUTH_ERR, "failure reason=unsafe_file", "hard links",
	    "a secret file with a second link is refused");
	ex = cli_run(&c, "status", "alice", out, sizeof(out));
	ok(ex != 0 && strstr(out, "hard links") != NULL,
	    "totp-enroll status refuses the hard-linked file too");
	if (ex == 0 || strstr(out, "hard links") == NULL)
		diag("exit %d: %s", ex, out);
	MUST(unlink(other));
	login(&c, "alice", T0, code, &r);
	expect(&r, PAM_SUCCESS, "success", NULL, "the same file, one link");
}

static void
t_rounds_cap(void)
{
	struct tcase c;
	struct result r;
	char code[16], path[PATH_MAX];

	case_new(&c, "rounds", NULL, "");
	tu_fmt(path, sizeof(path), "%s/alice", c.store);
	code_at(T0, code, sizeof(code));
	put_secret(path, FT_SECRETFILE_ROUNDS_MAX + 1U, getuid());
	login(&c, "alice", T0, BACKUP_CODE, &r);
	expect(&r, PAM_AUTH_ERR, "failure reason=unsafe_file", "PBKDF2 rounds",
	    "a backup entry over the round cap: the file is refused");
	put_secret(path, FT_SECRETFILE_ROUNDS_MAX, getuid());
	login(&c, "alice", T0, BACKUP_CODE, &r);
	expect(&r, PAM_SUCCESS, "success reason=backup_used", NULL,
	    "a backup entry at the round cap is used");
}

/* ---- setup: temp dir, users, preloads, re-exec ---- */

static int
stage1(char **argv, const char *builddir)
{
	char path[PATH_MAX], fold[PATH_MAX];
	char *root = tu_mkdtemp("hostile");
	struct tu_users u;
	unsigned long me = (unsigned long)getuid();

	tu_fmt(E.root, sizeof(E.root), "%s", root);
	free(root);
	E.is_root = geteuid() == 0;
	/* the folding comes first, so nss_wrapper sees the folded name */
	tu_fmt(fold, sizeof(fold), "%s/tests/pam/.libs/libftfoldcase.so",
	    builddir);
	tu_nss_preload(E.root, fold);
	if (E.is_root)
		MUST(chmod(E.root, 0711)); /* the users reach their homes */
	tu_fmt(path, sizeof(path), "%s/cases", E.root);
	MUST(mkdir(path, 0700));
	tu_users_begin(&u, E.root);
	tu_users_add(&u, "alice", me, 0700);
	tu_users_add(&u, "ghost", E.is_root ? GHOST_UID : me, -1);
	if (E.is_root)
		tu_users_add(&u, "hidey", HIDEY_UID, 0);
	tu_users_end(&u);
	MUST(setenv("FT_HOSTILE_ROOT", E.root, 1));
	return tu_reexec(argv, E.root);
}

static void
stage2_env(const char *builddir)
{
	char path[PATH_MAX];

	tu_fmt(E.root, sizeof(E.root), "%s", getenv("FT_HOSTILE_ROOT"));
	E.is_root = geteuid() == 0;
	tu_fmt(E.module, sizeof(E.module),
	    "%s/pam_module/.libs/pam_flowtotp_test.so", builddir);
	if (access(E.module, R_OK) != 0)
		bail_out("%s missing", E.module);
	tu_fmt(E.cli, sizeof(E.cli), "%s/cli/totp-enroll-test", builddir);
	pt_capture_syslog(E.root, E.log, sizeof(E.log));
	tu_fmt(path, sizeof(path), "%s/empty.conf", E.root);
	MUST(tu_write_file(path, "", 0, 0600));
	MUST(unsetenv("PAM_AUTHTOK"));
}

int
main(int argc, char **argv)
{
	const char *b = getenv("top_builddir");
	char builddir[PATH_MAX];

	(void)argc;
	if (b == NULL || b[0] == '\0' || realpath(b, builddir) == NULL)
		bail_out("top_builddir not set (run through make check)");
	if (getenv("FT_HOSTILE_ROOT") == NULL)
		return stage1(argv, builddir);
	stage2_env(builddir);
	t_spellings_nullok();
	t_spellings_replay();
	t_spellings_lockout();
	t_nullok_anchor_store();
	t_nullok_anchor_home();
	t_hard_link();
	t_rounds_cap();
	return done_testing();
}
