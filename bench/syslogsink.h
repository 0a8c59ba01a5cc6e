/* pam_bench's stand-in system logger (see syslogsink.c). */
#ifndef FLOWTOTP_BENCH_SYSLOGSINK_H
#define FLOWTOTP_BENCH_SYSLOGSINK_H

#include <stddef.h>

/* Bind the logger's socket and connect syslog() to it; 0 or -1. */
int sink_open(void);

/* Read and discard what was logged; returns the number of messages. */
size_t sink_drain(void);

#endif
