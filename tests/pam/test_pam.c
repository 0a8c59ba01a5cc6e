/* pam_flowtotp through real libpam.
 *
 * Each case writes a service file into its own directory and runs
 * pam_start_confdir() + pam_authenticate() on the test build of the module
 * (pam_module/.libs/pam_flowtotp_test.so, loaded by absolute path), with
 * users from nss_wrapper (uid = ours, homes in a temp dir), time pinned by
 * FLOWTOTP_TEST_NOW, codes from oathtool (an independent implementation),
 * and the module's syslog lines caught by syslogcap.c.
 *
 * The program first sets up the temp dir and the nss_wrapper files, then
 * runs itself again with LD_PRELOAD=libnss_wrapper.so, and removes the temp
 * dir when that child ends, whatever happened to it. */
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
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <security/pam_appl.h>

#include "backup.h"
#include "failstrdup.h"
#include "nsswrap.h"
#include "pamconv.h"
#include "rc.h"
#include "tap.h"
#include "util.h"

#define T0 1700000110L /* 10 s into a step of 15, 30, 60 and 300 s */
#define NUSERS 200
#define NCONC 20
#define NROUNDS 20
#define OTHER_UID 4321 /* an owner that is neither root nor us */
#define HOMEY_UID 4242 /* root runs: a real drop_priv target */
#define BACKUP_ITER 1000U
#define LOGBUF_MAX (1024 * 1024)
#define SVC "ft-test"

static struct {
	char root[PATH_MAX];
	char module[PATH_MAX];
	char setitems[PATH_MAX]; /* "" if pam_wrapper's modules are */
	char getitems[PATH_MAX]; /* not installed */
	char log[PATH_MAX];
	char shm[PATH_MAX]; /* caches live here, as in production */
	bool is_root;
} E;

/* ---- keys and codes ---- */

#define KEY20 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
#define KEY32 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA"
#define KEY64                                                                  \
	"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBV"             \
	"GY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA"

struct tsecret {
	const char *key;  /* base32, unpadded */
	const char *algo; /* SHA1 SHA256 SHA512 */
	unsigned digits;
	unsigned period;
};

static const struct tsecret S_DEFAULT = {KEY20, "SHA1", 6, 30};

static void
b32(const uint8_t *in, size_t n, char *out, size_t outlen)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint32_t buf = 0;
	size_t o = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		buf = (buf << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			if (o + 1 >= outlen)
				bail_out("b32 overflow");
			out[o++] = al[(buf >> (bits - 5)) & 31U];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = al[(buf << (5 - bits)) & 31U];
	out[o] = '\0';
}

/* The code for secret s at time t, from oathtool. */
static void
code_at(const struct tsecret *s, long t, char *out, size_t outlen)
{
	const struct tu_totp k = {s->key, s->algo, s->digits, s->period};

	tu_totp_code(&k, t, out, outlen);
}

/* ---- a test case: its directory, service file, secrets ---- */

struct tcase {
	char dir[PATH_MAX];
	char pamd[PATH_MAX];
	char secrets[PATH_MAX];
	char cachedir[PATH_MAX];
	char cache[PATH_MAX];
	char service[64];
};

static void
case_new(struct tcase *c, const char *name)
{
	char path[PATH_MAX];

	tu_fmt(c->dir, sizeof(c->dir), "%s/cases/%s", E.root, name);
	tu_fmt(c->pamd, sizeof(c->pamd), "%s/pam.d", c->dir);
	tu_fmt(c->secrets, sizeof(c->secrets), "%s/secrets", c->dir);
	/* On tmpfs like the default cache (and without the fsync that gdbm
	 * does on every close costing a millisecond on a disk). */
	if (E.shm[0] != '\0') {
		tu_fmt(path, sizeof(path), "%s/%s", E.shm, name);
		MUST(mkdir(path, 0700));
		tu_fmt(c->cachedir, sizeof(c->cachedir), "%s/cache", path);
	} else {
		tu_fmt(c->cachedir, sizeof(c->cachedir), "%s/cache", c->dir);
	}
	tu_fmt(c->cache, sizeof(c->cache), "%s/state.gdbm", c->cachedir);
	tu_fmt(c->service, sizeof(c->service), "%s", SVC);
	MUST(mkdir(c->dir, 0700));
	pt_confdir(c->pamd);
	MUST(mkdir(c->secrets, 0700));
}

/* Write the service file: [pre lines] our module with the base options and
 * `args` (later options win) [post lines]. */
static void
case_stack(
    const struct tcase *c, const char *pre, const char *args, const char *post)
{
	char text[8192];

	tu_fmt(text, sizeof(text),
	    "%s"
	    "auth required %s secret=%s/%%u cache=%s window=1 deny=3 "
	    "unlock_time=600 fail_interval=900 %s\n"
	    "%s",
	    pre != NULL ? pre : "", E.module, c->secrets, c->cache,
	    args != NULL ? args : "", post != NULL ? post : "");
	pt_service(c->pamd, c->service, text);
}

/* Rounds of the backup hashes the tests write: few, for speed, except where
 * the time of a login is compared with the module's dummy work. */
static unsigned backup_iter = BACKUP_ITER;

static void
secret_text(const struct tsecret *s, const char *const *backup, size_t nb,
    char *out, size_t outlen)
{
	char line[FT_BACKUP_HASH_BUFSZ + 32], norm[FT_BACKUP_NORM_BUFSZ];
	char hash[FT_BACKUP_HASH_BUFSZ];

	tu_fmt(out, outlen,
	    "# flowtotp secret (written by the test)\n"
	    "version = 1\n"
	    "secret = %s\n"
	    "algorithm = %s\n"
	    "digits = %u\n"
	    "period = %u\n"
	    "created = 1699990000\n",
	    s->key, s->algo, s->digits, s->period);
	for (size_t i = 0; i < nb; i++) {
		if (ft_backup_normalize(backup[i], norm, sizeof(norm)) !=
			FT_OK ||
		    ft_backup_hash(norm, backup_iter, hash, sizeof(hash)) !=
			FT_OK)
			bail_out("cannot hash backup code");
		tu_fmt(line, sizeof(line), "backup = %s\n", hash);
		if (strlen(out) + strlen(line) + 1 > outlen)
			bail_out("secret text too long");
		strcat(out, line);
	}
}

static void
put_secret_at(const char *path, const struct tsecret *s,
    const char *const *backup, size_t nb)
{
	char text[16384];

	secret_text(s, backup, nb, text, sizeof(text));
	MUST(tu_write_file(path, text, strlen(text), 0600));
}

static void
put_secret(const struct tcase *c, const char *user, const struct tsecret *s)
{
	char path[PATH_MAX];

	tu_fmt(path, sizeof(path), "%s/%s", c->secrets, user);
	put_secret_at(path, s, NULL, 0);
}

/* ---- running one login ---- */

struct result {
	int rc;
	int nprompts, nmsgs;
	bool echo_on;
	char prompt[256];
	bool has_authtok;
	char authtok[256];
	char *log;
};

static char *
read_log(void)
{
	char *buf = calloc(1, LOGBUF_MAX);

	if (buf == NULL)
		bail_out("calloc");
	tu_read_text(E.log, buf, LOGBUF_MAX);
	return buf;
}

static void
clear_log(void)
{
	MUST(tu_write_file(E.log, "", 0, 0600));
}

struct loginopts {
	const size_t *lens;
	bool conv_fail;
	bool nocapture; /* forked children: leave the log alone */
};

static void
login_opts(const struct tcase *c, const char *user, long now,
    const char *const *ans, size_t nans, const struct loginopts *o,
    struct result *r)
{
	bool capture = o == NULL || !o->nocapture;
	struct pt_conv cv = {.ans = ans,
	    .nans = nans,
	    .lens = o != NULL ? o->lens : NULL,
	    .fail = o != NULL && o->conv_fail};
	struct pt_login l = {.service = c->service,
	    .user = user,
	    .confdir = c->pamd,
	    .now = now,
	    .logpath = E.log,
	    .authtok = r->authtok,
	    .authtokcap = sizeof(r->authtok)};

	memset(r, 0, sizeof(*r));
	if (capture) {
		r->log = calloc(1, LOGBUF_MAX);
		if (r->log == NULL)
			bail_out("calloc");
		l.log = r->log;
		l.logcap = LOGBUF_MAX;
	}
	r->rc = pt_login(&l, &cv);
	r->has_authtok = l.has_authtok;
	r->nprompts = cv.nprompts;
	r->nmsgs = cv.nmsgs;
	r->echo_on = cv.echo_on;
	tu_fmt(r->prompt, sizeof(r->prompt), "%s", cv.prompt);
}

static void
login1(const struct tcase *c, const char *user, long now, const char *answer,
    struct result *r)
{
	const char *ans[1] = {answer};

	login_opts(c, user, now, ans, answer != NULL ? 1 : 0, NULL, r);
}

static void
result_free(struct result *r)
{
	free(r->log);
	r->log = NULL;
}

static bool
log_has(const struct result *r, const char *needle)
{
	return r->log != NULL && strstr(r->log, needle) != NULL;
}

static int
log_count(const char *log, const char *needle)
{
	int n = 0;

	for (const char *p = log; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* The outcome line: exactly one, with these result= and reason= */
static bool
outcome_is(const struct result *r, const char *result, const char *reason)
{
	char want[128];

	tu_fmt(want, sizeof(want), "result=%s reason=%s", result, reason);
	return r->log != NULL && log_count(r->log, "flowtotp: service=") == 1 &&
	    strstr(r->log, want) != NULL;
}

static void
show_log(const struct result *r)
{
	const char *p = r->log;

	while (p != NULL && *p != '\0') {
		size_t n = strcspn(p, "\n");

		printf("#   log: %.*s\n", (int)n, p);
		p += n;
		if (*p == '\n')
			p++;
	}
}

/* A denial with the given reason; the correct code never in the log. */
static void
expect_fail(const struct result *r, const char *reason, const char *code,
    const char *what)
{
	bool good = r->rc == PAM_AUTH_ERR && outcome_is(r, "failure", reason) &&
	    (code == NULL || !log_has(r, code));

	ok(good, "%s: PAM_AUTH_ERR, reason=%s", what, reason);
	if (!good) {
		diag("rc=%d (%s)", r->rc, pam_strerror(NULL, r->rc));
		show_log(r);
	}
}

static void
expect_ok(const struct result *r, const char *reason, const char *code,
    const char *what)
{
	bool good = r->rc == PAM_SUCCESS && outcome_is(r, "success", reason) &&
	    (code == NULL || !log_has(r, code));

	ok(good, "%s: PAM_SUCCESS, reason=%s", what, reason);
	if (!good) {
		diag("rc=%d (%s)", r->rc, pam_strerror(NULL, r->rc));
		show_log(r);
	}
}

/* ---- the cases ---- */

/* A code of the app's for a step outside the window (window=1) is refused
 * as bad_code, and the log says by how much the app's clock is off; past
 * the diagnostic's 10 steps, or within the window, nothing is added. */
static void
t_drift_detail(void)
{
	static const struct {
		int steps;
		const char *detail; /* NULL: no drift detail */
	} v[] = {
	    {2, "detail=\"matches +2 steps: clock ~60 s ahead\""},
	    {-3, "detail=\"matches -3 steps: clock ~90 s behind\""},
	    {10, "detail=\"matches +10 steps: clock ~300 s ahead\""},
	    {11, NULL},
	    {-11, NULL},
	};
	struct tcase c;
	struct result r;
	char code[16], what[64];

	case_new(&c, "drift");
	case_stack(&c, NULL, NULL, NULL);
	put_secret(&c, "alice", &S_DEFAULT);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		/* Each at its own time, far apart: no replay, no lockout. */
		long now = T0 + 3600L * (long)(i + 1);

		code_at(&S_DEFAULT, now + 30L * v[i].steps, code, sizeof(code));
		tu_fmt(what, sizeof(what), "code of step %+d", v[i].steps);
		login1(&c, "alice", now, code, &r);
		expect_fail(&r, "bad_code", code, what);
		if (v[i].detail != NULL)
			ok(log_has(&r, v[i].detail), "%s: log says %s", what,
			    v[i].detail);
		else
			ok(!log_has(&r, "matches"), "%s: no drift detail",
			    what);
		ok(!log_has(&r, code), "%s: the code is not logged", what);
		result_free(&r);
	}
}

static void
t_correct_and_wrong(void)
{
	struct tcase c;
	struct result r;
	char code[16], wrong[16];

	case_new(&c, "basic");
	case_stack(&c, NULL, NULL, NULL);
	put_secret(&c, "alice", &S_DEFAULT);
	code_at(&S_DEFAULT, T0, code, sizeof(code));

	tu_fmt(wrong, sizeof(wrong), "%06d", (atoi(code) + 1) % 1000000);
	login1(&c, "alice", T0, wrong, &r);
	expect_fail(&r, "bad_code", wrong, "wrong code");
	ok(r.nprompts == 1 && !r.echo_on && r.nmsgs == 0,
	    "one prompt, echo off, no other messages");
	result_free(&r);

	login1(&c, "alice", T0, code, &r);
	expect_ok(&r, "ok", code, "correct code");
	is_str(r.prompt, "Verification code: ", "default prompt");
	ok(log_has(&r, "service=" SVC " user=alice rhost=- result=success"),
	    "log line names service, user and rhost");
	ok(log_has(&r, "<5> "), "success logged at LOG_NOTICE");
	result_free(&r);
}

static void
t_window(void)
{
	struct tcase c;
	struct result r;
	char code[16];
	struct {
		unsigned window;
		long off; /* steps */
		bool accept;
	} cases[] = {
	    {1, -1, true},
	    {1, 1, true},
	    {1, -2, false},
	    {1, 2, false},
	    {0, 0, true},
	    {0, -1, false},
	    {0, 1, false},
	    {3, -3, true},
	    {3, 3, true},
	    {3, -4, false},
	    {3, 4, false},
	    {10, 10, true},
	    {10, -11, false},
	};

	case_new(&c, "window");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char args[32], user[32];

		tu_fmt(args, sizeof(args), "window=%u", cases[i].window);
		case_stack(&c, NULL, args, NULL);
		tu_fmt(user, sizeof(user), "u%03zu", i);
		put_secret(&c, user, &S_DEFAULT);
		code_at(&S_DEFAULT, T0 + cases[i].off * 30, code, sizeof(code));
		login1(&c, user, T0, code, &r);
		ok(r.rc == (cases[i].accept ? PAM_SUCCESS : PAM_AUTH_ERR),
		    "window=%u, code from step %+ld: %s", cases[i].window,
		    cases[i].off, cases[i].accept ? "accepted" : "rejected");
		result_free(&r);
	}
}

static void
t_settings(void)
{
	static const char *const algos[] = {"SHA1", "SHA256", "SHA512"};
	static const char *const keys[] = {KEY20, KEY32, KEY64};
	static const unsigned periods[] = {15, 30, 60, 300};
	struct tcase c;
	struct result r;
	int good = 0, total = 0, bad_rejected = 0;

	case_new(&c, "settings");
	case_stack(&c, NULL, "window=0", NULL);
	for (size_t a = 0; a < 3; a++)
		for (unsigned d = 6; d <= 8; d++)
			for (size_t p = 0; p < 4; p++) {
				struct tsecret s = {
				    keys[a], algos[a], d, periods[p]};
				struct tsecret other = s;
				char user[32], code[16], ocode[16];

				tu_fmt(user, sizeof(user), "u%03d", total);
				put_secret(&c, user, &s);
				/* the same key under another algorithm */
				other.algo = algos[(a + 1) % 3];
				code_at(&other, T0, ocode, sizeof(ocode));
				code_at(&s, T0, code, sizeof(code));
				login1(&c, user, T0, ocode, &r);
				if (r.rc == PAM_AUTH_ERR ||
				    strcmp(ocode, code) == 0)
					bad_rejected++;
				result_free(&r);
				login1(&c, user, T0, code, &r);
				if (r.rc == PAM_SUCCESS)
					good++;
				else
					diag("%s/%u digits/%u s rejected",
					    algos[a], d, periods[p]);
				result_free(&r);
				total++;
			}
	is_int(good, total,
	    "every algorithm x digits 6-8 x period 15/30/60/300 "
	    "accepts the oathtool code (%d settings)",
	    total);
	is_int(bad_rejected, total,
	    "a code made with another algorithm is rejected");
}

static void
t_replay(void)
{
	struct tcase c;
	struct result r;
	char code[16], newer[16];

	case_new(&c, "replay");
	case_stack(&c, NULL, NULL, NULL);
	put_secret(&c, "alice", &S_DEFAULT);
	code_at(&S_DEFAULT, T0, code, sizeof(code));
	login1(&c, "alice", T0, code, &r);
	expect_ok(&r, "ok", code, "first use");
	result_free(&r);
	login1(&c, "alice", T0 + 1, code, &r);
	expect_fail(&r, "replay", code, "same code again");
	result_free(&r);
	login1(&c, "alice", T0 + 31, code, &r);
	expect_fail(
	    &r, "replay", code, "same code in the next step (in window)");
	result_free(&r);

	/* a code from the next step, then the current one */
	put_secret(&c, "bob", &S_DEFAULT);
	code_at(&S_DEFAULT, T0 + 30, newer, sizeof(newer));
	login1(&c, "bob", T0, newer, &r);
	expect_ok(&r, "ok", newer, "code of step +1");
	result_free(&r);
	login1(&c, "bob", T0, code, &r);
	expect_fail(&r, "replay", code, "older step after a newer one");
	result_free(&r);
}

/* Four logins with one code in one step (terminal tabs, an scp retry):
 * success, then replays that are refused and logged but never counted, so
 * the user is not locked; wrong codes still count, and their lines say
 * how many and when the lock starts. */
static void
t_replay_uncounted(void)
{
	struct tcase c;
	struct result r;
	char code[16], want[96];
	int i;

	case_new(&c, "replay-uncounted");
	case_stack(&c, NULL, "deny=3 unlock_time=600", NULL);
	put_secret(&c, "alice", &S_DEFAULT);
	code_at(&S_DEFAULT, T0, code, sizeof(code));
	login1(&c, "alice", T0, code, &r);
	expect_ok(&r, "ok", code, "first use of the code");
	result_free(&r);
	for (i = 1; i <= 3; i++) {
		login1(&c, "alice", T0 + i, code, &r);
		expect_fail(&r, "replay", code, "the same code again");
		ok(log_has(&r, "reason=replay failures=0"),
		    "replay %d logged with failures=0", i);
		result_free(&r);
	}
	code_at(&S_DEFAULT, T0 + 30, code, sizeof(code));
	login1(&c, "alice", T0 + 30, code, &r);
	expect_ok(&r, "ok", code, "three replays did not lock the user");
	result_free(&r);

	for (i = 1; i <= 3; i++) {
		login1(&c, "alice", T0 + 40 + i, "000000", &r);
		if (i < 3)
			tu_fmt(want, sizeof(want),
			    "reason=bad_code failures=%d\n", i);
		else
			tu_fmt(want, sizeof(want),
			    "reason=bad_code failures=3 locked_until=%ld",
			    T0 + 43 + 600);
		ok(r.rc == PAM_AUTH_ERR && log_has(&r, want),
		    "wrong code %d logs \"%.*s\"", i, (int)strcspn(want, "\n"),
		    want);
		if (r.rc != PAM_AUTH_ERR || !log_has(&r, want))
			show_log(&r);
		result_free(&r);
	}
	code_at(&S_DEFAULT, T0 + 60, code, sizeof(code));
	login1(&c, "alice", T0 + 60, code, &r);
	expect_fail(&r, "locked", code, "three wrong codes still lock");
	ok(log_has(&r, "failures=3 locked_until="),
	    "the locked line carries the count and the lock's end");
	result_free(&r);
}

static void
t_lockout(void)
{
	struct tcase c;
	struct result r;
	char code[16];

	case_new(&c, "lockout");
	case_stack(&c, NULL, "deny=3 unlock_time=600", NULL);
	put_secret(&c, "alice", &S_DEFAULT);
	for (int i = 0; i < 3; i++) {
		login1(&c, "alice", T0 + i, "000000", &r);
		result_free(&r);
	}
	code_at(&S_DEFAULT, T0 + 10, code, sizeof(code));
	login1(&c, "alice", T0 + 10, code, &r);
	expect_fail(&r, "locked", code, "after 3 failures a correct code");
	ok(r.nprompts == 1 && r.nmsgs == 0,
	    "locked user is still prompted and told nothing more");
	result_free(&r);
	code_at(&S_DEFAULT, T0 + 2 + 599, code, sizeof(code));
	login1(&c, "alice", T0 + 2 + 599, code, &r);
	expect_fail(&r, "locked", code, "one second before unlock_time");
	result_free(&r);
	code_at(&S_DEFAULT, T0 + 2 + 600, code, sizeof(code));
	login1(&c, "alice", T0 + 2 + 600, code, &r);
	expect_ok(&r, "ok", code, "at unlock_time the lock is gone");
	result_free(&r);

	/* unlock_time=0: only an admin unlocks */
	case_stack(&c, NULL, "deny=2 unlock_time=0", NULL);
	put_secret(&c, "bob", &S_DEFAULT);
	login1(&c, "bob", T0, "111111", &r);
	result_free(&r);
	login1(&c, "bob", T0, "222222", &r);
	result_free(&r);
	code_at(&S_DEFAULT, T0 + 86400 * 365, code, sizeof(code));
	login1(&c, "bob", T0 + 86400 * 365, code, &r);
	expect_fail(
	    &r, "locked", code, "unlock_time=0: still locked a year later");
	result_free(&r);

	/* the attempt that reaches deny is still checked */
	put_secret(&c, "carol", &S_DEFAULT);
	login1(&c, "carol", T0, "111111", &r);
	result_free(&r);
	code_at(&S_DEFAULT, T0, code, sizeof(code));
	login1(&c, "carol", T0, code, &r);
	expect_ok(&r, "ok", code, "correct code on the deny-th attempt");
	result_free(&r);
	login1(&c, "carol", T0 + 30, "111111", &r);
	result_free(&r);
	code_at(&S_DEFAULT, T0 + 30, code, sizeof(code));
	login1(&c, "carol", T0 + 30, code, &r);
	expect_ok(&r, "ok", code, "success cleared the failure count");
	result_free(&r);

	/* deny=0: no lockout */
	case_stack(&c, NULL, "deny=0", NULL);
	put_secret(&c, "dave", &S_DEFAULT);
	for (int i = 0; i < 10; i++) {
		login1(&c, "dave", T0, "123123", &r);
		result_free(&r);
	}
	code_at(&S_DEFAULT, T0, code, sizeof(code));
	login1(&c, "dave", T0, code, &r);
	expect_ok(&r, "ok", code, "deny=0: 10 failures, then a code works");
	result_free(&r);
}

static void
t_fail_interval(void)
{
	struct tcase c;
	struct result r;
	char code[16];

	case_new(&c, "interval");
	case_stack(&c, NULL, "deny=3 fail_interval=100", NULL);
	put_secret(&c, "alice", &S_DEFAULT);
	login1(&c, "alice", T0, "000001", &r);
	result_free(&r);
	login1(&c, "alice", T0 + 10, "000002", &r);
	result_free(&r);
	/* more than fail_interval after the first failure: count restarts */
	login1(&c, "alice", T0 + 101, "000003", &r);
	result_free(&r);
	login1(&c, "alice", T0 + 102, "000004", &r);
	expect_fail(&r, "bad_code", NULL, "4th failure, 2nd in the interval");
	result_free(&r);
	code_at(&S_DEFAULT, T0 + 103, code, sizeof(code));
	login1(&c, "alice", T0 + 103, code, &r);
	expect_ok(&r, "ok", code, "not locked: old failures expired");
	result_free(&r);
}

static void
t_backup(void)
{
	static const char *const codes[] = {
	    "k7qm-4xwz-r2pt", "abcd-efgh-jkmn", "2345-6789-pqrs"};
	struct tcase c;
	struct result r;
	char path[PATH_MAX];

	case_new(&c, "backup");
	case_stack(&c, NULL, NULL, NULL);
	tu_fmt(path, sizeof(path), "%s/alice", c.secrets);
	put_secret_at(path, &S_DEFAULT, codes, 3);
	login1(&c, "alice", T0, "k7qm-4xwz-r2pt", &r);
	expect_ok(&r, "backup_used", "k7qm", "backup code");
	ok(log_has(&r, "backup_codes_left=2"), "log says 2 left");
	result_free(&r);
	login1(&c, "alice", T0 + 1, "k7qm-4xwz-r2pt", &r);
	expect_fail(&r, "bad_code", "k7qm", "same backup code again");
	result_free(&r);
	/* forget the cache, as a reboot does: the code stays used */
	tu_rmrf(c.cachedir);
	login1(&c, "alice", T0 + 2, "K7QM4XWZR2PT", &r);
	expect_fail(&r, "bad_code", NULL,
	    "used code after the cache is wiped (other spelling)");
	result_free(&r);
	login1(&c, "alice", T0 + 3, "ABCD EFGH JKMN", &r);
	expect_ok(&r, "backup_used", NULL, "upper case with spaces accepted");
	ok(log_has(&r, "backup_codes_left=1"), "log says 1 left");
	result_free(&r);
	{
		char text[16384];
		struct stat sb;
		ssize_t n = -1;
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		memset(text, 0, sizeof(text));
		memset(&sb, 0, sizeof(sb));
		if (fd >= 0) {
			n = read(fd, text, sizeof(text) - 1);
			(void)fstat(fd, &sb);
			(void)close(fd);
		}
		ok(n > 0 && log_count(text, "backup") == 1 &&
			(sb.st_mode & 07777) == 0600 && sb.st_uid == geteuid(),
		    "file rewritten with one hash left, mode 0600");
	}
}

static void
t_nullok(void)
{
	struct tcase c;
	struct result r;
	char code[16];

	case_new(&c, "nullok");
	case_stack(&c, NULL, "nullok", "auth required pam_permit.so\n");
	login1(&c, "alice", T0, "123456", &r);
	ok(r.rc == PAM_SUCCESS && r.nprompts == 0 &&
		outcome_is(&r, "ignore", "no_secret") && log_has(&r, "<6> "),
	    "nullok, no file: PAM_IGNORE without a prompt (stack goes on)");
	result_free(&r);
	put_secret(&c, "alice", &S_DEFAULT);
	login1(&c, "alice", T0, "123456", &r);
	ok(r.rc == PAM_AUTH_ERR && r.nprompts == 1,
	    "nullok, file present: the code is required");
	result_free(&r);
	code_at(&S_DEFAULT, T0, code, sizeof(code));
	login1(&c, "alice", T0, code, &r);
	expect_ok(&r, "ok", code, "nullok, file present, right code");
	result_free(&r);

	case_stack(&c, NULL, "", "auth required pam_permit.so\n");
	login1(&c, "bob", T0, "123456", &r);
	expect_fail(&r, "no_secret", NULL, "no nullok, no file");
	ok(r.nprompts == 1, "... but prompted first");
	result_free(&r);
}

static void
t_unknown_user(void)
{
	struct tcase c;
	struct result r;

	case_new(&c, "unknown");
	case_stack(&c, NULL, "nullok", NULL);
	login1(&c, "no-such-user", T0, "123456", &r);
	expect_fail(&r, "no_secret", NULL, "unknown user (even with nullok)");
	ok(r.nprompts == 1 && log_has(&r, "unknown user"),
	    "unknown user is prompted like everyone");
	result_free(&r);
	login1(&c, "../etc", T0, "123456", &r);
	ok(r.rc == PAM_AUTH_ERR && r.nprompts == 1,
	    "user name with a slash: prompted, denied");
	result_free(&r);
}

/* Every kind of bad secret file: denied even with the right code, and the
 * log names the problem. */
static void
t_unsafe_files(void)
{
	struct tcase c;
	struct result r;
	char path[PATH_MAX], other[PATH_MAX], code[16], text[16384];
	char *big;
	size_t n;

	case_new(&c, "unsafe");
	case_stack(&c, NULL, NULL, NULL);
	code_at(&S_DEFAULT, T0, code, sizeof(code));
	tu_fmt(path, sizeof(path), "%s/alice", c.secrets);
	tu_fmt(other, sizeof(other), "%s/elsewhere", c.dir);

#define UNSAFE(what)                                                           \
	do {                                                                   \
		login1(&c, "alice", T0, code, &r);                             \
		expect_fail(&r, "unsafe_file", code, what);                    \
		ok(r.nprompts == 1 && log_has(&r, "detail=\""),                \
		    "%s: prompted, log has a detail", what);                   \
		result_free(&r);                                               \
		tu_rmrf(path);                                                 \
	} while (0)

	put_secret_at(other, &S_DEFAULT, NULL, 0);
	MUST(symlink(other, path));
	UNSAFE("secret file is a symlink");

	put_secret_at(path, &S_DEFAULT, NULL, 0);
	MUST(chmod(path, 0640));
	UNSAFE("group-readable secret file");

	put_secret_at(path, &S_DEFAULT, NULL, 0);
	MUST(chmod(path, 0604));
	UNSAFE("world-readable secret file");

	put_secret_at(path, &S_DEFAULT, NULL, 0);
	MUST(chmod(path, 0620));
	UNSAFE("group-writable secret file");

	if (E.is_root) {
		put_secret_at(path, &S_DEFAULT, NULL, 0);
		MUST(chown(path, OTHER_UID, OTHER_UID));
		UNSAFE("secret file owned by another user");
	} else {
		ok(1, "# SKIP wrong owner needs root");
		ok(1, "# SKIP wrong owner needs root");
	}

	MUST(mkfifo(path, 0600));
	UNSAFE("secret file is a FIFO");

	MUST(mkdir(path, 0700));
	UNSAFE("secret file is a directory");

	secret_text(&S_DEFAULT, NULL, 0, text, sizeof(text));
	n = 70 * 1024;
	big = malloc(n);
	if (big == NULL)
		bail_out("malloc");
	memset(big, '#', n);
	memcpy(big, text, strlen(text));
	big[strlen(text)] = '\n';
	MUST(tu_write_file(path, big, n, 0600));
	free(big);
	UNSAFE("oversized secret file (70 KiB of comments)");

	MUST(tu_write_file(path, text, strlen(text) / 2, 0600));
	UNSAFE("truncated secret file");

	{
		unsigned char junk[512];

		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (unsigned char)(i * 37U + 11U);
		MUST(tu_write_file(path, junk, sizeof(junk), 0600));
	}
	UNSAFE("garbage secret file");

	MUST(tu_write_file(path, "", 0, 0600));
	UNSAFE("empty secret file");

	/* a symlinked directory in the path */
	{
		struct tcase c2;
		char link[PATH_MAX];

		case_new(&c2, "unsafe-dirlink");
		tu_fmt(link, sizeof(link), "%s/linked", c2.dir);
		MUST(symlink(c2.secrets, link));
		tu_fmt(c2.secrets, sizeof(c2.secrets), "%s", link);
		case_stack(&c2, NULL, NULL, NULL);
		put_secret(&c2, "alice", &S_DEFAULT);
		login1(&c2, "alice", T0, code, &r);
		expect_fail(&r, "unsafe_file", code,
		    "secret directory reached through a symlink");
		result_free(&r);
	}
#undef UNSAFE
}

/* Root: the login succeeds with exactly one warning that says what was
 * at the cache directory's path.  Anyone else: cache_error. */
static void
expect_recovered(const struct result *r, const char *code, const char *what,
    const char *needle)
{
	bool good;

	if (!E.is_root) {
		expect_fail(r, "cache_error", code, what);
		return;
	}
	good = r->rc == PAM_SUCCESS && outcome_is(r, "success", "ok") &&
	    log_count(r->log, "warning=") == 1 && log_has(r, needle);
	ok(good, "%s: root recovers, one warning naming it (%s)", what, needle);
	if (!good)
		show_log(r);
}

static void
t_cache_attacks(void)
{
	struct tcase c;
	struct result r;
	char code[16], cdir[PATH_MAX], target[PATH_MAX];

	case_new(&c, "cache");
	case_stack(&c, NULL, NULL, NULL);
	put_secret(&c, "alice", &S_DEFAULT);
	code_at(&S_DEFAULT, T0, code, sizeof(code));
	tu_fmt(cdir, sizeof(cdir), "%s", c.cachedir);
	tu_fmt(target, sizeof(target), "%s/attacker-dir", c.dir);

	/* Root (the module's real case) takes the path back by itself: the
	 * login goes on, one warning names what was there and its owner. */
	MUST(mkdir(target, 0700));
	MUST(symlink(target, cdir));
	login1(&c, "alice", T0, code, &r);
	expect_recovered(
	    &r, code, "cache directory is a symlink", "symbolic link");
	ok(tu_count_prefix(target, "state") == 0, "nothing written through it");
	result_free(&r);
	tu_rmrf(cdir);

	MUST(mkdir(cdir, 0755));
	MUST(chmod(cdir, 0755));
	code_at(&S_DEFAULT, T0 + 30, code, sizeof(code));
	login1(&c, "alice", T0 + 30, code, &r);
	expect_recovered(&r, code, "cache directory mode 0755 (root's mistake)",
	    "set back to 0700");
	result_free(&r);
	login1(&c, "alice", T0 + 31, code, &r);
	expect_fail(&r, "replay", code,
	    "the records in a directory set back to 0700 are kept");
	result_free(&r);

	if (E.is_root) {
		tu_rmrf(cdir);
		MUST(mkdir(cdir, 0700));
		MUST(chown(cdir, OTHER_UID, OTHER_UID));
		code_at(&S_DEFAULT, T0 + 60, code, sizeof(code));
		login1(&c, "alice", T0 + 60, code, &r);
		expect_recovered(&r, code,
		    "cache directory pre-created by another user",
		    "owned by uid 4321");
		result_free(&r);
		tu_rmrf(cdir);
		MUST(mkfifo(cdir, 0600));
		MUST(chown(cdir, OTHER_UID, OTHER_UID));
		code_at(&S_DEFAULT, T0 + 90, code, sizeof(code));
		login1(&c, "alice", T0 + 90, code, &r);
		expect_recovered(
		    &r, code, "a FIFO at the cache directory's path", "FIFO");
		result_free(&r);
	} else {
		ok(1, "# SKIP cache directory owner needs root");
		ok(1, "# SKIP FIFO owner needs root");
	}
	code_at(&S_DEFAULT, T0 + 120, code, sizeof(code));

	tu_fmt(target, sizeof(target), "%s/attacker-file", c.dir);
	MUST(tu_write_file(target, "keep", 4, 0600));
	(void)unlink(c.cache); /* the recovered logins' file */
	MUST(symlink(target, c.cache));
	login1(&c, "alice", T0 + 120, code, &r);
	expect_fail(&r, "cache_error", code, "cache file is a symlink");
	result_free(&r);
	MUST(unlink(c.cache));

	MUST(tu_write_file(
	    c.cache, "GDBM? no. just junk that is not gdbm\n", 37, 0600));
	login1(&c, "alice", T0 + 120, code, &r);
	expect_fail(&r, "cache_error", code, "corrupt cache file: denied once");
	ok(log_has(&r, "set aside") &&
		tu_count_prefix(cdir, "state.gdbm.corrupt.") == 1,
	    "corrupt file set aside as state.gdbm.corrupt.TIME");
	result_free(&r);
	login1(&c, "alice", T0 + 120, code, &r);
	expect_ok(&r, "ok", code, "next login works on a fresh cache");
	result_free(&r);
}

static void
t_answers(void)
{
	struct tcase c;
	struct result r;
	char code[16], spaced[16], nul[16], longans[10001], plus[16];
	struct loginopts o;
	size_t len;

	case_new(&c, "answers");
	case_stack(&c, NULL, "deny=0", NULL);
	put_secret(&c, "alice", &S_DEFAULT);
	code_at(&S_DEFAULT, T0, code, sizeof(code));

	login1(&c, "alice", T0, "", &r);
	expect_fail(&r, "bad_code", NULL, "empty answer");
	result_free(&r);

	memset(longans, '7', 10000);
	longans[10000] = '\0';
	login1(&c, "alice", T0, longans, &r);
	expect_fail(&r, "bad_code", NULL, "10,000 digits");
	result_free(&r);
	memset(longans, 'x', 10000);
	login1(&c, "alice", T0, longans, &r);
	expect_fail(&r, "bad_code", NULL, "10,000 letters");
	result_free(&r);

	login1(&c, "alice", T0, "abcdef", &r);
	expect_fail(&r, "bad_code", NULL, "non-digits");
	result_free(&r);

	tu_fmt(spaced, sizeof(spaced), "%.3s %s", code, code + 3);
	login1(&c, "alice", T0, spaced, &r);
	expect_fail(&r, "bad_code", code, "right digits with a space inside");
	result_free(&r);
	tu_fmt(spaced, sizeof(spaced), " %s", code);
	login1(&c, "alice", T0, spaced, &r);
	expect_fail(&r, "bad_code", code, "right digits with a leading space");
	result_free(&r);
	tu_fmt(plus, sizeof(plus), "+%s", code + 1);
	login1(&c, "alice", T0, plus, &r);
	expect_fail(&r, "bad_code", NULL, "sign instead of a digit");
	result_free(&r);
	tu_fmt(plus, sizeof(plus), "%s0", code);
	login1(&c, "alice", T0, plus, &r);
	expect_fail(&r, "bad_code", code, "right code plus one digit");
	result_free(&r);

	/* "123\0456": the module sees "123" */
	memcpy(nul, code, 3);
	nul[3] = '\0';
	memcpy(nul + 4, code + 3, 3);
	len = 7;
	{
		const char *ans[1] = {nul};

		memset(&o, 0, sizeof(o));
		o.lens = &len;
		login_opts(&c, "alice", T0, ans, 1, &o, &r);
	}
	expect_fail(&r, "bad_code", NULL, "code with an embedded NUL");
	result_free(&r);

	{
		const char *ans[1] = {code};

		memset(&o, 0, sizeof(o));
		o.conv_fail = true;
		login_opts(&c, "alice", T0, ans, 1, &o, &r);
	}
	expect_fail(&r, "conv_error", NULL, "conversation fails");
	ok(log_has(&r, "detail=\"no answer (conversation failed: "),
	    "conv_error says the conversation failed");
	result_free(&r);

	login1(&c, "alice", T0, code, &r);
	expect_ok(&r, "ok", code, "after all that, the right code works");
	result_free(&r);
}

/* The module cannot copy PAM_AUTHTOK (its strdup() fails): no_memory,
 * denied at once, no prompt, and no code in the log.  Its own user, so
 * that the steps used here are no replay for alice's logins. */
static void
t_first_pass_no_memory(const struct tcase *c, const char *pre, const char *post)
{
	struct result r;
	char code[16], both[64];

	put_secret(c, "dave", &S_DEFAULT); /* its own state: no replay later */
	case_stack(c, pre, "try_first_pass", post);
	code_at(&S_DEFAULT, T0 + 120, code, sizeof(code));
	tu_fmt(both, sizeof(both), "hunter2%s", code);
	MUST(setenv("PAM_AUTHTOK", both, 1));
	fs_arm(both);
	login1(c, "dave", T0 + 120, code, &r);
	fs_disarm();
	ok(fs_failures() == 1, "the module's copy of PAM_AUTHTOK failed");
	expect_fail(&r, "no_memory", code, "out of memory copying PAM_AUTHTOK");
	ok(r.nprompts == 0 && log_has(&r, "detail=\"out of memory\"") &&
		log_has(&r, "<3> "),
	    "no_memory: no prompt, detail says so, logged at LOG_ERR");
	result_free(&r);

	login1(c, "dave", T0 + 120, code, &r);
	expect_ok(&r, "ok", code, "the same login with memory: accepted");
	result_free(&r);
	MUST(unsetenv("PAM_AUTHTOK"));
}

/* try_first_pass with a password that ends in digits: the digits are
 * taken for a code, do not match, and must not count; only the prompted
 * answer that follows counts (one failure per call at most).  deny=3: two
 * such logins with a wrong code would have counted four failures (locked)
 * before; now two, so the third login still works. */
static void
t_first_pass_digits(const struct tcase *c, const char *pre, const char *post)
{
	struct result r;
	char code[16], both[64];

	put_secret(c, "carol", &S_DEFAULT);
	case_stack(c, pre, "try_first_pass", post);
	MUST(setenv("PAM_AUTHTOK", "Summer2024123456", 1));
	for (int i = 0; i < 2; i++) {
		login1(c, "carol", T0 + 150, "000000", &r);
		expect_fail(&r, "bad_code", NULL,
		    "try_first_pass, password ending in digits, wrong code "
		    "at the prompt");
		ok(r.nprompts == 1 &&
			log_count(r.log, "flowtotp: service=") == 1,
		    "... prompted once, one outcome line");
		result_free(&r);
	}
	code_at(&S_DEFAULT, T0 + 150, code, sizeof(code));
	login1(c, "carol", T0 + 150, code, &r);
	expect_ok(&r, "ok", code,
	    "the third login with the right code: not locked (the digits of "
	    "the password were not counted)");
	result_free(&r);

	/* Locked: the right code in PAM_AUTHTOK is not looked at (no
	 * missing prompt could tell the locked user it was right). */
	for (int i = 0; i < 3; i++) {
		login1(c, "carol", T0 + 180, "000000", &r);
		result_free(&r);
	}
	code_at(&S_DEFAULT, T0 + 180, code, sizeof(code));
	tu_fmt(both, sizeof(both), "Summer2024%s", code);
	MUST(setenv("PAM_AUTHTOK", both, 1));
	login1(c, "carol", T0 + 180, code, &r);
	expect_fail(&r, "locked", code, "locked: right code in PAM_AUTHTOK");
	ok(r.nprompts == 1, "locked: still prompted like anyone else");
	result_free(&r);
	MUST(unsetenv("PAM_AUTHTOK"));
}

static void
t_first_pass(void)
{
	struct tcase c;
	struct result r;
	char code[16], both[64], pre[PATH_MAX + 64], post[PATH_MAX + 64];

	if (E.setitems[0] == '\0') {
		ok(1, "# SKIP pam_wrapper's pam_set_items.so not installed");
		return;
	}
	case_new(&c, "firstpass");
	tu_fmt(pre, sizeof(pre), "auth optional %s\n", E.setitems);
	tu_fmt(post, sizeof(post), "auth optional %s\n", E.getitems);
	put_secret(&c, "alice", &S_DEFAULT);

	/* use_first_pass */
	case_stack(&c, pre, "use_first_pass", post);
	code_at(&S_DEFAULT, T0, code, sizeof(code));
	MUST(setenv("PAM_AUTHTOK", code, 1));
	login1(&c, "alice", T0, NULL, &r);
	expect_ok(&r, "ok", code, "use_first_pass: code in PAM_AUTHTOK");
	ok(r.nprompts == 0, "use_first_pass: no prompt");
	ok(!r.has_authtok || r.authtok[0] == '\0',
	    "the code is not left in PAM_AUTHTOK");
	result_free(&r);

	code_at(&S_DEFAULT, T0 + 30, code, sizeof(code));
	tu_fmt(both, sizeof(both), "hunter2%s", code);
	MUST(setenv("PAM_AUTHTOK", both, 1));
	login1(&c, "alice", T0 + 30, NULL, &r);
	expect_ok(
	    &r, "ok", code, "use_first_pass: password+code in PAM_AUTHTOK");
	ok(r.has_authtok && strcmp(r.authtok, "hunter2") == 0,
	    "PAM_AUTHTOK is the password for the next module (got '%s')",
	    r.authtok);
	result_free(&r);

	MUST(setenv("PAM_AUTHTOK", "hunter2", 1));
	login1(&c, "alice", T0 + 60, "000000", &r);
	expect_fail(
	    &r, "no_code", NULL, "use_first_pass: no code in PAM_AUTHTOK");
	ok(r.nprompts == 0, "use_first_pass never prompts");
	result_free(&r);

	MUST(unsetenv("PAM_AUTHTOK"));
	login1(&c, "alice", T0 + 60, "000000", &r);
	expect_fail(&r, "no_code", NULL, "use_first_pass: no PAM_AUTHTOK");
	ok(r.nprompts == 0 &&
		log_has(&r, "detail=\"use_first_pass: PAM_AUTHTOK is not set"),
	    "use_first_pass: no PAM_AUTHTOK at all: denied, no prompt, "
	    "detail says so");
	result_free(&r);

	t_first_pass_no_memory(&c, pre, post);

	/* try_first_pass */
	case_stack(&c, pre, "try_first_pass", post);
	MUST(setenv("PAM_AUTHTOK", "hunter2", 1));
	code_at(&S_DEFAULT, T0 + 90, code, sizeof(code));
	login1(&c, "alice", T0 + 90, code, &r);
	expect_ok(&r, "ok", code, "try_first_pass: password only, then prompt");
	ok(r.nprompts == 1, "try_first_pass prompted once");
	result_free(&r);
	MUST(setenv("PAM_AUTHTOK", "hunter2000000", 1));
	code_at(&S_DEFAULT, T0 + 120, code, sizeof(code));
	login1(&c, "alice", T0 + 120, code, &r);
	expect_ok(&r, "ok", code,
	    "try_first_pass: wrong code in PAM_AUTHTOK, "
	    "then the prompt");
	ok(r.nprompts == 1, "... prompted once");
	result_free(&r);
	MUST(unsetenv("PAM_AUTHTOK"));

	t_first_pass_digits(&c, pre, post);
}

/* A client that answers every prompt with the password (sshd's password
 * method under KbdInteractiveAuthentication no) makes no code attempt: an
 * answer equal to PAM_AUTHTOK is refused as password_as_code and never
 * counted.  deny=3: after four of them, the count is still 0 (a wrong code
 * then logs failures=1) and the right code works. */
static void
pw_as_code_round(const struct tcase *c, const char *pw, long now)
{
	struct result r;

	MUST(setenv("PAM_AUTHTOK", pw, 1));
	for (int i = 0; i < 4; i++) {
		login1(c, "alice", now, pw, &r);
		expect_fail(
		    &r, "password_as_code", pw, "the password as the answer");
		ok(r.nprompts == 1 && !log_has(&r, "failures="),
		    "... prompted once, no failure counted (%s)", pw);
		result_free(&r);
	}
}

static void
t_password_as_code(void)
{
	struct tcase c;
	struct result r;
	char code[16], pre[PATH_MAX + 64];

	if (E.setitems[0] == '\0') {
		ok(1, "# SKIP pam_wrapper's pam_set_items.so not installed");
		return;
	}
	case_new(&c, "pwascode");
	tu_fmt(pre, sizeof(pre), "auth optional %s\n", E.setitems);
	put_secret(&c, "alice", &S_DEFAULT);
	case_stack(&c, pre, NULL, NULL);
	pw_as_code_round(&c, "hunter2", T0);
	pw_as_code_round(&c, "424242", T0); /* a password shaped like a code */
	case_stack(&c, pre, "try_first_pass", NULL);
	pw_as_code_round(&c, "Summer2024", T0);
	login1(&c, "alice", T0, "000000", &r);
	expect_fail(&r, "bad_code", NULL, "then a wrong code");
	ok(log_has(&r, "reason=bad_code failures=1\n"),
	    "... counts, as the first failure");
	result_free(&r);
	code_at(&S_DEFAULT, T0, code, sizeof(code));
	login1(&c, "alice", T0, code, &r);
	expect_ok(&r, "ok", code, "then the right code: not locked");
	result_free(&r);
	MUST(unsetenv("PAM_AUTHTOK"));
}

/* ---- the single-prompt stack: split, password module, use_stashed ---- */

/* split, then pam_exec expose_authtok running a script that compares
 * PAM_AUTHTOK with the password (pam_exec takes PAM_AUTHTOK as it is, as
 * pam_unix use_first_pass does) on the line that stops the stack on
 * failure, then use_stashed. */
static void
split_stack(const struct tcase *c, const char *checker, const char *ctl)
{
	char post[3 * PATH_MAX + 256];

	tu_fmt(post, sizeof(post),
	    "auth %s pam_exec.so quiet expose_authtok %s\n"
	    "auth required %s secret=%s/%%u cache=%s window=1 deny=3 "
	    "unlock_time=600 fail_interval=900 use_stashed\n",
	    ctl, checker, E.module, c->secrets, c->cache);
	case_stack(c, NULL, "split", post);
}

/* A wrong password: nothing logged as an outcome, nothing consumed. */
static void
expect_no_outcome(const struct result *r, const char *what)
{
	bool good = r->rc != PAM_SUCCESS && r->nprompts == 1 &&
	    log_count(r->log, "flowtotp: service=") == 0;

	ok(good, "%s: denied by the password line, no flowtotp outcome", what);
	if (!good) {
		diag("rc=%d prompts=%d", r->rc, r->nprompts);
		show_log(r);
	}
}

static void
t_split_password_first(const struct tcase *c)
{
	struct result r;
	char code[16], both[64];

	code_at(&S_DEFAULT, T0, code, sizeof(code));
	tu_fmt(both, sizeof(both), "wrong-pw%s", code);
	login1(c, "alice", T0, both, &r);
	expect_no_outcome(&r, "wrong password + right code");
	result_free(&r);
	tu_fmt(both, sizeof(both), "pass word 9%s", code);
	login1(c, "alice", T0, both, &r);
	expect_ok(&r, "ok", code,
	    "then the right password with the same code: accepted (it was "
	    "not used up)");
	is_str(r.prompt, "Password & verification code: ", "one prompt");
	ok(r.nprompts == 1, "asked once");
	result_free(&r);

	/* No password: deny=3, five guesses, then the real login works. */
	for (int i = 0; i < 5; i++) {
		login1(c, "alice", T0 + 30, "guess000000", &r);
		expect_no_outcome(&r, "a guess without the password");
		result_free(&r);
	}
	code_at(&S_DEFAULT, T0 + 30, code, sizeof(code));
	tu_fmt(both, sizeof(both), "pass word 9%s", code);
	login1(c, "alice", T0 + 30, both, &r);
	expect_ok(&r, "ok", code,
	    "after five guesses without the password: not locked");
	result_free(&r);
}

static void
t_split_code(const struct tcase *c)
{
	struct result r;
	char code[16], both[64];

	login1(c, "alice", T0 + 60, "pass word 9000000", &r);
	expect_fail(&r, "bad_code", NULL, "right password + wrong code");
	result_free(&r);
	login1(c, "alice", T0 + 60, "pass word 9", &r);
	expect_fail(&r, "bad_code", NULL, "right password, no code");
	result_free(&r);
	login1(c, "alice", T0 + 60, "pass word 9wxyz-2345-abcd", &r);
	expect_ok(&r, "backup_used", "wxyz", "right password + backup code");
	result_free(&r);
	for (int i = 0; i < 3; i++) {
		login1(c, "alice", T0 + 90, "pass word 9000000", &r);
		result_free(&r);
	}
	code_at(&S_DEFAULT, T0 + 90, code, sizeof(code));
	tu_fmt(both, sizeof(both), "pass word 9%s", code);
	login1(c, "alice", T0 + 90, both, &r);
	expect_fail(&r, "locked", code,
	    "three wrong codes after the right password still lock");
	result_free(&r);
}

static void
t_split(void)
{
	static const char *const bk[] = {"wxyz-2345-abcd"};
	struct tcase c;
	struct result r;
	char checker[PATH_MAX], path[PATH_MAX];
	/* pam_exec writes the token and a NUL on stdin. */
	const char script[] = "#!/bin/bash\n"
			      "IFS= read -r -d '' pw\n"
			      "[ \"$pw\" = 'pass word 9' ]\n";

	case_new(&c, "split");
	tu_fmt(checker, sizeof(checker), "%s/checkpw", c.dir);
	MUST(tu_write_file(checker, script, strlen(script), 0700));
	tu_fmt(path, sizeof(path), "%s/alice", c.secrets);
	put_secret_at(path, &S_DEFAULT, bk, 1);
	split_stack(&c, checker, "[success=ok default=die]");
	t_split_password_first(&c);
	t_split_code(&c);

	case_stack(&c, NULL, "use_stashed", NULL);
	login1(&c, "alice", T0 + 120, "123456", &r);
	expect_fail(&r, "no_code", NULL, "use_stashed without split");
	ok(r.nprompts == 0, "use_stashed never prompts");
	result_free(&r);
	case_stack(&c, NULL, "forward_pass", NULL);
	login1(&c, "alice", T0 + 120, "123456", &r);
	expect_fail(&r, "config_error", NULL,
	    "forward_pass alone (checks the code before the password)");
	ok(r.nprompts == 0, "... refused before any prompt");
	result_free(&r);
}

/* ---- the same work for every kind of user ---- */

#define WORK_RUNS 5 /* logins per kind and answer, for the median */

struct work {
	int kdf, hmac, state;
	double ms; /* median wall time, for bench/kinds.sh (not asserted) */
};

static void
count_work(const char *path, struct work *w)
{
	char line[64];
	FILE *f = fopen(path, "r");

	w->kdf = w->hmac = w->state = 0;
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		w->kdf += strcmp(line, "kdf\n") == 0;
		w->hmac += strcmp(line, "hmac\n") == 0;
		w->state += strcmp(line, "state\n") == 0;
	}
	(void)fclose(f);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* WORK_RUNS logins with answer; the work of the last, the median time. */
static void
work_of(const struct tcase *c, const char *user, const char *answer,
    const char *wlog, struct work *w)
{
	double ms[WORK_RUNS];
	struct timespec t0, t1;
	struct result r;

	for (int i = 0; i < WORK_RUNS; i++) {
		MUST(tu_write_file(wlog, "", 0, 0600));
		MUST(clock_gettime(CLOCK_MONOTONIC, &t0));
		login1(c, user, T0 + 600, answer, &r);
		MUST(clock_gettime(CLOCK_MONOTONIC, &t1));
		ms[i] = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		if (r.rc == PAM_SUCCESS)
			bail_out("work: %s was accepted", answer);
		result_free(&r);
	}
	count_work(wlog, w);
	qsort(ms, WORK_RUNS, sizeof(ms[0]), cmp_double);
	w->ms = ms[WORK_RUNS / 2];
}

static void
t_equal_work(void)
{
	static const char *const kinds[] = {
	    "enrolled", "locked", "unenrolled", "unknown"};
	static const char *const users[] = {"alice", "bob", "carol", "nobody"};
	static const char *const bk[] = {"wxyz-2345-abcd", "abcd-efgh-jkmn",
	    "pqrs-tuvw-xyz2", "2345-6789-abcd", "efgh-jkmn-pqrs",
	    "tuvw-xyz2-3456", "789a-bcde-fghj", "kmnp-qrst-uvwx",
	    "yz23-4567-89ab", "cdef-ghjk-mnpq"};
	const char *answers[2] = {NULL, "zzzz-zzzz-zzzz"};
	char wlog[PATH_MAX], path[PATH_MAX], wrong[16], near[3][16];
	struct work w[4];
	struct tcase c;
	struct result r;

	case_new(&c, "work");
	case_stack(&c, NULL, "backup_codes=10", NULL);
	backup_iter = FT_BACKUP_ITERATIONS_DEFAULT; /* as totp-enroll does */
	tu_fmt(path, sizeof(path), "%s/alice", c.secrets);
	put_secret_at(path, &S_DEFAULT, bk, 10);
	tu_fmt(path, sizeof(path), "%s/bob", c.secrets);
	put_secret_at(path, &S_DEFAULT, bk, 10);
	backup_iter = BACKUP_ITER;
	for (int i = 0; i < 3; i++)
		code_at(&S_DEFAULT, T0 + 600 + 30 * (i - 1), near[i], 16);
	for (unsigned n = 0;; n++) {
		tu_fmt(wrong, sizeof(wrong), "%06u", 111111U * (n % 9U + 1U));
		if (strcmp(wrong, near[0]) != 0 &&
		    strcmp(wrong, near[1]) != 0 && strcmp(wrong, near[2]) != 0)
			break;
	}
	answers[0] = wrong;
	for (int i = 0; i < 3; i++) { /* lock bob */
		login1(&c, "bob", T0 + 600, wrong, &r);
		result_free(&r);
	}
	tu_fmt(wlog, sizeof(wlog), "%s/worklog", c.dir);
	MUST(setenv("FLOWTOTP_TEST_WORKLOG", wlog, 1));
	for (int a = 0; a < 2; a++) {
		for (int k = 0; k < 4; k++) {
			work_of(&c, users[k], answers[a], wlog, &w[k]);
			diag("bench: answer=%s kind=%s median_ms=%.1f kdf=%d "
			     "hmac=%d state=%d",
			    a == 0 ? "totp" : "backup", kinds[k], w[k].ms,
			    w[k].kdf, w[k].hmac, w[k].state);
		}
		for (int k = 1; k < 4; k++)
			ok(w[k].kdf == w[0].kdf && w[k].hmac == w[0].hmac &&
				w[k].state == w[0].state,
			    "%s-shaped answer: a %s user costs what an "
			    "enrolled "
			    "one does (kdf %d/%d, hmac %d/%d, state %d/%d)",
			    a == 0 ? "TOTP" : "backup", kinds[k], w[k].kdf,
			    w[0].kdf, w[k].hmac, w[0].hmac, w[k].state,
			    w[0].state);
		/* 3: the window=1 check; 21: the drift diagnostic's
		 * +-10 steps (login.c drift_probe), for every kind. */
		ok(a == 0 ? (w[0].kdf == 0 && w[0].hmac == 3 + 21 &&
				w[0].state == 1)
			  : (w[0].kdf == 10 && w[0].state == 1),
		    "%s-shaped answer: %s", a == 0 ? "TOTP" : "backup",
		    a == 0 ? "no KDF, a window of 3 HMACs and the drift "
			     "probe's 21, one state op"
			   : "10 KDFs (backup_codes), one state op");
	}
	MUST(unsetenv("FLOWTOTP_TEST_WORKLOG"));
}

static void
t_config(void)
{
	static const struct {
		const char *args;
		const char *what;
	} bad[] = {
	    {"bogus=1", "unknown option"},
	    {"frobnicate", "unknown flag"},
	    {"window=99", "window out of range"},
	    {"deny=abc", "deny not a number"},
	    {"unlock_time=-5", "negative unlock_time"},
	    {"nullok=maybe", "flag with a value that is not yes/no"},
	    {"cache=relative/state.gdbm", "relative cache path"},
	    {"window=", "empty value"},
	    {"conf=/nonexistent/flowtotp.conf", "conf= file missing"},
	};
	struct tcase c;
	struct result r;
	char code[16], conf[PATH_MAX], args[PATH_MAX + 16];
	int nprompts = 0;

	case_new(&c, "config");
	put_secret(&c, "alice", &S_DEFAULT);
	code_at(&S_DEFAULT, T0, code, sizeof(code));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		case_stack(&c, NULL, bad[i].args, NULL);
		login1(&c, "alice", T0, code, &r);
		expect_fail(&r, "config_error", code, bad[i].what);
		if (r.nprompts != 0)
			diag("config error prompted anyway");
		nprompts += r.nprompts;
		result_free(&r);
	}
	is_int(nprompts, 0, "config errors deny without prompting");

	/* conf= file: must be root-owned */
	tu_fmt(conf, sizeof(conf), "%s/flowtotp.conf", c.dir);
	{
		static const char text[] =
		    "# test config\nwindow = 0\nprompt = \"From the file: \"\n";

		MUST(tu_write_file(conf, text, strlen(text), 0644));
	}
	tu_fmt(args, sizeof(args), "conf=%s", conf);
	case_stack(&c, NULL, args, NULL);
	login1(&c, "alice", T0, code, &r);
	if (E.is_root) {
		expect_ok(&r, "ok", code, "root-owned conf= file is read");
		is_str(
		    r.prompt, "From the file: ", "prompt from the conf file");
		result_free(&r);
		MUST(chown(conf, OTHER_UID, 0));
		login1(&c, "alice", T0 + 30, code, &r);
		expect_fail(
		    &r, "config_error", code, "conf= file not root-owned");
	} else {
		expect_fail(
		    &r, "config_error", code, "conf= file not owned by root");
		ok(1, "# SKIP reading a root-owned conf file needs root");
		ok(1, "# SKIP reading a root-owned conf file needs root");
	}
	result_free(&r);

	/* prompt= with spaces (bracket syntax of pam.d) */
	case_stack(&c, NULL, "[prompt=Your code, please: ]", NULL);
	code_at(&S_DEFAULT, T0 + 60, code, sizeof(code));
	login1(&c, "alice", T0 + 60, code, &r);
	expect_ok(&r, "ok", code, "custom prompt");
	is_str(r.prompt, "Your code, please: ", "prompt= is shown");
	result_free(&r);
}

static void
t_debug(void)
{
	struct tcase c;
	struct result r;
	char code[16];

	case_new(&c, "debug");
	case_stack(&c, NULL, "debug", NULL);
	put_secret(&c, "alice", &S_DEFAULT);
	code_at(&S_DEFAULT, T0, code, sizeof(code));
	login1(&c, "alice", T0, code, &r);
	expect_ok(&r, "ok", code, "debug: login works");
	ok(log_count(r.log, "flowtotp: debug:") >= 2 && log_has(&r, "<7> "),
	    "debug lines at LOG_DEBUG (%d)",
	    log_count(r.log, "flowtotp: debug:"));
	ok(!log_has(&r, code) && !log_has(&r, KEY20),
	    "no code and no secret in debug output");
	result_free(&r);
}

/* secret=~/...: the user's own file in the home (read as the user). */
static void
t_home(void)
{
	struct tcase c;
	struct result r;
	char dir[PATH_MAX], path[PATH_MAX], code[16];
	static const char *const bk[] = {"mnpq-rstu-vwxy"};

	case_new(&c, "home");
	case_stack(&c, NULL, "secret=~/.config/flowtotp/secret", NULL);
	tu_fmt(dir, sizeof(dir), "%s/home/alice/.config", E.root);
	(void)mkdir(dir, 0700);
	tu_fmt(dir, sizeof(dir), "%s/home/alice/.config/flowtotp", E.root);
	(void)mkdir(dir, 0700);
	tu_fmt(path, sizeof(path), "%s/secret", dir);
	put_secret_at(path, &S_DEFAULT, bk, 1);
	code_at(&S_DEFAULT, T0, code, sizeof(code));
	login1(&c, "alice", T0, code, &r);
	expect_ok(&r, "ok", code, "secret=~/.config/flowtotp/secret");
	result_free(&r);
	login1(&c, "alice", T0, "mnpq-rstu-vwxy", &r);
	expect_ok(&r, "backup_used", NULL, "backup code from a home file");
	result_free(&r);

	if (!E.is_root) {
		ok(1, "# SKIP reading as another user needs root");
		ok(1, "# SKIP reading as another user needs root");
		ok(1, "# SKIP reading as another user needs root");
		return;
	}
	/* homey (uid HOMEY_UID): the module drops to the user to read */
	tu_fmt(dir, sizeof(dir), "%s/home/homey/.config", E.root);
	(void)mkdir(dir, 0700);
	MUST(chown(dir, HOMEY_UID, HOMEY_UID));
	tu_fmt(dir, sizeof(dir), "%s/home/homey/.config/flowtotp", E.root);
	(void)mkdir(dir, 0700);
	MUST(chown(dir, HOMEY_UID, HOMEY_UID));
	tu_fmt(path, sizeof(path), "%s/secret", dir);
	put_secret_at(path, &S_DEFAULT, bk, 1);
	MUST(chown(path, HOMEY_UID, HOMEY_UID));
	login1(&c, "homey", T0, code, &r);
	expect_ok(&r, "ok", code, "as root, a user's home file (uid 4242)");
	result_free(&r);
	login1(&c, "homey", T0, "mnpq-rstu-vwxy", &r);
	{
		struct stat sb;

		ok(r.rc == PAM_SUCCESS && stat(path, &sb) == 0 &&
			sb.st_uid == HOMEY_UID && (sb.st_mode & 07777) == 0600,
		    "backup code rewrites the file as the user (owner kept)");
	}
	result_free(&r);
	/* a file the user cannot read (root's, 0600): read as the user fails */
	put_secret_at(path, &S_DEFAULT, NULL, 0);
	MUST(chown(path, 0, 0));
	code_at(&S_DEFAULT, T0 + 30, code, sizeof(code));
	login1(&c, "homey", T0 + 30, code, &r);
	expect_fail(&r, "unsafe_file", code,
	    "home file unreadable by its user is not read with root's rights");
	result_free(&r);
}

/* NCONC processes submit the same valid code at once: exactly one wins. */
static void
t_concurrency(void)
{
	struct tcase c;
	char code[16];
	int wins_ok = 0, other = 0;
	struct timespec a, b;

	case_new(&c, "conc");
	case_stack(&c, NULL, "deny=0", NULL);
	put_secret(&c, "alice", &S_DEFAULT);
	(void)clock_gettime(CLOCK_MONOTONIC, &a);
	for (int round = 0; round < NROUNDS; round++) {
		long t = T0 + round * 30L;
		pid_t pids[NCONC];
		int pfd[2], wins = 0, losses = 0;
		char *log;

		code_at(&S_DEFAULT, t, code, sizeof(code));
		clear_log();
		MUST(pipe(pfd));
		for (int i = 0; i < NCONC; i++) {
			pids[i] = fork();
			if (pids[i] < 0)
				bail_out("fork");
			if (pids[i] == 0) {
				struct loginopts o = {.nocapture = true};
				const char *ans[1] = {code};
				struct result r;
				char ch;

				(void)close(pfd[1]);
				if (read(pfd[0], &ch, 1) < 0) /* barrier */
					_exit(3);
				login_opts(&c, "alice", t, ans, 1, &o, &r);
				_exit(r.rc == PAM_SUCCESS      ? 0
					: r.rc == PAM_AUTH_ERR ? 1
							       : 2);
			}
		}
		(void)close(pfd[0]);
		(void)close(pfd[1]);
		for (int i = 0; i < NCONC; i++) {
			int st;

			if (waitpid(pids[i], &st, 0) < 0 || !WIFEXITED(st))
				other++;
			else if (WEXITSTATUS(st) == 0)
				wins++;
			else if (WEXITSTATUS(st) == 1)
				losses++;
			else
				other++;
		}
		log = read_log();
		if (wins == 1 && losses == NCONC - 1 &&
		    log_count(log, "reason=ok") == 1 &&
		    log_count(log, "reason=replay") == NCONC - 1)
			wins_ok++;
		else
			diag("round %d: %d won, %d lost", round, wins, losses);
		free(log);
	}
	(void)clock_gettime(CLOCK_MONOTONIC, &b);
	ok(wins_ok == NROUNDS && other == 0,
	    "%d processes x %d rounds with the same code: exactly one success "
	    "per round, the rest logged as replay",
	    NCONC, NROUNDS);
	diag("%d concurrent logins in %.2f s", NCONC * NROUNDS,
	    (double)(b.tv_sec - a.tv_sec) +
		(double)(b.tv_nsec - a.tv_nsec) / 1e9);
}

static void
user_key(int i, char *out, size_t outlen)
{
	uint8_t key[20];

	for (size_t k = 0; k < sizeof(key); k++)
		key[k] = (uint8_t)(i * 131 + (int)k * 7 + 1);
	b32(key, sizeof(key), out, outlen);
}

/* NUSERS different users at once: all succeed. */
static void
t_parallel_users(void)
{
	struct tcase c;
	static char codes[NUSERS][16];
	static char keys[NUSERS][64];
	pid_t pids[NUSERS];
	int pfd[2], good = 0;
	struct timespec a, b;

	case_new(&c, "users");
	case_stack(&c, NULL, NULL, NULL);
	for (int i = 0; i < NUSERS; i++) {
		struct tsecret s = S_DEFAULT;
		char user[16];

		user_key(i, keys[i], sizeof(keys[i]));
		s.key = keys[i];
		tu_fmt(user, sizeof(user), "u%03d", i);
		put_secret(&c, user, &s);
		code_at(&s, T0, codes[i], sizeof(codes[i]));
	}
	clear_log();
	MUST(pipe(pfd));
	(void)clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < NUSERS; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			bail_out("fork");
		if (pids[i] == 0) {
			struct loginopts o = {.nocapture = true};
			const char *ans[1] = {codes[i]};
			struct result r;
			char user[16], ch;

			(void)close(pfd[1]);
			if (read(pfd[0], &ch, 1) < 0)
				_exit(3);
			tu_fmt(user, sizeof(user), "u%03d", i);
			login_opts(&c, user, T0, ans, 1, &o, &r);
			_exit(r.rc == PAM_SUCCESS ? 0 : 10 + r.rc);
		}
	}
	(void)close(pfd[0]);
	(void)close(pfd[1]);
	for (int i = 0; i < NUSERS; i++) {
		int st;

		if (waitpid(pids[i], &st, 0) == pids[i] && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0)
			good++;
		else if (i - good < 3)
			diag("u%03d: %s %d", i,
			    WIFEXITED(st) ? "exit" : "signal",
			    WIFEXITED(st)	  ? WEXITSTATUS(st)
				: WIFSIGNALED(st) ? WTERMSIG(st)
						  : -1);
	}
	(void)clock_gettime(CLOCK_MONOTONIC, &b);
	is_int(good, NUSERS, "%d users authenticating in parallel all succeed",
	    NUSERS);
	diag("%d parallel logins in %.2f s", NUSERS,
	    (double)(b.tv_sec - a.tv_sec) +
		(double)(b.tv_nsec - a.tv_nsec) / 1e9);
	{
		char *log = read_log();

		int shown = 0;

		is_int(log_count(log, "result=success reason=ok"), NUSERS,
		    "one success line per user");
		for (const char *p = log; *p != '\0' && shown < 5;) {
			size_t n = strcspn(p, "\n");

			if (memmem(p, n, "reason=ok", 9) == NULL) {
				diag("%.*s", (int)n, p);
				shown++;
			}
			p += n;
			if (*p == '\n')
				p++;
		}
		free(log);
	}
}

/* ---- setup: temp dir, nss_wrapper files, re-exec ---- */

static bool
exists(const char *p)
{
	return access(p, R_OK) == 0;
}

static void
write_users(void)
{
	struct tu_users u;

	tu_users_begin(&u, E.root);
	tu_users_add(&u, "alice", getuid(), 0700);
	tu_users_add(&u, "bob", getuid(), 0700);
	tu_users_add(&u, "carol", getuid(), 0700);
	tu_users_add(&u, "dave", getuid(), 0700);
	for (int i = 0; i < NUSERS; i++) {
		char name[16];

		tu_fmt(name, sizeof(name), "u%03d", i);
		tu_users_add(&u, name, getuid(), 0700);
	}
	if (geteuid() == 0)
		tu_users_add(&u, "homey", HOMEY_UID, 0700);
	tu_users_end(&u);
}

static int
stage1(char **argv)
{
	char path[PATH_MAX];
	char *root = tu_mkdtemp("pam");
	int st;

	tu_fmt(E.root, sizeof(E.root), "%s", root);
	free(root);
	tu_nss_preload(E.root, NULL);
	tu_fmt(E.shm, sizeof(E.shm), "/dev/shm/ft-pam-XXXXXX");
	if (mkdtemp(E.shm) == NULL)
		E.shm[0] = '\0'; /* no /dev/shm: caches go to the temp dir */
	else if (geteuid() == 0)
		MUST(chmod(E.shm, 0711));
	MUST(setenv("FT_PAM_TEST_SHM", E.shm, 1));
	/* root runs: homey (another uid) must reach its home in here */
	if (geteuid() == 0)
		MUST(chmod(E.root, 0711));
	tu_fmt(path, sizeof(path), "%s/cases", E.root);
	MUST(mkdir(path, 0700));
	write_users();
	MUST(setenv("FT_PAM_TEST_ROOT", E.root, 1));
	st = tu_reexec(argv, E.root);
	if (E.shm[0] != '\0')
		tu_rmrf(E.shm);
	return st;
}

static void
stage2_env(void)
{
	const char *b = getenv("top_builddir");
	char self[PATH_MAX], d1[PATH_MAX], d2[PATH_MAX];
	ssize_t n;

	tu_fmt(E.root, sizeof(E.root), "%s", getenv("FT_PAM_TEST_ROOT"));
	tu_fmt(E.shm, sizeof(E.shm), "%s",
	    getenv("FT_PAM_TEST_SHM") != NULL ? getenv("FT_PAM_TEST_SHM") : "");
	E.is_root = geteuid() == 0;
	if (b == NULL || b[0] == '\0') {
		/* run by hand: BUILDDIR/tests/pam/test_pam */
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n < 0)
			bail_out("readlink");
		self[n] = '\0';
		for (int i = 0; i < 3; i++) {
			char *s = strrchr(self, '/');

			if (s != NULL)
				*s = '\0';
		}
		b = self;
	}
	tu_fmt(E.module, sizeof(E.module),
	    "%s/pam_module/.libs/pam_flowtotp_test.so", b);
	if (!exists(E.module))
		bail_out("%s missing", E.module);
	tu_lib_dirs(d1, sizeof(d1), d2, sizeof(d2));
	tu_fmt(E.setitems, sizeof(E.setitems),
	    "%s/pam_wrapper/pam_set_items.so", d2);
	tu_fmt(E.getitems, sizeof(E.getitems),
	    "%s/pam_wrapper/pam_get_items.so", d2);
	if (!exists(E.setitems) || !exists(E.getitems)) {
		tu_fmt(E.setitems, sizeof(E.setitems),
		    "%s/pam_wrapper/pam_set_items.so", d1);
		tu_fmt(E.getitems, sizeof(E.getitems),
		    "%s/pam_wrapper/pam_get_items.so", d1);
		if (!exists(E.setitems) || !exists(E.getitems))
			E.setitems[0] = E.getitems[0] = '\0';
	}
	pt_capture_syslog(E.root, E.log, sizeof(E.log));
	MUST(unsetenv("PAM_AUTHTOK"));
	if (!tu_have_oathtool())
		skip_all("oathtool not found (Debian oathtool)");
	diag("module %s, euid %lu, temp %s", E.module, (unsigned long)geteuid(),
	    E.root);
}

/* OpenSSL cannot give an HMAC: crypto_error, not bad_code.  A default
 * property query that no provider satisfies makes every fetch fail, as a
 * broken openssl.cnf would; the module and this program share libcrypto. */
static void
t_crypto_error(void)
{
	struct tcase c;
	struct result r;
	char code[16];

	case_new(&c, "crypto");
	case_stack(&c, NULL, NULL, NULL);
	put_secret(&c, "alice", &S_DEFAULT);
	code_at(&S_DEFAULT, T0, code, sizeof(code));
	login1(&c, "alice", T0, code, &r); /* creates the cache */
	expect_ok(&r, "ok", code, "crypto: first login");
	result_free(&r);

	code_at(&S_DEFAULT, T0 + 30, code, sizeof(code));
	if (EVP_set_default_properties(NULL, "provider=ft-test-none") != 1)
		bail_out("EVP_set_default_properties");
	login1(&c, "alice", T0 + 30, code, &r);
	if (EVP_set_default_properties(NULL, "") != 1)
		bail_out("EVP_set_default_properties (restore)");
	expect_fail(&r, "crypto_error", code, "no HMAC from OpenSSL");
	ok(log_has(&r, "<3> ") && log_has(&r, " detail=\"crypto error\""),
	    "crypto_error: logged at LOG_ERR with a detail");
	result_free(&r);

	login1(&c, "alice", T0 + 30, code, &r);
	expect_ok(&r, "ok", code, "the same code once OpenSSL works again");
	result_free(&r);
}

int
main(int argc, char **argv)
{
	const char *only;

	(void)argc;
	if (getenv("FT_PAM_TEST_ROOT") == NULL)
		return stage1(argv);
	stage2_env();
	only = getenv("FT_PAM_TEST_ONLY");
#define RUN(f)                                                                 \
	do {                                                                   \
		if (only == NULL || strcmp(only, #f) == 0)                     \
			f();                                                   \
	} while (0)
	RUN(t_correct_and_wrong);
	RUN(t_drift_detail);
	RUN(t_window);
	RUN(t_settings);
	RUN(t_replay);
	RUN(t_replay_uncounted);
	RUN(t_lockout);
	RUN(t_fail_interval);
	RUN(t_backup);
	RUN(t_nullok);
	RUN(t_unknown_user);
	RUN(t_unsafe_files);
	RUN(t_cache_attacks);
	RUN(t_answers);
	RUN(t_first_pass);
	RUN(t_password_as_code);
	RUN(t_split);
	RUN(t_equal_work);
	RUN(t_crypto_error);
	RUN(t_config);
	RUN(t_debug);
	RUN(t_home);
	RUN(t_concurrency);
	RUN(t_parallel_users);
#undef RUN
	return done_testing();
}
