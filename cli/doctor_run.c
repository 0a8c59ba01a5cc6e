/* totp-enroll doctor: run a system tool (sshd -T, timedatectl, chronyc)
 * without a shell and keep what it prints; the context the store checks
 * walk the store with. */
#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "doctor.h"
#include "rc.h"

/* What the child exits with when exec fails because the tool is absent:
 * the shell's convention for "command not found". */
#define EXIT_NOTFOUND 127

static void
child(const char *const *argv, int wfd)
{
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (nul < 0 || dup2(nul, STDIN_FILENO) < 0 ||
	    dup2(nul, STDERR_FILENO) < 0 || dup2(wfd, STDOUT_FILENO) < 0)
		_exit(EXIT_FAILURE);
	/* execv takes char *const[]; the strings are not changed. */
	(void)execv(argv[0], (char *const *)(uintptr_t)argv);
	_exit(errno == ENOENT ? EXIT_NOTFOUND : EXIT_FAILURE);
}

/* Read until end of file; what does not fit is read and dropped so the
 * child never blocks on a full pipe. */
static void
drain(int fd, char *out, size_t outlen)
{
	char sink[BUFSIZ];
	size_t pos = 0;
	ssize_t n;

	for (;;) {
		if (pos + 1U < outlen)
			n = read(fd, out + pos, outlen - 1U - pos);
		else
			n = read(fd, sink, sizeof(sink));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (pos + 1U < outlen)
			pos += (size_t)n;
	}
	out[pos] = '\0';
}

int
doc_run(const char *const *argv, char *out, size_t outlen)
{
	int fds[2], status = 0, rc = FT_ERR_IO;
	pid_t pid;

	out[0] = '\0';
	if (access(argv[0], X_OK) != 0)
		return FT_ERR_NOENT;
	if (pipe2(fds, O_CLOEXEC) != 0)
		return FT_ERR_IO;
	pid = fork();
	if (pid == 0)
		child(argv, fds[1]);
	(void)close(fds[1]);
	if (pid > 0) {
		drain(fds[0], out, outlen);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			rc = FT_OK;
		else if (WIFEXITED(status) &&
		    WEXITSTATUS(status) == EXIT_NOTFOUND)
			rc = FT_ERR_NOENT;
	}
	(void)close(fds[0]);
	return rc;
}

static bool
blank(char c)
{
	return c == ' ' || c == '\t';
}

bool
doc_value(const char *text, const char *key, char sep, char *val, size_t vallen)
{
	size_t klen = strlen(key), n;
	const char *p = text, *v, *end;

	for (; *p != '\0'; p = *end != '\0' ? end + 1 : end) {
		end = strchr(p, '\n');
		if (end == NULL)
			end = p + strlen(p);
		while (blank(*p))
			p++;
		if (strncasecmp(p, key, klen) != 0)
			continue;
		/* "key value" (sshd -T), "key=value", "key   : value". */
		for (v = p + klen; v < end && blank(*v) && sep != ' '; v++)
			;
		if (v >= end || (sep == ' ' ? !blank(*v) : *v != sep))
			continue;
		for (v++; v < end && blank(*v); v++)
			;
		for (n = (size_t)(end - v); n > 0 && blank(v[n - 1]); n--)
			;
		if (n >= vallen)
			n = vallen - 1U;
		memcpy(val, v, n);
		val[n] = '\0';
		return true;
	}
	return false;
}

struct cli_ctx *
doc_ctx_for(const struct cli_ctx *ctx, const struct ft_config *cfg)
{
	struct cli_ctx *c = malloc(sizeof(*c));

	if (c == NULL)
		return NULL;
	*c = *ctx;
	c->cfg = *cfg;
	return c;
}
