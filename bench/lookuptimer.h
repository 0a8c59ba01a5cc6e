/* pam_bench's timer of user-database lookups (see lookuptimer.c). */
#ifndef FLOWTOTP_BENCH_LOOKUPTIMER_H
#define FLOWTOTP_BENCH_LOOKUPTIMER_H

#include <stddef.h>

/* Time spent in, and number of, passwd lookups since the last call (µs);
 * resets both. */
double lookup_take(size_t *count);

#endif
