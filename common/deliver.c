/* Delivered codes (deliver.h): generation, the keyed hash, the key file,
 * and running the command under a time limit. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "deliver.h"
#include "random.h"
#include "rc.h"
#include "safefile.h"
#include "wipe.h"

#define DECIMAL 10U
#define ROOT_UID 0
#define NOT_OURS_WRITE 022
#define ANY_EXEC 0111
#define KEY_MODE 0600
#define KEY_FORBIDDEN 077
#define CHILD_FAILED 127 /* what a shell says for "could not run" */
#define FIRST_EXTRA_FD 3
#define FD_LOOP_MAX 65536 /* close_range missing: close by hand */
#define MS_PER_S 1000L
#define NS_PER_MS 1000000L
/* A user name (FT_STATE_USER_MAX), a NUL and a code, with room. */
#define MAC_INPUT_MAX 320U

/* ---- the code and its hash ---- */

int
ft_deliver_code(unsigned digits, char *out, size_t outlen)
{
	uint32_t d;
	unsigned i;

	if (digits < FT_DIGITS_MIN || digits > FT_DIGITS_MAX ||
	    outlen <= digits)
		return FT_ERR_ARG;
	for (i = 0; i < digits; i++) {
		if (ft_random_uniform(DECIMAL, &d) != FT_OK) {
			ft_wipe(out, outlen);
			return FT_ERR_CRYPTO;
		}
		out[i] = (char)('0' + d);
	}
	out[digits] = '\0';
	return FT_OK;
}

int
ft_deliver_mac(const uint8_t key[FT_DELIVER_KEY_BYTES], const char *user,
    const char *code, uint8_t mac[FT_DELIVER_MAC_LEN])
{
	unsigned char msg[MAC_INPUT_MAX];
	size_t ulen = strlen(user), clen = strlen(code);
	unsigned int len = 0;
	bool ok;

	if (ulen + 1U + clen > sizeof(msg))
		return FT_ERR_ARG;
	memcpy(msg, user, ulen);
	msg[ulen] = 0; /* "ab" "1" and "a" "b1" differ */
	memcpy(msg + ulen + 1U, code, clen);
	ok = HMAC(EVP_sha256(), key, (int)FT_DELIVER_KEY_BYTES, msg,
		 ulen + 1U + clen, mac, &len) != NULL &&
	    len == FT_DELIVER_MAC_LEN;
	ft_wipe(msg, sizeof(msg));
	if (!ok)
		ft_wipe(mac, FT_DELIVER_MAC_LEN);
	return ok ? FT_OK : FT_ERR_CRYPTO;
}

/* ---- the key file ---- */

int
ft_deliver_key_load(const char *path, uint8_t key[FT_DELIVER_KEY_BYTES],
    char *err, size_t errlen)
{
	struct ft_file_policy pol = {.owner = ROOT_UID,
	    .allow_root = true,
	    .forbidden_mode = KEY_FORBIDDEN,
	    .max_size = FT_DELIVER_KEY_BYTES};
	char *buf = NULL;
	size_t len = 0;
	int rc;

	rc = ft_safe_read(path, &pol, &buf, &len, err, errlen);
	if (rc != FT_OK)
		return rc;
	if (len == FT_DELIVER_KEY_BYTES)
		memcpy(key, buf, FT_DELIVER_KEY_BYTES);
	else
		rc = ft_seterr(err, errlen, FT_ERR_PARSE,
		    "%s: must hold exactly %u bytes", path,
		    FT_DELIVER_KEY_BYTES);
	ft_wipe_free(buf, len);
	return rc;
}

int
ft_deliver_key_ensure(const char *path, int *created, char *err, size_t errlen)
{
	const struct ft_file_owner own = {
	    .mode = KEY_MODE, .uid = ROOT_UID, .gid = ROOT_UID};
	uint8_t key[FT_DELIVER_KEY_BYTES];
	int rc;

	*created = 0;
	rc = ft_deliver_key_load(path, key, err, errlen);
	if (rc != FT_ERR_NOENT)
		goto out;
	if (ft_random_bytes(key, sizeof(key)) != FT_OK) {
		rc = ft_seterr(err, errlen, FT_ERR_CRYPTO, "RAND_bytes failed");
		goto out;
	}
	rc = ft_atomic_write(path, key, sizeof(key), &own, err, errlen);
	*created = rc == FT_OK;
out:
	ft_wipe(key, sizeof(key));
	return rc;
}

/* ---- the command's path: root's all the way ---- */

static int
check_node(const char *path, const char *what, int fd, bool last, char *err,
    size_t errlen)
{
	struct stat sb;

	if (fstat(fd, &sb) != 0)
		return ft_seterr(err, errlen, FT_ERR_IO, "deliver %s: %s: %s",
		    path, what, strerror(errno));
	/* O_PATH | O_NOFOLLOW opens a final symlink itself. */
	if (S_ISLNK(sb.st_mode))
		return ft_seterr(err, errlen, FT_ERR_UNSAFE,
		    "deliver %s: %s is a symbolic link", path, what);
	if (sb.st_uid != ROOT_UID || (sb.st_mode & NOT_OURS_WRITE) != 0)
		return ft_seterr(err, errlen, FT_ERR_UNSAFE,
		    "deliver %s: %s must be root's and not writable by group "
		    "or others",
		    path, what);
	if (last && (!S_ISREG(sb.st_mode) || (sb.st_mode & ANY_EXEC) == 0))
		return ft_seterr(err, errlen, FT_ERR_UNSAFE,
		    "deliver %s: not an executable regular file", path);
	return FT_OK;
}

/* Open one component below dirfd without following a symlink. */
static int
open_component(int dirfd, const char *name, bool last)
{
	return openat(dirfd, name,
	    O_PATH | O_NOFOLLOW | O_CLOEXEC | (last ? 0 : O_DIRECTORY));
}

int
ft_deliver_command_ok(const char *path, char *err, size_t errlen)
{
	char copy[PATH_MAX];
	char *comp, *next;
	int fd, nfd, rc;

	if (path == NULL || path[0] != '/' || strlen(path) >= sizeof(copy) ||
	    path[strlen(path) - 1U] == '/')
		return ft_seterr(err, errlen, FT_ERR_ARG,
		    "deliver: the absolute path of a file is needed");
	(void)snprintf(copy, sizeof(copy), "%s", path);
	if ((fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return ft_seterr(
		    err, errlen, FT_ERR_IO, "/: %s", strerror(errno));
	rc = check_node(path, "/", fd, false, err, errlen);
	for (comp = copy + 1; rc == FT_OK && comp != NULL; comp = next) {
		next = strchr(comp, '/');
		if (next != NULL)
			*next++ = '\0';
		if (*comp == '\0' || strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			rc = ft_seterr(err, errlen, FT_ERR_UNSAFE,
			    "deliver %s: \"..\" in the path", path);
			break;
		}
		nfd = open_component(fd, comp, next == NULL);
		if (nfd < 0) {
			rc = ft_seterr(err, errlen,
			    errno == ENOENT ? FT_ERR_NOENT : FT_ERR_UNSAFE,
			    "deliver %s: %s: %s", path, comp,
			    errno == ELOOP || errno == ENOTDIR
				? "a symbolic link or not a directory"
				: strerror(errno));
			break;
		}
		(void)close(fd);
		fd = nfd;
		rc = check_node(path, comp, fd, next == NULL, err, errlen);
	}
	(void)close(fd);
	return rc;
}

/* ---- running the command ---- */

/* A pipe already holding the input, its write end closed: the input is
 * written before the fork, while the read end is still ours, so the write
 * can neither block (it fits in the pipe) nor raise SIGPIPE in the host. */
static int
make_stdin(const struct ft_deliver_run *r, int *rfd, char *err, size_t errlen)
{
	int p[2];
	ssize_t n;

	if (r->inputlen > FT_DELIVER_INPUT_MAX)
		return ft_seterr(err, errlen, FT_ERR_ARG, "input too long");
	if (pipe2(p, O_CLOEXEC) != 0)
		return ft_seterr(
		    err, errlen, FT_ERR_IO, "pipe: %s", strerror(errno));
	do
		n = write(p[1], r->input, r->inputlen);
	while (n < 0 && errno == EINTR);
	(void)close(p[1]);
	if (n < 0 || (size_t)n != r->inputlen) {
		(void)close(p[0]);
		return ft_seterr(err, errlen, FT_ERR_IO, "writing the input");
	}
	*rfd = p[0];
	return FT_OK;
}

/* In the child: only async-signal-safe calls until execve. */
static void
child_signals(void)
{
	struct sigaction dfl;
	sigset_t none;
	int sig;

	/* What the host ignores or blocks (sshd, sudo) is not the
	 * command's business. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)sigaction(sig, &dfl, NULL);
	(void)sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

static void
child_fds(int in, int null)
{
	int fd;

	if (dup2(in, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
	    dup2(null, STDERR_FILENO) < 0)
		_exit(CHILD_FAILED);
	if (syscall(SYS_close_range, (unsigned)FIRST_EXTRA_FD, ~0U, 0U) != 0)
		for (fd = FIRST_EXTRA_FD; fd < FD_LOOP_MAX; fd++)
			(void)close(fd);
}

static void __attribute__((noreturn))
child(const struct ft_deliver_run *r, int in, int null)
{
	static char *const envp[] = {NULL};
	char *argv[2];

	argv[0] = (char *)(uintptr_t)r->path;
	argv[1] = NULL;
	child_signals();
	/* A group of its own: a time-out kills what it started too. */
	(void)setpgid(0, 0);
	child_fds(in, null);
	if (setgroups(0, NULL) != 0 || setgid(r->gid) != 0 ||
	    setuid(r->uid) != 0 || getuid() != r->uid || geteuid() != r->uid)
		_exit(CHILD_FAILED);
	/* Root must be gone for good. */
	if (r->uid != ROOT_UID && setuid(ROOT_UID) == 0)
		_exit(CHILD_FAILED);
	if (chdir("/") != 0)
		_exit(CHILD_FAILED);
	(void)execve(r->path, argv, envp);
	_exit(CHILD_FAILED);
}

static long
ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long ms;

	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
		return 0;
	ms = (long)(deadline->tv_sec - now.tv_sec) * MS_PER_S +
	    (deadline->tv_nsec - now.tv_nsec) / NS_PER_MS;
	return ms > 0 ? ms : 0;
}

/* Wait for the pidfd to say the child ended, at most timeout_s; kill it
 * when time is up.  true if it ended by itself. */
static bool
wait_exit(int pidfd, unsigned timeout_s)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	struct timespec deadline;
	int n;

	if (clock_gettime(CLOCK_MONOTONIC, &deadline) != 0)
		deadline.tv_sec = 0;
	deadline.tv_sec += (time_t)timeout_s;
	do
		n = poll(&p, 1, (int)ms_left(&deadline));
	while (n < 0 && errno == EINTR);
	if (n > 0)
		return true;
	(void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0U);
	return false;
}

/* After a time-out: the rest of the command's process group (a mail
 * program it started).  The command is not reaped yet, so its pid is
 * still its group's id and cannot name anyone else's group. */
static void
kill_group(pid_t pid)
{
	(void)kill(-pid, SIGKILL);
}

/* Reap our child (this pid only) and say how it ended. */
static int
reap(pid_t pid, bool ended, unsigned timeout_s, char *err, size_t errlen)
{
	int status = 0;
	pid_t w;

	do
		w = waitpid(pid, &status, 0);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return ft_seterr(err, errlen, FT_ERR_IO,
		    "the command's status is lost (%s: the host process "
		    "reaped it)",
		    strerror(errno));
	if (!ended)
		return ft_seterr(err, errlen, FT_ERR_IO,
		    "the command took longer than %u s; killed", timeout_s);
	if (WIFSIGNALED(status))
		return ft_seterr(err, errlen, FT_ERR_IO,
		    "the command was killed by signal %d", WTERMSIG(status));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return ft_seterr(err, errlen, FT_ERR_IO,
		    "the command exited with status %d",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return FT_OK;
}

int
ft_deliver_spawn(const struct ft_deliver_run *r, char *err, size_t errlen)
{
	int in = -1, null, pidfd, rc;
	pid_t pid;
	bool ended;

	if ((rc = make_stdin(r, &in, err, errlen)) != FT_OK)
		return rc;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0) {
		(void)close(in);
		return ft_seterr(
		    err, errlen, FT_ERR_IO, "/dev/null: %s", strerror(errno));
	}
	pid = fork();
	if (pid == 0)
		child(r, in, null);
	if (pid > 0)
		(void)setpgid(pid, pid); /* also here: no race with the child */
	(void)close(in);
	(void)close(null);
	if (pid < 0)
		return ft_seterr(
		    err, errlen, FT_ERR_IO, "fork: %s", strerror(errno));
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0U);
	if (pidfd < 0) {
		/* Not reaped yet, so the pid is still our child's. */
		(void)kill(pid, SIGKILL);
		(void)reap(pid, true, r->timeout_s, err, errlen);
		return ft_seterr(err, errlen, FT_ERR_IO,
		    "pidfd_open: %s (Linux 5.3 or later is needed)",
		    strerror(errno));
	}
	ended = wait_exit(pidfd, r->timeout_s);
	if (!ended)
		kill_group(pid);
	rc = reap(pid, ended, r->timeout_s, err, errlen);
	(void)close(pidfd);
	return rc;
}
