/* Reach the module's out-of-memory path through real libpam, without a
 * mock of the module: this program defines strdup(), and (linked with
 * -export-dynamic, like syslogcap.c's syslog()) the executable's definition
 * comes first in symbol lookup, so the module's strdup() calls end up here.
 * Only a call from the module under test, for exactly the armed string,
 * fails; every other call (libpam, nss_wrapper, the tests) gets a copy as
 * from libc.  Test state lives here, never in the module. */
#include <config.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "failstrdup.h"

#define FS_MODULE_NAME "pam_flowtotp_test.so"

static const char *fs_armed;
static unsigned fs_failed;

void
fs_arm(const char *s)
{
	fs_armed = s;
	fs_failed = 0;
}

void
fs_disarm(void)
{
	fs_armed = NULL;
}

unsigned
fs_failures(void)
{
	return fs_failed;
}

/* Is the code at `caller` part of the module under test? */
static bool
from_module(const void *caller)
{
	Dl_info info;

	if (dladdr(caller, &info) == 0 || info.dli_fname == NULL)
		return false;
	return strstr(info.dli_fname, FS_MODULE_NAME) != NULL;
}

char *
strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p;

	if (fs_armed != NULL && strcmp(s, fs_armed) == 0 &&
	    from_module(__builtin_return_address(0))) {
		fs_failed++;
		errno = ENOMEM;
		return NULL;
	}
	p = malloc(n);
	if (p != NULL)
		memcpy(p, s, n);
	return p;
}
