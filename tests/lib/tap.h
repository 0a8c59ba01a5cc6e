/* Minimal TAP producer for the C test programs (read by automake's
 * tap-driver.sh).  Header-only; each test program includes it once. */
#ifndef FLOWTOTP_TESTS_LIB_TAP_H
#define FLOWTOTP_TESTS_LIB_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count;
static int tap_failed;

__attribute__((unused, format(printf, 2, 3))) static int
tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

#define ok(cond, ...) tap_ok((cond) ? 1 : 0, __VA_ARGS__)

#define is_int(got, want, ...)                                                 \
	do {                                                                   \
		long long tap_g_ = (long long)(got),                           \
			  tap_w_ = (long long)(want);                          \
		if (!tap_ok(tap_g_ == tap_w_, __VA_ARGS__))                    \
			printf("#   got %lld, want %lld\n", tap_g_, tap_w_);   \
	} while (0)

#define is_str(got, want, ...)                                                 \
	do {                                                                   \
		const char *tap_g_ = (got), *tap_w_ = (want);                  \
		int tap_c_ = tap_g_ != NULL && tap_w_ != NULL &&               \
		    strcmp(tap_g_, tap_w_) == 0;                               \
		if (!tap_ok(tap_c_, __VA_ARGS__))                              \
			printf("#   got \"%s\", want \"%s\"\n",                \
			    tap_g_ ? tap_g_ : "(null)",                        \
			    tap_w_ ? tap_w_ : "(null)");                       \
	} while (0)

__attribute__((unused, format(printf, 1, 2))) static void
diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Print the plan and return the exit status. */
static __attribute__((unused)) int
done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed == 0 ? 0 : 1;
}

__attribute__((unused, noreturn, format(printf, 1, 2))) static void
bail_out(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(1);
}

__attribute__((unused, noreturn, format(printf, 1, 2))) static void
skip_all(const char *fmt, ...)
{
	va_list ap;

	printf("1..0 # SKIP ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(0);
}

#endif
