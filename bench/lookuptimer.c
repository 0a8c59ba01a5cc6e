/* Times every passwd lookup a module makes during a login, so the driver
 * can report each module's time with and without its user lookups exactly
 * (how many it makes and what they cost inside the login, with the caches
 * as the login left them), not estimated from a lookup timed apart.
 *
 * Like syslogsink.c, this relies on the executable's definitions coming
 * first in symbol lookup (pam_bench is linked -export-dynamic): libpam's
 * pam_modutil_getpwnam and the modules' own calls of getpwnam_r, getpwnam,
 * getpwuid_r and getpwuid end up here, and each calls the next definition
 * (libc's, or nss_wrapper's when it is preloaded) and adds its wall time
 * to a counter the driver reads between logins. */
#include <config.h>

#include <dlfcn.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/types.h>
#include <time.h>

#include "lookuptimer.h"

#define NSEC_PER_USEC 1e3
#define USEC_PER_SEC 1e6

typedef int (*pwnam_r_fn)(
    const char *, struct passwd *, char *, size_t, struct passwd **);
typedef int (*pwuid_r_fn)(
    uid_t, struct passwd *, char *, size_t, struct passwd **);
typedef struct passwd *(*pwnam_fn)(const char *);
typedef struct passwd *(*pwuid_fn)(uid_t);

/* The driver is single-threaded while it times (the concurrent modes fork
 * and do not read these). */
static double spent_us;
static size_t lookups;

static double
mono_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		abort();
	return (double)ts.tv_sec * USEC_PER_SEC +
	    (double)ts.tv_nsec / NSEC_PER_USEC;
}

/* The next definition of name after ours; a benchmark cannot go on
 * without it. */
static void *
next(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);

	if (f == NULL)
		abort();
	return f;
}

static void
account(double t0)
{
	spent_us += mono_us() - t0;
	lookups++;
}

int
getpwnam_r(const char *name, struct passwd *pwd, char *buf, size_t len,
    struct passwd **res)
{
	static pwnam_r_fn real;
	double t0;
	int rc;

	if (real == NULL)
		real = (pwnam_r_fn)next("getpwnam_r");
	t0 = mono_us();
	rc = real(name, pwd, buf, len, res);
	account(t0);
	return rc;
}

int
getpwuid_r(
    uid_t uid, struct passwd *pwd, char *buf, size_t len, struct passwd **res)
{
	static pwuid_r_fn real;
	double t0;
	int rc;

	if (real == NULL)
		real = (pwuid_r_fn)next("getpwuid_r");
	t0 = mono_us();
	rc = real(uid, pwd, buf, len, res);
	account(t0);
	return rc;
}

struct passwd *
getpwnam(const char *name)
{
	static pwnam_fn real;
	struct passwd *pw;
	double t0;

	if (real == NULL)
		real = (pwnam_fn)next("getpwnam");
	t0 = mono_us();
	pw = real(name);
	account(t0);
	return pw;
}

struct passwd *
getpwuid(uid_t uid)
{
	static pwuid_fn real;
	struct passwd *pw;
	double t0;

	if (real == NULL)
		real = (pwuid_fn)next("getpwuid");
	t0 = mono_us();
	pw = real(uid);
	account(t0);
	return pw;
}

double
lookup_take(size_t *count)
{
	double t = spent_us;

	*count = lookups;
	spent_us = 0.0;
	lookups = 0;
	return t;
}
