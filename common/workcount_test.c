/* Test-only work counter, linked into pam_flowtotp_test.so, never into an
 * installed binary: with FLOWTOTP_TEST_WORKLOG=PATH set, each operation
 * appends one line ("kdf", "hmac", "state", "keyfile" or "aead") to PATH.  The
 * file keeps the count, so the module keeps no state of its own. */
#include <config.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workcount.h"

static const char *
kind_line(enum ft_work_kind kind)
{
	switch (kind) {
	case FT_WORK_KDF: return "kdf\n";
	case FT_WORK_HMAC: return "hmac\n";
	case FT_WORK_STATE: return "state\n";
	case FT_WORK_KEYFILE: return "keyfile\n";
	case FT_WORK_AEAD: return "aead\n";
	}
	return "unknown\n";
}

void
ft_work_note(enum ft_work_kind kind)
{
	const char *path = getenv("FLOWTOTP_TEST_WORKLOG");
	const char *line = kind_line(kind);
	int fd;

	if (path == NULL || path[0] == '\0')
		return;
	fd = open(
	    path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	/* A short write only spoils the test's count, which then fails. */
	(void)!write(fd, line, strlen(line));
	(void)close(fd);
}
