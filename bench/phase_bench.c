/* phase_bench: wall time of each step of one flowtotp login, called directly
 * through the common/ library the module uses (no PAM, no perf overhead), so
 * the module's pam_authenticate time can be split into its parts.
 *
 *   phase_bench -u USERFILE [-o OFFSET] [-n COUNT] [-w] [MODULE ARGS...]
 *
 * USERFILE holds "USER HEXSECRET" lines (as for pam_bench); MODULE ARGS are
 * the module's pam.d arguments (secret=... cache=... window=...).  For each
 * user, in the order a login takes them: the options, the user lookup, the
 * secret file, the state open, begin_attempt, the code check, record_success
 * (or nothing after a wrong code, -w) and the close.  Prints the median and
 * p99 of each step in µs.  A benchmark tool, not installed. */
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

enum phase {
	PH_CONFIG,
	PH_GETPWNAM,
	PH_SECRET,
	PH_STATE_OPEN,
	PH_BEGIN,
	PH_MATCH,
	PH_RECORD,
	PH_CLOSE,
	PH_TOTAL,
	PH_COUNT
};

static const char *const phase_name[PH_COUNT] = {
    "options (ft_config_from_args)",
    "user lookup (getpwnam)",
    "secret file (path + ft_secret_load)",
    "state open (ft_state_open)",
    "ft_state_begin_attempt",
    "code check (ft_totp_match)",
    "ft_state_record_success",
    "ft_state_close",
    "sum of the steps",
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

/* One login's steps; fills t[PH_*] in µs.  Returns 1 accepted, 0 not,
 * -1 on a setup error (message printed). */
static int
one_login(int argc, const char **argv, const char *user, bool wrong,
    double t[PH_COUNT])
{
	struct ft_config *cfg = NULL;
	struct ft_secret *sec = NULL;
	struct ft_file_policy pol;
	struct ft_state *st = NULL;
	struct ft_totp_params p;
	struct passwd *pw;
	enum ft_state_verdict v;
	char err[ERRLEN], path[PATH_MAX], code[FT_CODE_BUFSZ];
	double t0;
	time_t now;
	uint32_t c;
	uint64_t step = 0;
	int offset, rc = -1, m;

	cfg = calloc(1, sizeof(*cfg));
	sec = calloc(1, sizeof(*sec));
	if (cfg == NULL || sec == NULL)
		goto out;
	t0 = now_us();
	if (ft_config_from_args(cfg, argc, argv, err, sizeof(err)) != FT_OK)
		goto fail;
	t[PH_CONFIG] = now_us() - t0;

	t0 = now_us();
	pw = getpwnam(user);
	t[PH_GETPWNAM] = now_us() - t0;
	if (pw == NULL) {
		(void)snprintf(err, sizeof(err), "no such user %s", user);
		goto fail;
	}

	t0 = now_us();
	if (ft_config_secret_path(
		cfg, pw, path, sizeof(path), err, sizeof(err)) != FT_OK)
		goto fail;
	ft_secret_policy(pw->pw_uid, &pol);
	if (ft_secret_load(path, &pol, sec, err, sizeof(err)) != FT_OK)
		goto fail;
	t[PH_SECRET] = now_us() - t0;

	now = ft_now();
	ft_secret_totp_params(sec, cfg->window, &p);
	if (ft_totp(&p, now, &c) != FT_OK)
		goto fail;
	if (wrong)
		c = (c + WRONG_SHIFT) % CODE_MOD;
	if (ft_code_format(c, sec->digits, code, sizeof(code)) != FT_OK)
		goto fail;

	t0 = now_us();
	if (ft_state_open(cfg, 0U, &st, err, sizeof(err)) != FT_OK)
		goto fail;
	t[PH_STATE_OPEN] = now_us() - t0;

	t0 = now_us();
	if (ft_state_begin_attempt(st, user, now, &v, err, sizeof(err)) !=
	    FT_OK)
		goto fail;
	t[PH_BEGIN] = now_us() - t0;

	ft_secret_totp_params(sec, cfg->window, &p);
	t0 = now_us();
	m = ft_totp_match(&p, now, code, &offset, &step);
	t[PH_MATCH] = now_us() - t0;

	rc = 0;
	t[PH_RECORD] = 0.0;
	if (m == 1 && v == FT_STATE_PROCEED) {
		t0 = now_us();
		struct ft_state_login l = {
		    .user = user, .now = now, .step = step};

		if (ft_state_record_success(st, &l, err, sizeof(err)) != FT_OK)
			goto fail;
		v = l.verdict;
		t[PH_RECORD] = now_us() - t0;
		rc = v == FT_STATE_ACCEPTED ? 1 : 0;
	}

	t0 = now_us();
	ft_state_close(st);
	st = NULL;
	t[PH_CLOSE] = now_us() - t0;
	goto out;
fail:
	fprintf(stderr, "phase_bench: %s: %s\n", user, err);
	rc = -1;
out:
	if (st != NULL)
		ft_state_close(st);
	if (sec != NULL)
		ft_secret_wipe(sec);
	free(sec);
	free(cfg);
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

int
main(int argc, char **argv)
{
	const char *users = NULL;
	char line[LINE_MAX_LEN], name[NAME_MAX_LEN];
	double *t[PH_COUNT] = {NULL}, one[PH_COUNT];
	const char **margs = NULL;
	int margc;
	size_t offset = 0, count = 1000, n = 0, lineno = 0, ok = 0;
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
	for (; n < count && fgets(line, sizeof(line), f) != NULL; lineno++) {
		int r;

		if (lineno < offset)
			continue;
		if (sscanf(line, "%63s", name) != 1)
			break;
		memset(one, 0, sizeof(one));
		r = one_login(margc, margs, name, wrong, one);
		if (r < 0) {
			(void)fclose(f);
			goto out;
		}
		ok += (size_t)r;
		for (i = 0; i < PH_TOTAL; i++)
			one[PH_TOTAL] += one[i];
		for (i = 0; i < PH_COUNT; i++)
			t[i][n] = one[i];
		n++;
	}
	(void)fclose(f);
	if (n == 0)
		goto out;
	printf("%zu logins (%zu accepted), %s code; median and p99 in us:\n", n,
	    ok, wrong ? "wrong" : "right");
	for (i = 0; i < PH_COUNT; i++) {
		double med = quantile(t[i], n, 0.5);

		printf("  %-38s %8.1f %8.1f\n", phase_name[i], med,
		    quantile(t[i], n, P99));
	}
	rc = 0;
out:
	for (i = 0; i < PH_COUNT; i++)
		free(t[i]);
	free(margs);
	return rc;
}
