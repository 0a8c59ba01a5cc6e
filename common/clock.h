/* The one place flowtotp reads the time.  The installed module and CLI link
 * clock_real.c; the test-only builds link clock_test.c instead, which lets
 * tests move time.  No environment variable changes the time in an installed
 * binary, and none changes the boot id. */
#ifndef FLOWTOTP_CLOCK_H
#define FLOWTOTP_CLOCK_H

#include <time.h>

/* Seconds since the epoch (UTC). */
time_t ft_now(void);

/* The file holding this boot's id (remember=): a new boot forgets what was
 * remembered.  The test build lets a test name another file, to simulate a
 * reboot. */
const char *ft_boot_id_file(void);

#endif
