/* Test-only clock, linked into pam_flowtotp_test.so and totp-enroll-test,
 * never into an installed binary.  FLOWTOTP_TEST_NOW=SECONDS pins the time;
 * FLOWTOTP_TEST_OFFSET=SECONDS shifts the real time.  Unset: real time.
 * FLOWTOTP_TEST_BOOT_ID_FILE=PATH names the boot id file (a reboot). */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"

static int
env_seconds(const char *name, long long *out)
{
	const char *v = getenv(name);
	char *end = NULL;
	long long n;

	if (v == NULL || *v == '\0')
		return 0;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0')
		return 0;
	*out = n;
	return 1;
}

time_t
ft_now(void)
{
	long long n;

	if (env_seconds("FLOWTOTP_TEST_NOW", &n))
		return (time_t)n;
	if (env_seconds("FLOWTOTP_TEST_OFFSET", &n))
		return time(NULL) + (time_t)n;
	return time(NULL);
}

const char *
ft_boot_id_file(void)
{
	const char *v = getenv("FLOWTOTP_TEST_BOOT_ID_FILE");

	return v != NULL && v[0] != '\0' ? v
					 : "/proc/sys/kernel/random/boot_id";
}
