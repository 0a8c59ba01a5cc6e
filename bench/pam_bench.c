/* pam_bench: time pam_start_confdir/pam_authenticate/pam_end in-process.
 *
 * Reads "USER HEXSECRET" lines, computes each user's TOTP code (SHA1, 6
 * digits, 30 s) with OpenSSL for the real time or for -t SECONDS (then also
 * exported as FLOWTOTP_TEST_NOW for the test-clock module), and logs users in
 * through the service file SERVICE in CONFDIR, with a conversation that
 * answers every prompt with the code.  Modes:
 *   seq   each user once, one after the other; prints median/p99 of the whole
 *         call and of pam_authenticate alone, and logins per second;
 *   same  -P processes send the same user's same code at once (after a
 *         barrier), -R rounds, a new user each round; prints successes per
 *         round;
 *   diff  -P processes, each a different user, at once, -R rounds;
 *   pw    no PAM: times getpwnam() alone for each user (the cost of the user
 *         database that modules calling getpwnam pay on top of libpam's).
 * Users: -n COUNT of them from line -o OFFSET (0-based), every -k STRIDE-th.
 * -w sends a wrong code instead; -W makes the first user's login an untimed
 * warm-up; -d FILE appends each login's times (seq mode) to FILE.
 * Without -c CONFDIR, pam_start reads the service from /etc/pam.d, as a real
 * program does.  -S LIST (seq mode), e.g. -S -1,0,1: one pass over the users
 * per listed step offset, each sending the code of the current step plus
 * the offset (the passes go up in time, so replay protection accepts all).
 * -L writes two more -d columns: the time the login spent in passwd lookups
 * (getpwnam_r and kin, timed by lookuptimer.c) and how many it made.
 * Output: one "key=value ..." line on stdout.
 * Log lines go to a stand-in system logger (syslogsink.c).
 * A benchmark tool, not installed. */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <security/pam_appl.h>

#include "lookuptimer.h"
#include "syslogsink.h"

#define NAME_MAX_LEN 64U
#define KEY_MAX_LEN 64U
#define LINE_MAX_LEN 512U
#define PERIOD 30U
#define DIGITS 6U
#define CODE_MOD 1000000U
#define CODE_LEN 7U	    /* 6 digits + NUL */
#define WRONG_AVOID_STEPS 3 /* a wrong code differs from steps -3..+3 */
#define WRONG_SHIFT 500009U
#define PROCS_DEFAULT 20U
#define ROUNDS_DEFAULT 20U
#define PROCS_MAX 256U
#define ROUNDS_MAX 1000U
#define NSEC_PER_USEC 1000.0
#define USEC_PER_SEC 1e6
#define P99 0.99
#define STEPS_MAX 16U

enum mode { MODE_SEQ, MODE_SAME, MODE_DIFF, MODE_PW };

struct user {
	char name[NAME_MAX_LEN];
	uint8_t key[KEY_MAX_LEN];
	size_t keylen;
};

struct opts {
	const char *confdir;
	const char *service;
	const char *users;
	const char *label;
	enum mode mode;
	size_t offset;
	size_t count;  /* 0: all from offset */
	size_t stride; /* every stride-th user from offset */
	bool wrong;
	bool warm;	 /* the first user's login is untimed */
	const char *raw; /* append per-login samples here */
	bool fixed_time;
	time_t now;
	unsigned procs;
	unsigned rounds;
	int steps[STEPS_MAX]; /* -S: step offsets, one pass each */
	size_t nsteps;
	bool lookup; /* -L: write the lookups of each login */
};

/* Shared between the processes of a concurrent run. */
struct shared {
	pthread_barrier_t barrier;
	int ok[ROUNDS_MAX][PROCS_MAX];
};

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
parse_user(const char *line, struct user *u)
{
	char hex[2 * KEY_MAX_LEN + 1];
	size_t i, n;

	if (sscanf(line, "%63s %128s", u->name, hex) != 2)
		return -1;
	n = strlen(hex);
	if (n % 2 != 0 || n == 0)
		return -1;
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		u->key[i] = (uint8_t)(hi * 16 + lo);
	}
	u->keylen = n / 2;
	return 0;
}

/* Users [offset, offset+count) of the file; count 0 means to the end. */
static struct user *
load_users(const struct opts *o, size_t *nout)
{
	char line[LINE_MAX_LEN];
	struct user *v = NULL, *nv;
	size_t n = 0, cap = 0, lineno = 0;
	FILE *f;

	if ((f = fopen(o->users, "r")) == NULL) {
		fprintf(
		    stderr, "pam_bench: %s: %s\n", o->users, strerror(errno));
		return NULL;
	}
	for (; fgets(line, sizeof(line), f) != NULL; lineno++) {
		if (lineno < o->offset || (lineno - o->offset) % o->stride != 0)
			continue;
		if (o->count != 0 && n == o->count)
			break;
		if (n == cap) {
			cap = cap != 0 ? 2 * cap : 1024;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				goto fail;
			v = nv;
		}
		if (parse_user(line, &v[n]) != 0) {
			fprintf(stderr, "pam_bench: %s:%zu: bad line\n",
			    o->users, lineno + 1);
			goto fail;
		}
		n++;
	}
	(void)fclose(f);
	if (n == 0 || (o->count != 0 && n < o->count)) {
		fprintf(stderr, "pam_bench: %s: only %zu users from %zu\n",
		    o->users, n, o->offset);
		free(v);
		return NULL;
	}
	*nout = n;
	return v;
fail:
	(void)fclose(f);
	free(v);
	return NULL;
}

static uint32_t
hotp(const struct user *u, uint64_t counter)
{
	uint8_t msg[8], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0, off;
	uint32_t bin;
	int i;

	for (i = 7; i >= 0; i--) {
		msg[i] = (uint8_t)(counter & 0xffU);
		counter >>= 8;
	}
	if (HMAC(EVP_sha1(), u->key, (int)u->keylen, msg, sizeof(msg), md,
		&mdlen) == NULL ||
	    mdlen < 20U)
		abort();
	off = md[mdlen - 1] & 0x0fU;
	bin = ((uint32_t)(md[off] & 0x7fU) << 24) |
	    ((uint32_t)md[off + 1] << 16) | ((uint32_t)md[off + 2] << 8) |
	    (uint32_t)md[off + 3];
	return bin % CODE_MOD;
}

/* The code for time t, or (wrong) one that matches no step near t. */
static void
make_code(const struct user *u, time_t t, bool wrong, char out[CODE_LEN])
{
	uint64_t step = (uint64_t)t / PERIOD;
	uint32_t code = hotp(u, step);
	int d;

	if (wrong) {
		for (;;) {
			bool clash = false;

			code = (code + WRONG_SHIFT) % CODE_MOD;
			for (d = -WRONG_AVOID_STEPS; d <= WRONG_AVOID_STEPS;
			     d++)
				if (hotp(u, step + (uint64_t)(int64_t)d) ==
				    code)
					clash = true;
			if (!clash)
				break;
		}
	}
	(void)snprintf(out, CODE_LEN, "%0*" PRIu32, (int)DIGITS, code);
}

static time_t
code_time(const struct opts *o)
{
	return o->fixed_time ? o->now : time(NULL);
}

/* Answers every prompt with the code (appdata). */
static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *appdata)
{
	const char *code = appdata;
	struct pam_response *r;
	int i;

	if (n <= 0 || (r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_CONV_ERR;
	for (i = 0; i < n; i++) {
		if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF &&
		    msg[i]->msg_style != PAM_PROMPT_ECHO_ON)
			continue;
		if ((r[i].resp = strdup(code)) == NULL) {
			while (i-- > 0)
				free(r[i].resp);
			free(r);
			return PAM_CONV_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

static double
now_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		abort();
	return (double)ts.tv_sec * USEC_PER_SEC +
	    (double)ts.tv_nsec / NSEC_PER_USEC;
}

/* One login; returns pam_authenticate's result, times in µs. */
static int
login(const struct opts *o, const char *user, char *code, double *total,
    double *auth, pthread_barrier_t *barrier)
{
	struct pam_conv pc = {conv, code};
	pam_handle_t *pamh = NULL;
	double t0, t1, t2;
	int rc;

	t0 = now_us();
	if (o->confdir != NULL)
		rc =
		    pam_start_confdir(o->service, user, &pc, o->confdir, &pamh);
	else
		rc = pam_start(o->service, user, &pc, &pamh);
	if (rc != PAM_SUCCESS) {
		fprintf(stderr, "pam_bench: pam_start: %d\n", rc);
		exit(2);
	}
	if (barrier != NULL)
		(void)pthread_barrier_wait(barrier);
	t1 = now_us();
	rc = pam_authenticate(pamh, 0);
	t2 = now_us();
	(void)pam_end(pamh, rc);
	if (total != NULL)
		*total = now_us() - t0;
	if (auth != NULL)
		*auth = t2 - t1;
	return rc;
}

static int
cmp_double(const void *a, const void *b)
{
	const double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y ? 1 : 0;
}

static double
quantile(double *v, size_t n, double q)
{
	size_t i;

	qsort(v, n, sizeof(*v), cmp_double);
	if (q <= 0.5)
		return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
	i = (size_t)(q * (double)n + 0.999999);
	return v[i > 0 ? i - 1 : 0];
}

/* Per-login samples of a seq run. */
struct samples {
	double *tot, *au, *pw; /* pw: in passwd lookups, inside the login */
	bool *ok;
	size_t *logs, *npw;
	size_t n;
};

static void
samples_free(struct samples *s)
{
	free(s->tot);
	free(s->au);
	free(s->pw);
	free(s->ok);
	free(s->logs);
	free(s->npw);
}

static int
samples_alloc(struct samples *s, size_t n)
{
	s->n = n;
	s->tot = calloc(n, sizeof(*s->tot));
	s->au = calloc(n, sizeof(*s->au));
	s->pw = calloc(n, sizeof(*s->pw));
	s->ok = calloc(n, sizeof(*s->ok));
	s->logs = calloc(n, sizeof(*s->logs));
	s->npw = calloc(n, sizeof(*s->npw));
	if (s->tot == NULL || s->au == NULL || s->pw == NULL || s->ok == NULL ||
	    s->logs == NULL || s->npw == NULL) {
		samples_free(s);
		return -1;
	}
	return 0;
}

/* Append one "TOTAL_US AUTH_US OK LOGS [LOOKUP_US LOOKUPS]" line per login to
 * o->raw, so runs split over several processes can be merged. */
static int
write_raw(const struct opts *o, const struct samples *s)
{
	FILE *f;
	size_t i;

	if ((f = fopen(o->raw, "a")) == NULL)
		return -1;
	for (i = 0; i < s->n; i++) {
		fprintf(f, "%.1f %.1f %d %zu", s->tot[i], s->au[i],
		    s->ok[i] ? 1 : 0, s->logs[i]);
		if (o->lookup)
			fprintf(f, " %.1f %zu", s->pw[i], s->npw[i]);
		fputc('\n', f);
	}
	return fclose(f) == 0 ? 0 : -1;
}

/* The time a code is made for in pass `pass' (-S offsets, else now). */
static time_t
pass_time(const struct opts *o, size_t pass)
{
	time_t t = code_time(o);

	if (o->nsteps > 0)
		t += (time_t)o->steps[pass] * (time_t)PERIOD;
	return t;
}

/* -W: the first user's login is untimed, so that the timed ones do not pay
 * for the process's first use of libpam, NSS and the module's libraries
 * and files. */
static void
warm_up(const struct opts *o, const struct user *u)
{
	char code[CODE_LEN];

	make_code(u, pass_time(o, 0), o->wrong, code);
	(void)login(o, u->name, code, NULL, NULL, NULL);
	(void)sink_drain();
}

/* Sample k: user u's login for pass `pass'. */
static void
seq_one(const struct opts *o, const struct user *u, size_t pass,
    struct samples *s, size_t k)
{
	char code[CODE_LEN];
	size_t before;

	make_code(u, pass_time(o, pass), o->wrong, code);
	(void)lookup_take(&before); /* count this login's lookups only */
	s->ok[k] =
	    login(o, u->name, code, &s->tot[k], &s->au[k], NULL) == PAM_SUCCESS;
	s->pw[k] = lookup_take(&s->npw[k]);
	s->logs[k] = sink_drain(); /* outside the timed part */
}

static void
print_seq(const struct opts *o, struct samples *s)
{
	double sum = 0.0, ausum = 0.0;
	size_t i, ok = 0, logs = 0, n = s->n;

	for (i = 0; i < n; i++) {
		ok += s->ok[i] ? 1 : 0;
		logs += s->logs[i];
		sum += s->tot[i];
		ausum += s->au[i];
	}
	printf("label=%s mode=seq wrong=%d n=%zu ok=%zu fail=%zu "
	       "logins_per_s=%.0f total_med_us=%.1f total_p99_us=%.1f "
	       "auth_med_us=%.1f auth_p99_us=%.1f auth_mean_us=%.1f "
	       "log_lines=%zu\n",
	    o->label, o->wrong ? 1 : 0, n, ok, n - ok,
	    (double)n * USEC_PER_SEC / sum, quantile(s->tot, n, 0.5),
	    quantile(s->tot, n, P99), quantile(s->au, n, 0.5),
	    quantile(s->au, n, P99), ausum / (double)n, logs);
}

static int
run_seq(const struct opts *o, const struct user *u, size_t n)
{
	struct samples s;
	size_t passes = o->nsteps > 0 ? o->nsteps : 1, p, i;
	int rc = 1;

	if (o->warm) {
		if (n < 2)
			return 1;
		warm_up(o, u);
		u++;
		n--;
	}
	if (samples_alloc(&s, n * passes) != 0)
		return 1;
	(void)sink_drain();
	for (p = 0; p < passes; p++)
		for (i = 0; i < n; i++)
			seq_one(o, &u[i], p, &s, p * n + i);
	if (o->raw != NULL && write_raw(o, &s) != 0) {
		fprintf(stderr, "pam_bench: %s: %s\n", o->raw, strerror(errno));
		goto out;
	}
	print_seq(o, &s);
	rc = 0;
out:
	samples_free(&s);
	return rc;
}

static int
run_pw(const struct opts *o, const struct user *u, size_t n)
{
	double *t, t0;
	size_t i, ok = 0;

	if ((t = calloc(n, sizeof(*t))) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		t0 = now_us();
		if (getpwnam(u[i].name) != NULL)
			ok++;
		t[i] = now_us() - t0;
	}
	printf("label=%s mode=pw n=%zu ok=%zu med_us=%.1f p99_us=%.1f\n",
	    o->label, n, ok, quantile(t, n, 0.5), quantile(t, n, P99));
	free(t);
	return 0;
}

/* Child p of a concurrent run: one login per round, in step with the rest. */
static void
conc_child(const struct opts *o, const struct user *u, char (*codes)[CODE_LEN],
    struct shared *sh, unsigned p)
{
	unsigned r;

	for (r = 0; r < o->rounds; r++) {
		size_t i = o->mode == MODE_SAME ? r : (size_t)r * o->procs + p;

		sh->ok[r][p] = login(o, u[i].name, codes[i], NULL, NULL,
				   &sh->barrier) == PAM_SUCCESS;
		(void)pthread_barrier_wait(&sh->barrier);
	}
	_exit(0);
}

static int
run_conc(const struct opts *o, const struct user *u, size_t n)
{
	pthread_barrierattr_t ba;
	char(*codes)[CODE_LEN] = NULL;
	struct shared *sh;
	size_t need, i;
	unsigned p, r, min = UINT_MAX, max = 0;
	pid_t pid;
	int status, rc = 1;

	need = o->mode == MODE_SAME ? o->rounds : (size_t)o->rounds * o->procs;
	if (n < need) {
		fprintf(stderr, "pam_bench: need %zu users\n", need);
		return 1;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	if ((codes = calloc(need, sizeof(*codes))) == NULL)
		goto out;
	/* All codes from one instant, so every process of a round sends
	 * exactly the same code even across a step boundary. */
	for (i = 0; i < need; i++)
		make_code(&u[i], code_time(o), o->wrong, codes[i]);
	if (pthread_barrierattr_init(&ba) != 0 ||
	    pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED) != 0 ||
	    pthread_barrier_init(&sh->barrier, &ba, o->procs) != 0)
		goto out;
	for (p = 0; p < o->procs; p++) {
		if ((pid = fork()) < 0)
			abort(); /* the barrier would hang */
		if (pid == 0)
			conc_child(o, u, codes, sh, p);
	}
	rc = 0;
	for (p = 0; p < o->procs; p++)
		if (wait(&status) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			rc = 1;
	printf("label=%s mode=%s wrong=%d procs=%u rounds=%u per_round=",
	    o->label, o->mode == MODE_SAME ? "same" : "diff", o->wrong ? 1 : 0,
	    o->procs, o->rounds);
	for (r = 0; r < o->rounds; r++) {
		unsigned s = 0;

		for (p = 0; p < o->procs; p++)
			s += (unsigned)sh->ok[r][p];
		min = s < min ? s : min;
		max = s > max ? s : max;
		printf("%s%u", r == 0 ? "" : ",", s);
	}
	printf(" min=%u max=%u\n", min, max);
out:
	free(codes);
	(void)munmap(sh, sizeof(*sh));
	return rc;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: pam_bench [-c CONFDIR] -s SERVICE -u USERFILE "
	    "[-m seq|same|diff|pw] [-o OFFSET] [-n COUNT] [-k STRIDE] [-w] "
	    "[-W] [-d RAWFILE] [-t SECONDS] [-S STEP,...] [-L] "
	    "[-P PROCS] [-R ROUNDS] [-l LABEL]\n");
	exit(2);
}

static unsigned long long
num(const char *s, unsigned long long max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > max)
		usage();
	return v;
}

static enum mode
parse_mode(const char *s)
{
	if (strcmp(s, "seq") == 0)
		return MODE_SEQ;
	if (strcmp(s, "same") == 0)
		return MODE_SAME;
	if (strcmp(s, "diff") == 0)
		return MODE_DIFF;
	if (strcmp(s, "pw") == 0)
		return MODE_PW;
	usage();
	return MODE_SEQ; /* not reached */
}

/* -S -1,0,1: comma-separated step offsets, in the order of the passes. */
static void
parse_steps(const char *s, struct opts *o)
{
	const char *p = s;
	char *end;
	long v;

	o->nsteps = 0;
	for (;;) {
		errno = 0;
		v = strtol(p, &end, 10);
		if (errno != 0 || end == p || o->nsteps == STEPS_MAX ||
		    v < -WRONG_AVOID_STEPS || v > WRONG_AVOID_STEPS)
			usage();
		o->steps[o->nsteps++] = (int)v;
		if (*end == '\0')
			return;
		if (*end != ',')
			usage();
		p = end + 1;
	}
}

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->label = "run";
	o->procs = PROCS_DEFAULT;
	o->rounds = ROUNDS_DEFAULT;
	o->stride = 1;
	while (
	    (c = getopt(argc, argv, "c:s:u:m:o:n:k:wWd:t:P:R:l:S:L")) != -1) {
		switch (c) {
		case 'c': o->confdir = optarg; break;
		case 's': o->service = optarg; break;
		case 'u': o->users = optarg; break;
		case 'l': o->label = optarg; break;
		case 'w': o->wrong = true; break;
		case 'W': o->warm = true; break;
		case 'd': o->raw = optarg; break;
		case 'o': o->offset = (size_t)num(optarg, SIZE_MAX); break;
		case 'n': o->count = (size_t)num(optarg, SIZE_MAX); break;
		case 'k': o->stride = (size_t)num(optarg, SIZE_MAX); break;
		case 'P': o->procs = (unsigned)num(optarg, PROCS_MAX); break;
		case 'R': o->rounds = (unsigned)num(optarg, ROUNDS_MAX); break;
		case 't':
			o->fixed_time = true;
			o->now = (time_t)num(optarg, INT32_MAX);
			break;
		case 'm': o->mode = parse_mode(optarg); break;
		case 'S': parse_steps(optarg, o); break;
		case 'L': o->lookup = true; break;
		default: usage();
		}
	}
	if (o->service == NULL || o->users == NULL || o->procs == 0 ||
	    o->rounds == 0 || o->stride == 0 || optind != argc)
		usage();
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct user *u;
	size_t n = 0;
	char buf[32];
	int rc;

	parse_opts(argc, argv, &o);
	if (o.fixed_time) {
		(void)snprintf(buf, sizeof(buf), "%lld", (long long)o.now);
		if (setenv("FLOWTOTP_TEST_NOW", buf, 1) != 0)
			return 1;
	}
	if (sink_open() != 0) {
		fprintf(stderr, "pam_bench: cannot open the log sink: %s\n",
		    strerror(errno));
		return 1;
	}
	if ((u = load_users(&o, &n)) == NULL)
		return 1;
	if (o.mode == MODE_SEQ)
		rc = run_seq(&o, u, n);
	else if (o.mode == MODE_PW)
		rc = run_pw(&o, u, n);
	else
		rc = run_conc(&o, u, n);
	free(u);
	return rc;
}
