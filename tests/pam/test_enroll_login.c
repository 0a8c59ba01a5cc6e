/* enroll=login through real libpam and the test build of the module.
 *
 * The first factor is the shipped single-prompt shape: pam_flowtotp split,
 * then a password line with [success=ok default=die] (pam_permit for a
 * right password, pam_deny for a wrong one), then pam_flowtotp
 * use_stashed; and an sshd key stack (no password module, SSH_AUTH_INFO_0
 * in the PAM environment as OpenSSH sets it).  The conversation answers
 * the confirmation prompt with the code oathtool computes from the secret
 * the prompt shows, at the pinned FLOWTOTP_TEST_NOW.
 *
 * Cases: a user without a secret enrols (file in the root store, 0600,
 * owned by root; the QR info message has half blocks and no escape codes;
 * the confirmation code cannot be replayed; a backup code works
 * afterwards); a wrong confirmation saves nothing and the next login is
 * offered enrolment again; a wrong password stops the stack before any
 * enrolment; an outage (store missing) and an enrolled user are never
 * offered enrolment; no visible first factor refuses it; a home template
 * is refused; nullok lets the user skip. */
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

#include "nsswrap.h"
#include "pamconv.h"
#include "tap.h"
#include "util.h"

#define T0 1700000110L /* 10 s into a 30 s step */
#define PERIOD 30L
#define LOGBUF_MAX (256 * 1024)
#define TRANSCRIPT_MAX (256 * 1024)
#define MAX_ANSWERS 8
#define SVC "ft-enrol"
#define SSHD_SVC "sshd"
#define ANSWER_CODE "@CODE" /* the code for the secret the prompt shows */
#define MANUAL "Secret for manual entry: "
#define B32_MAX 128
#define KEY_INFO "SSH_AUTH_INFO_0=publickey ssh-ed25519 AAAAC3Nza\n"
#define PASSWORD_INFO "SSH_AUTH_INFO_0=password\n"
#define HALF_BLOCK "\xe2\x96\x80"

static struct {
	char root[PATH_MAX];
	char module[PATH_MAX];
	char log[PATH_MAX];
} E;

/* ---- codes ---- */

static void
code_for(const char *b32, long t, char *out, size_t outlen)
{
	const struct tu_totp k = {b32, "SHA1", 6, (unsigned)PERIOD};

	tu_totp_code(&k, t, out, outlen);
}

/* The secret after "Secret for manual entry: " in text, spaces removed. */
static bool
shown_secret(const char *text, char *out, size_t outlen)
{
	const char *s = strstr(text, MANUAL);
	size_t n = 0;

	if (s == NULL)
		return false;
	for (s += strlen(MANUAL); *s != '\0' && *s != '\n'; s++)
		if (*s != ' ' && n + 1 < outlen)
			out[n++] = *s;
	out[n] = '\0';
	return n > 0;
}

/* ---- one login with a scripted conversation ---- */

struct script {
	const char *answers[MAX_ANSWERS];
	long now;
	char code[16]; /* the confirmation code we typed */
	int nprompts;
	int ninfo;
	char transcript[TRANSCRIPT_MAX];
};

/* ANSWER_CODE: the code for the secret the prompt shows. */
static const char *
answer_hook(void *arg, const char *prompt, const char *a)
{
	struct script *sc = arg;
	char b32[B32_MAX];

	if (strcmp(a, ANSWER_CODE) != 0)
		return a;
	if (!shown_secret(prompt, b32, sizeof(b32)))
		return NULL;
	code_for(b32, sc->now, sc->code, sizeof(sc->code));
	return sc->code;
}

struct result {
	int rc;
	char log[LOGBUF_MAX];
};

struct tcase {
	char dir[PATH_MAX];
	char pamd[PATH_MAX];
	char store[PATH_MAX];
	char secret[PATH_MAX]; /* the secret= template */
};

/* env: a "NAME=value" for the PAM environment, or NULL. */
static void
login(const struct tcase *c, const char *svc, const char *user, const char *env,
    struct script *sc, struct result *r)
{
	struct pt_conv cv = {.ans = sc->answers,
	    .hook = answer_hook,
	    .hook_arg = sc,
	    .transcript = sc->transcript,
	    .tcap = sizeof(sc->transcript)};
	struct pt_login l = {.service = svc,
	    .user = user,
	    .confdir = c->pamd,
	    .now = sc->now,
	    .env = env,
	    .logpath = E.log,
	    .log = r->log,
	    .logcap = sizeof(r->log)};

	while (cv.nans < MAX_ANSWERS && sc->answers[cv.nans] != NULL)
		cv.nans++;
	sc->transcript[0] = '\0';
	r->rc = pt_login(&l, &cv);
	sc->nprompts = cv.nprompts;
	sc->ninfo = cv.nmsgs;
}

static void
script_new(
    struct script *sc, long now, const char *a0, const char *a1, const char *a2)
{
	memset(sc, 0, sizeof(*sc));
	sc->now = now;
	sc->answers[0] = a0;
	sc->answers[1] = a1;
	sc->answers[2] = a2;
}

/* ---- cases ---- */

/* The case's module arguments. */
static void
args(const struct tcase *c, const char *extra, char *out, size_t outlen)
{
	tu_fmt(out, outlen,
	    "%s conf=%s/empty.conf secret=%s cache=%s/state.gdbm window=1 "
	    "deny=3 backup_codes=3 %s",
	    E.module, E.root, c->secret, c->dir, extra);
}

/* Services: SVC (split, password line `pw`, use_stashed: enroll=login),
 * "plain" (one instance, no enrolment) and SSHD_SVC (a key stack). */
static void
case_new(struct tcase *c, const char *name, const char *secret, const char *pw,
    const char *extra)
{
	char a[PATH_MAX * 2], text[PATH_MAX * 8];

	tu_fmt(c->dir, sizeof(c->dir), "%s/cases/%s", E.root, name);
	tu_fmt(c->pamd, sizeof(c->pamd), "%s/pam.d", c->dir);
	tu_fmt(c->store, sizeof(c->store), "%s/store", c->dir);
	MUST(mkdir(c->dir, 0700));
	pt_confdir(c->pamd);
	MUST(mkdir(c->store, 0700));
	tu_fmt(
	    c->secret, sizeof(c->secret), "%s", secret != NULL ? secret : "");
	if (secret == NULL)
		tu_fmt(c->secret, sizeof(c->secret), "%s/%%u", c->store);
	args(c, extra, a, sizeof(a));
	tu_fmt(text, sizeof(text),
	    "auth required %s split\nauth [success=ok default=die] %s\n"
	    "auth required %s use_stashed\n",
	    a, pw, a);
	pt_service(c->pamd, SVC, text);
	tu_fmt(text, sizeof(text), "auth required %s\nauth required %s\n", a,
	    "pam_permit.so");
	pt_service(c->pamd, SSHD_SVC, text);
	args(c, "enroll=no", a, sizeof(a));
	tu_fmt(text, sizeof(text), "auth required %s\n", a);
	pt_service(c->pamd, "plain", text);
}

static bool
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void
user_file(const struct tcase *c, const char *user, char *out, size_t outlen)
{
	tu_fmt(out, outlen, "%s/%s", c->store, user);
}

static void
expect(const struct result *r, int rc, const char *outcome, const char *what)
{
	bool good = r->rc == rc && strstr(r->log, outcome) != NULL;

	ok(good, "%s: %s, %s", what, pam_strerror(NULL, rc), outcome);
	if (!good)
		diag("rc=%d (%s), log: %s", r->rc, pam_strerror(NULL, r->rc),
		    r->log);
}

/* The first backup code in the transcript ("  xxxx-xxxx-xxxx"). */
static bool
first_backup(const char *t, char *out, size_t outlen)
{
	const char *s = strstr(t, "safe.\n  ");

	if (s == NULL)
		return false;
	s += strlen("safe.\n  ");
	tu_fmt(out, outlen, "%.14s", s);
	return strlen(out) == 14;
}

static void
check_qr_message(const struct script *sc)
{
	const char *info = strstr(sc->transcript, "[info]");
	const char *nl = info != NULL ? strchr(info, '\n') : NULL;

	ok(sc->ninfo == 1, "one info message (the QR code)");
	ok(nl != NULL && strncmp(nl + 1, "\xe2\x96\x88", 3) == 0,
	    "the QR code starts on a line of its own, with a block");
	ok(strstr(sc->transcript, HALF_BLOCK) != NULL,
	    "the QR code is drawn with UTF-8 half blocks");
	ok(strchr(sc->transcript, '\033') == NULL, "no escape codes");
	ok(strstr(strstr(sc->transcript, "[prompt]Secret") != NULL
		   ? strstr(sc->transcript, "[prompt]Secret")
		   : "",
	       "URI: otpauth://totp/") != NULL,
	    "the confirmation prompt repeats the secret and the URI");
}

/* Entries in dir other than . and .. (a temp file left behind counts). */
static int
entries(const char *dir)
{
	return tu_count_prefix(dir, "") - 2;
}

static void
check_file(const char *path, const char *secret, const char *backup)
{
	struct stat st;
	char text[8192], want[256];

	ok(lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		(st.st_mode & 07777) == 0600 && st.st_uid == geteuid() &&
		st.st_nlink == 1,
	    "the secret file is in the store, mode 0600, owned by %s",
	    geteuid() == 0 ? "root" : "us");
	tu_read_text(path, text, sizeof(text));
	tu_fmt(want, sizeof(want), "secret = %s\n", secret);
	ok(strstr(text, want) != NULL, "it holds the secret that was shown");
	ok(strstr(text, "backup = pbkdf2-sha256$") != NULL &&
		backup[0] != '\0' && strstr(text, backup) == NULL,
	    "backup codes are stored only as hashes");
}

/* The module loads libqrencode only to draw, and closes it: this program
 * does not link it, so it must not stay in the process. */
static void
qr_not_mapped(const char *when)
{
	void *h = dlopen("libqrencode.so.4", RTLD_NOW | RTLD_NOLOAD);

	ok(h == NULL, "libqrencode is not loaded in the process %s", when);
	if (h != NULL)
		(void)dlclose(h);
}

static void
t_enrols(void)
{
	struct tcase c;
	struct script sc, s2;
	struct result r;
	char path[PATH_MAX], b32[B32_MAX], backup[32];

	case_new(&c, "enrols", NULL, "pam_permit.so", "enroll=login");
	user_file(&c, "alice", path, sizeof(path));
	script_new(&sc, T0, "password", ANSWER_CODE, "");
	login(&c, SVC, "alice", NULL, &sc, &r);
	expect(&r, PAM_SUCCESS, "result=success reason=enrolled",
	    "not enrolled: enrols in the login");
	ok(sc.nprompts == 3, "three prompts: password, code, backup codes");
	check_qr_message(&sc);
	if (!shown_secret(sc.transcript, b32, sizeof(b32)))
		b32[0] = '\0';
	ok(first_backup(sc.transcript, backup, sizeof(backup)),
	    "the backup codes were shown");
	check_file(path, b32, backup);

	script_new(&s2, T0 + 1, sc.code, NULL, NULL);
	login(&c, "plain", "alice", NULL, &s2, &r);
	expect(&r, PAM_AUTH_ERR, "result=failure reason=replay",
	    "the confirmation code cannot log in again");
	script_new(&s2, T0 + 2, backup, NULL, NULL);
	login(&c, "plain", "alice", NULL, &s2, &r);
	expect(&r, PAM_SUCCESS, "reason=backup_used backup_codes_left=2",
	    "a backup code shown at enrolment logs in");
	code_for(b32, T0 + PERIOD, sc.code, sizeof(sc.code));
	script_new(&s2, T0 + PERIOD, sc.code, NULL, NULL);
	login(&c, "plain", "alice", NULL, &s2, &r);
	expect(&r, PAM_SUCCESS, "result=success reason=ok",
	    "the next code from the app logs in");
	qr_not_mapped("after an enrolment and ordinary logins");
}

/* With a store key, the secret enrolled at login is sealed (version 2) and
 * the next code from the app opens it.  Root only: the key file must be
 * root's. */
static void
t_enrols_sealed(void)
{
	static const char key[] = "kenrol1 "
				  "000102030405060708090a0b0c0d0e0f"
				  "101112131415161718191a1b1c1d1e1f\n";
	struct tcase c;
	struct script sc, s2;
	struct result r;
	char path[PATH_MAX], kpath[PATH_MAX], extra[PATH_MAX * 2];
	char b32[B32_MAX], text[8192];

	if (geteuid() != 0) {
		ok(true,
		    "# SKIP sealed enrolment: the key file must be root's");
		return;
	}
	tu_fmt(kpath, sizeof(kpath), "%s/sealed.key", E.root);
	MUST(tu_write_file(kpath, key, strlen(key), 0600));
	tu_fmt(extra, sizeof(extra),
	    "enroll=login store_key=%s store_key_fallback=", kpath);
	case_new(&c, "sealed", NULL, "pam_permit.so", extra);
	user_file(&c, "alice", path, sizeof(path));
	script_new(&sc, T0, "password", ANSWER_CODE, "");
	login(&c, SVC, "alice", NULL, &sc, &r);
	expect(&r, PAM_SUCCESS, "reason=enrolled", "enrols with a store key");
	tu_read_text(path, text, sizeof(text));
	if (!shown_secret(sc.transcript, b32, sizeof(b32)))
		b32[0] = '\0';
	ok(strstr(text, "version = 2\nkey_id = kenrol1\nsecret_enc = ") !=
		    NULL &&
		b32[0] != '\0' && strstr(text, b32) == NULL &&
		strstr(text, "\nsecret = ") == NULL,
	    "the enrolled secret is sealed with the store key");
	/* An ordinary login with the key: one instance, no enrolment. */
	tu_fmt(extra, sizeof(extra),
	    "enroll=no store_key=%s store_key_fallback=", kpath);
	args(&c, extra, path, sizeof(path));
	tu_fmt(text, sizeof(text), "auth required %s\n", path);
	pt_service(c.pamd, "sealedplain", text);
	code_for(b32, T0 + PERIOD, sc.code, sizeof(sc.code));
	script_new(&s2, T0 + PERIOD, sc.code, NULL, NULL);
	login(&c, "sealedplain", "alice", NULL, &s2, &r);
	expect(&r, PAM_SUCCESS, "result=success reason=ok",
	    "the next code from the app opens it");
	code_for(b32, T0 + 2 * PERIOD, sc.code, sizeof(sc.code));
	script_new(&s2, T0 + 2 * PERIOD, sc.code, NULL, NULL);
	login(&c, "plain", "alice", NULL, &s2, &r);
	expect(&r, PAM_AUTH_ERR, "detail=\"store_key_missing",
	    "without the key: denied, store_key_missing");
}

static void
t_wrong_confirmation(void)
{
	struct tcase c;
	struct script sc;
	struct result r;
	char path[PATH_MAX];

	case_new(&c, "wrongcode", NULL, "pam_permit.so", "enroll=login");
	user_file(&c, "alice", path, sizeof(path));
	script_new(&sc, T0, "password", "000000", NULL);
	login(&c, SVC, "alice", NULL, &sc, &r);
	expect(&r, PAM_AUTH_ERR, "result=failure reason=bad_code",
	    "a wrong confirmation code denies the login");
	ok(!exists(path), "and saves nothing");
	ok(entries(c.store) == 0, "no temp file is left either");
	script_new(&sc, T0 + 1, "password", "", NULL);
	login(&c, SVC, "alice", NULL, &sc, &r);
	expect(&r, PAM_AUTH_ERR, "result=failure reason=bad_code",
	    "an empty confirmation (no nullok) denies");
	ok(!exists(path), "and saves nothing");
	script_new(&sc, T0 + 2, "password", ANSWER_CODE, "");
	login(&c, SVC, "alice", NULL, &sc, &r);
	expect(&r, PAM_SUCCESS, "reason=enrolled",
	    "the next login offers enrolment again");
	ok(exists(path), "and saves the secret");
}

/* A client that answers every prompt with the password answers the
 * confirmation with it too: no attempt, so nothing is checked, saved or
 * counted (deny=3 times over, then a right code still enrols). */
static void
t_password_confirmation(void)
{
	struct tcase c;
	struct script sc;
	struct result r;
	char path[PATH_MAX], what[64];

	case_new(&c, "pwconfirm", NULL, "pam_permit.so", "enroll=login");
	user_file(&c, "alice", path, sizeof(path));
	for (long i = 0; i < 3; i++) {
		tu_fmt(what, sizeof(what),
		    "confirmation answered with the password (%ld)", i + 1);
		script_new(&sc, T0 + i, "password", "password", NULL);
		login(&c, SVC, "alice", NULL, &sc, &r);
		expect(&r, PAM_AUTH_ERR,
		    "result=failure reason=password_as_code", what);
		ok(!exists(path) && entries(c.store) == 0 &&
			strstr(r.log, "failures=") == NULL,
		    "nothing was saved or counted");
	}
	script_new(&sc, T0 + 3, "password", ANSWER_CODE, "");
	login(&c, SVC, "alice", NULL, &sc, &r);
	expect(&r, PAM_SUCCESS, "result=success reason=enrolled",
	    "then a code from the app enrols");
	ok(exists(path), "and saves the secret");
}

static void
t_wrong_password(void)
{
	struct tcase c;
	struct script sc;
	struct result r;
	char path[PATH_MAX];

	case_new(&c, "wrongpw", NULL, "pam_deny.so", "enroll=login");
	user_file(&c, "alice", path, sizeof(path));
	script_new(&sc, T0, "wrong-password", ANSWER_CODE, "");
	login(&c, SVC, "alice", NULL, &sc, &r);
	ok(r.rc != PAM_SUCCESS, "a wrong password: denied");
	ok(sc.nprompts == 1 && sc.ninfo == 0 &&
		strstr(sc.transcript, MANUAL) == NULL,
	    "the stack stopped before flowtotp: no enrolment shown");
	ok(!exists(path) && entries(c.store) == 0, "nothing was enrolled");
	ok(strstr(r.log, "reason=enrolled") == NULL, "no enrolment logged");
}

static void
t_never_offered(void)
{
	struct tcase c;
	struct script sc;
	struct result r;
	char tpl[PATH_MAX], path[PATH_MAX];

	tu_fmt(tpl, sizeof(tpl), "%s/cases/outage/gone/%%u", E.root);
	case_new(&c, "outage", tpl, "pam_permit.so", "enroll=login");
	script_new(&sc, T0, "password", ANSWER_CODE, "");
	login(&c, SVC, "alice", NULL, &sc, &r);
	expect(&r, PAM_AUTH_ERR, "result=failure reason=unsafe_file",
	    "the store is missing (an outage): denied");
	ok(strstr(sc.transcript, MANUAL) == NULL, "enrolment is not offered");
	tu_fmt(path, sizeof(path), "%s/cases/outage/gone", E.root);
	ok(!exists(path), "nothing was created");

	case_new(&c, "enrolled", NULL, "pam_permit.so", "enroll=login");
	script_new(&sc, T0, "password", ANSWER_CODE, "");
	login(&c, SVC, "alice", NULL, &sc, &r);
	user_file(&c, "alice", path, sizeof(path));
	ok(r.rc == PAM_SUCCESS && exists(path), "alice enrols");
	script_new(&sc, T0 + PERIOD, "password000000", ANSWER_CODE, "");
	login(&c, SVC, "alice", NULL, &sc, &r);
	expect(&r, PAM_AUTH_ERR, "result=failure reason=bad_code",
	    "enrolled, a wrong code: denied like any login");
	ok(sc.nprompts == 1 && sc.ninfo == 0, "enrolment is not offered again");
}

static void
t_first_factor(void)
{
	struct tcase c;
	struct script sc;
	struct result r;
	char path[PATH_MAX];

	case_new(&c, "sshkey", NULL, "pam_permit.so", "enroll=login");
	user_file(&c, "alice", path, sizeof(path));
	script_new(&sc, T0, ANSWER_CODE, "", NULL);
	login(&c, SSHD_SVC, "alice", PASSWORD_INFO, &sc, &r);
	expect(&r, PAM_AUTH_ERR, "result=failure reason=config_error",
	    "sshd key stack, no publickey in SSH_AUTH_INFO_0: refused");
	ok(sc.nprompts == 0 && !exists(path), "nothing asked, nothing saved");
	login(&c, SSHD_SVC, "alice", NULL, &sc, &r);
	expect(&r, PAM_AUTH_ERR, "no first factor",
	    "no SSH_AUTH_INFO_0 and no password: refused");
	login(&c, "other-svc", "alice", KEY_INFO, &sc, &r);
	ok(r.rc != PAM_SUCCESS && !exists(path),
	    "SSH_AUTH_INFO_0 counts only for sshd");
	script_new(&sc, T0, ANSWER_CODE, "", NULL);
	login(&c, SSHD_SVC, "alice", KEY_INFO, &sc, &r);
	expect(&r, PAM_SUCCESS, "result=success reason=enrolled",
	    "sshd key stack, publickey in SSH_AUTH_INFO_0: enrols");
	ok(exists(path), "the secret is saved");
}

static void
t_home_and_nullok(void)
{
	struct tcase c;
	struct script sc;
	struct result r;
	char path[PATH_MAX];

	case_new(&c, "home", "~/.ft/secret", "pam_permit.so", "enroll=login");
	script_new(&sc, T0, "password", ANSWER_CODE, "");
	login(&c, SVC, "alice", NULL, &sc, &r);
	expect(&r, PAM_AUTH_ERR, "enroll=login needs the root store",
	    "a home template with enroll=login is refused");
	ok(strstr(sc.transcript, MANUAL) == NULL, "nothing offered");

	case_new(&c, "nullok", NULL, "pam_permit.so", "enroll=login nullok");
	user_file(&c, "alice", path, sizeof(path));
	script_new(&sc, T0, "password", "", NULL);
	login(&c, SVC, "alice", NULL, &sc, &r);
	ok(r.rc == PAM_SUCCESS && strstr(r.log, "result=ignore") != NULL &&
		strstr(r.log, "enrolment skipped") != NULL,
	    "nullok: an empty answer skips enrolment (PAM_IGNORE: the "
	    "password line decides, as nullok does)");
	ok(!exists(path), "and saves nothing");
}

/* ---- setup: temp dir, users, nss_wrapper, re-exec ---- */

static int
stage1(char **argv)
{
	char path[PATH_MAX];
	char *root = tu_mkdtemp("enrol");
	struct tu_users u;

	tu_fmt(E.root, sizeof(E.root), "%s", root);
	free(root);
	tu_nss_preload(E.root, NULL);
	tu_fmt(path, sizeof(path), "%s/cases", E.root);
	MUST(mkdir(path, 0700));
	tu_users_begin(&u, E.root);
	tu_users_add(&u, "alice", getuid(), 0700);
	tu_users_end(&u);
	MUST(setenv("FT_ENROL_ROOT", E.root, 1));
	return tu_reexec(argv, E.root);
}

static void
stage2_env(const char *builddir)
{
	char path[PATH_MAX];

	tu_fmt(E.root, sizeof(E.root), "%s", getenv("FT_ENROL_ROOT"));
	tu_fmt(E.module, sizeof(E.module),
	    "%s/pam_module/.libs/pam_flowtotp_test.so", builddir);
	if (access(E.module, R_OK) != 0)
		bail_out("%s missing", E.module);
	pt_capture_syslog(E.root, E.log, sizeof(E.log));
	tu_fmt(path, sizeof(path), "%s/empty.conf", E.root);
	MUST(tu_write_file(path, "", 0, 0600));
}

int
main(int argc, char **argv)
{
	const char *b = getenv("top_builddir");
	char builddir[PATH_MAX];

	(void)argc;
	if (b == NULL || b[0] == '\0' || realpath(b, builddir) == NULL)
		bail_out("top_builddir not set (run through make check)");
	if (getenv("FT_ENROL_ROOT") == NULL)
		return stage1(argv);
	stage2_env(builddir);
	t_never_offered();
	qr_not_mapped("after an enrolled user's login");
	t_enrols();
	t_enrols_sealed();
	t_wrong_confirmation();
	t_password_confirmation();
	t_wrong_password();
	t_first_factor();
	t_home_and_nullok();
	return done_testing();
}
