/* The installed binaries' clock: the system's, nothing else. */
#include <config.h>

#include <time.h>

#include "clock.h"

time_t
ft_now(void)
{
	return time(NULL);
}

const char *
ft_boot_id_file(void)
{
	return "/proc/sys/kernel/random/boot_id";
}
