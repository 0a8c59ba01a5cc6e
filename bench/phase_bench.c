/* phase_bench: wall time of each step of one flowtotp login, called directly
 * through the common/ library the module uses (no PAM, no perf overhead), so
 * the module's pam_authenticate time can be split into its parts.
 *
 *   phase_bench -u USERFILE [-o OFFSET] [-n COUNT] [-w] [MODULE ARGS...]
 *
 * USERFILE holds "USER HEXSECRET" lines (as for pam_bench); MODULE ARGS are
 * the module's pam.d arguments (secret=... cache=... window=...).  For each
 * user, the steps of the path pam_module/login.c takes for a TOTP code, in
 * its order: the options (argv over the conf file), the user lookup, the
 * secret file, ft_state_open (FT_STATE_LAZY), ft_state_attempt (one locked
 * session that counts the attempt, runs the code check and records its step;
 * the check is also shown on its own) and the close.  -w sends a wrong code.
 * Prints the mean, median and p99 of each step in µs.  What it leaves out:
 * libpam, the conversation and the log line (pam_bench times those with
 * the rest).  A benchmark tool, not installed. */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "conf.h"
#include "otp.h"
#include "rc.h"
#include "secretstore.h"
#include "state.h"

#define ERRLEN 256U
#define LINE_MAX_LEN 512U
#define NAME_MAX_LEN 64U
#define USEC_PER_SEC 1e6
#define NSEC_PER_USEC 1e3
#define P99 0.99
#define WRONG_SHIFT 500009U
#define CODE_MOD 1000000U
#define PWBUF_LEN 4096U

enum phase {
	PH_CONFIG,
	PH_GETPWNAM,
	PH_SECRET,
	PH_STATE_OPEN,
	PH_ATTEMPT,
	PH_CHECK,
	PH_CLOSE,
	PH_TOTAL,
	PH_COUNT
};

static const char *const phase_name[PH_COUNT] = {
    "options (ft_config_from_args)",
    "user lookup (getpwnam_r)",
    "secret file (path + ft_secret_load)",
    "state open (ft_state_open, lazy)",
    "ft_state_attempt, less the check",
    "  code check in it (ft_totp_match)",
    "ft_state_close",
    "sum of the steps",
};

/* One login's data, in the order the module fills it. */
struct login {
	int argc;
	const char **argv;
	const char *user;
	bool wrong;
	struct ft_config *cfg;
	struct ft_secret *sec;
	struct passwd pw;
	char pwbuf[PWBUF_LEN];
	char path[PATH_MAX];
	char code[FT_CODE_BUFSZ];
	char err[ERRLEN];
	time_t now;
	double *t; /* [PH_COUNT], µs */
};

static double
now_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		abort();
	return (double)ts.tv_sec * USEC_PER_SEC +
	    (double)ts.tv_nsec / NSEC_PER_USEC;
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

/* Options, user lookup and secret file, as pam_module/login.c does them
 * (pam_modutil_getpwnam is getpwnam_r plus a copy kept on the handle). */
static int
load_user(struct login *lg)
{
	struct ft_file_policy pol;
	struct passwd *res = NULL;
	double t0;

	t0 = now_us();
	if (ft_config_from_args(
		lg->cfg, lg->argc, lg->argv, lg->err, sizeof(lg->err)) != FT_OK)
		return -1;
	lg->t[PH_CONFIG] = now_us() - t0;

	t0 = now_us();
	if (getpwnam_r(lg->user, &lg->pw, lg->pwbuf, sizeof(lg->pwbuf), &res) !=
		0 ||
	    res == NULL) {
		(void)snprintf(lg->err, sizeof(lg->err), "no such user");
		return -1;
	}
	lg->t[PH_GETPWNAM] = now_us() - t0;

	t0 = now_us();
	if (ft_config_secret_path(lg->cfg, &lg->pw, lg->path, sizeof(lg->path),
		lg->err, sizeof(lg->err)) != FT_OK)
		return -1;
	ft_secret_policy(lg->pw.pw_uid, &pol);
	if (ft_secret_load(lg->path, &pol, lg->sec, lg->err, sizeof(lg->err)) !=
	    FT_OK)
		return -1;
	lg->t[PH_SECRET] = now_us() - t0;
	return 0;
}

/* The code the user types (or, -w, a wrong one). */
static int
make_code(struct login *lg)
{
	struct ft_totp_params p;
	uint32_t c;

	lg->now = ft_now();
	ft_secret_totp_params(lg->sec, lg->cfg->window, &p);
	if (ft_totp(&p, lg->now, &c) != FT_OK)
		return -1;
	if (lg->wrong)
		c = (c + WRONG_SHIFT) % CODE_MOD;
	return ft_code_format(c, lg->sec->digits, lg->code, sizeof(lg->code)) ==
		FT_OK
	    ? 0
	    : -1;
}

/* ft_state_check_fn: the module's code check, timed on its own. */
static int
check_cb(void *arg, uint64_t *step)
{
	struct login *lg = arg;
	struct ft_totp_params p;
	double t0;
	int off = 0, m;

	ft_secret_totp_params(lg->sec, lg->cfg->window, &p);
	t0 = now_us();
	m = ft_totp_match(&p, lg->now, lg->code, &off, step);
	lg->t[PH_CHECK] = now_us() - t0;
	return m;
}

/* The state part of a TOTP login, the calls attempt_totp() in
 * pam_module/login.c makes: open, one atomic attempt that runs the check
 * under the lock, close.  The only place that knows the state API, so it
 * is the one to adapt when that changes.  1 accepted, 0 not, -1 error. */
static int
state_phase(struct login *lg)
{
	struct ft_state *st = NULL;
	struct ft_state_login l = {.user = lg->user,
	    .now = lg->now,
	    .check = check_cb,
	    .check_arg = lg};
	double t0;

	t0 = now_us();
	if (ft_state_open(
		lg->cfg, FT_STATE_LAZY, &st, lg->err, sizeof(lg->err)) != FT_OK)
		return -1;
	lg->t[PH_STATE_OPEN] = now_us() - t0;

	t0 = now_us();
	if (ft_state_attempt(st, &l, lg->err, sizeof(lg->err)) != FT_OK) {
		ft_state_close(st);
		return -1;
	}
	lg->t[PH_ATTEMPT] = now_us() - t0 - lg->t[PH_CHECK];

	t0 = now_us();
	ft_state_close(st);
	lg->t[PH_CLOSE] = now_us() - t0;
	return l.verdict == FT_STATE_ACCEPTED ? 1 : 0;
}

/* One login's steps; fills t[PH_*] in µs.  Returns 1 accepted, 0 not,
 * -1 on a setup error (message printed). */
static int
one_login(int argc, const char **argv, const char *user, bool wrong,
    double t[PH_COUNT])
{
	struct login *lg;
	int rc = -1;

	if ((lg = calloc(1, sizeof(*lg))) == NULL)
		return -1;
	lg->argc = argc;
	lg->argv = argv;
	lg->user = user;
	lg->wrong = wrong;
	lg->t = t;
	lg->cfg = calloc(1, sizeof(*lg->cfg));
	lg->sec = calloc(1, sizeof(*lg->sec));
	if (lg->cfg != NULL && lg->sec != NULL && load_user(lg) == 0 &&
	    make_code(lg) == 0)
		rc = state_phase(lg);
	if (rc < 0)
		fprintf(stderr, "phase_bench: %s: %s\n", user, lg->err);
	if (lg->sec != NULL)
		ft_secret_wipe(lg->sec);
	free(lg->sec);
	free(lg->cfg);
	free(lg);
	return rc;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: phase_bench -u USERFILE [-o OFFSET] "
	    "[-n COUNT] [-w] [MODULE ARGS...]\n");
	exit(2);
}

static size_t
num(const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > SIZE_MAX)
		usage();
	return (size_t)v;
}

static void
print_phases(double *t[PH_COUNT], size_t n, size_t ok, bool wrong)
{
	int i;

	printf("%zu logins (%zu accepted), %s code; mean, median and p99 in "
	       "us:\n",
	    n, ok, wrong ? "wrong" : "right");
	for (i = 0; i < PH_COUNT; i++) {
		double sum = 0.0;
		size_t k;

		for (k = 0; k < n; k++)
			sum += t[i][k];
		printf("  %-38s %8.1f %8.1f %8.1f\n", phase_name[i],
		    sum / (double)n, quantile(t[i], n, 0.5),
		    quantile(t[i], n, P99));
	}
}

/* Log in users [offset, offset+count) of the file; fills t, *ok.  Returns
 * how many logged in, or -1 on an error (message printed). */
struct run {
	size_t offset, count; /* users [offset, offset+count) */
	int margc;	      /* the module's arguments */
	const char **margs;
	bool wrong;
};

static long
run_users(FILE *f, const struct run *ru, double *t[PH_COUNT], size_t *ok)
{
	char line[LINE_MAX_LEN], name[NAME_MAX_LEN];
	double one[PH_COUNT];
	size_t n = 0, lineno = 0;
	int i, r;

	for (; n < ru->count && fgets(line, sizeof(line), f) != NULL;
	     lineno++) {
		if (lineno < ru->offset)
			continue;
		if (sscanf(line, "%63s", name) != 1)
			break;
		memset(one, 0, sizeof(one));
		r = one_login(ru->margc, ru->margs, name, ru->wrong, one);
		if (r < 0)
			return -1;
		*ok += (size_t)r;
		/* PH_ATTEMPT excludes PH_CHECK: each counted once */
		for (i = 0; i < PH_TOTAL; i++)
			one[PH_TOTAL] += one[i];
		for (i = 0; i < PH_COUNT; i++)
			t[i][n] = one[i];
		n++;
	}
	return (long)n;
}

int
main(int argc, char **argv)
{
	const char *users = NULL;
	struct run ru;
	double *t[PH_COUNT] = {NULL};
	const char **margs = NULL;
	int margc;
	size_t offset = 0, count = 1000, ok = 0;
	long n;
	bool wrong = false;
	FILE *f;
	int c, i, rc = 1;

	while ((c = getopt(argc, argv, "u:o:n:w")) != -1) {
		switch (c) {
		case 'u': users = optarg; break;
		case 'o': offset = num(optarg); break;
		case 'n': count = num(optarg); break;
		case 'w': wrong = true; break;
		default: usage();
		}
	}
	if (users == NULL || count == 0)
		usage();
	margc = argc - optind;
	if ((margs = calloc((size_t)margc + 1, sizeof(*margs))) == NULL)
		goto out;
	for (i = 0; i < margc; i++)
		margs[i] = argv[optind + i];
	for (i = 0; i < PH_COUNT; i++)
		if ((t[i] = calloc(count, sizeof(double))) == NULL)
			goto out;
	if ((f = fopen(users, "r")) == NULL) {
		fprintf(
		    stderr, "phase_bench: %s: %s\n", users, strerror(errno));
		goto out;
	}
	ru.offset = offset;
	ru.count = count;
	ru.margc = margc;
	ru.margs = margs;
	ru.wrong = wrong;
	n = run_users(f, &ru, t, &ok);
	(void)fclose(f);
	if (n <= 0)
		goto out;
	print_phases(t, (size_t)n, ok, wrong);
	rc = 0;
out:
	for (i = 0; i < PH_COUNT; i++)
		free(t[i]);
	free(margs);
	return rc;
}
