/* The sealed store key: systemd-creds encrypt/decrypt of the key file's
 * text, run by absolute path with a clean environment, the text on a pipe
 * both ways (it never touches a disk in the clear).  systemd-creds picks
 * the TPM2 and/or the host key (/var/lib/systemd/credential.secret). */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "keyseal.h"
#include "rc.h"
#include "safefile.h"
#include "wipe.h"

#define CREDS_PATH "/usr/bin/systemd-creds"
#define CREDS_OUT_MAX (64U * 1024U)
#define CRED_MODE 0600
#define CHILD_EXEC_FAILED 127
#define ETC_DIR_MODE 0755 /* /etc/flowtotp */
#define RUN_DIR_MODE 0700 /* /run/flowtotp */

bool
cli_creds_available(void)
{
	return access(CREDS_PATH, X_OK) == 0;
}

struct creds_io {
	const char *in;
	size_t inlen;
	char *out; /* malloc'd, CREDS_OUT_MAX */
	size_t outlen;
};

static void
creds_child(const char *const *argv, int in, int out)
{
	static const char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	    "LC_ALL=C", "SYSTEMD_LOG_LEVEL=err", NULL};

	if (dup2(in, STDIN_FILENO) == -1 || dup2(out, STDOUT_FILENO) == -1)
		_exit(CHILD_EXEC_FAILED);
	/* execve's prototype predates const; it does not write them. */
	(void)execve(CREDS_PATH, (char *const *)(uintptr_t)argv,
	    (char *const *)(uintptr_t)envp);
	_exit(CHILD_EXEC_FAILED);
}

/* Feed io->in, collect stdout; the child's status must be 0. */
static int
creds_parent(pid_t pid, int in, int out, struct creds_io *io)
{
	size_t off = 0;
	ssize_t n;
	int status = 0, rc = FT_OK;

	while (off < io->inlen) {
		n = write(in, io->in + off, io->inlen - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = FT_ERR_IO;
			break;
		}
		off += (size_t)n;
	}
	(void)close(in);
	while (rc == FT_OK && io->outlen < CREDS_OUT_MAX) {
		n = read(out, io->out + io->outlen, CREDS_OUT_MAX - io->outlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = FT_ERR_IO;
		if (n <= 0)
			break;
		io->outlen += (size_t)n;
	}
	(void)close(out);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (rc == FT_OK && io->outlen >= CREDS_OUT_MAX)
		rc = FT_ERR_TOOBIG;
	if (rc == FT_OK && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		rc = FT_ERR_CRYPTO;
	return rc;
}

static int
run_creds(const char *const *argv, struct creds_io *io)
{
	int pin[2] = {-1, -1}, pout[2] = {-1, -1};
	pid_t pid;

	io->outlen = 0;
	if ((io->out = malloc(CREDS_OUT_MAX)) == NULL)
		return FT_ERR_NOMEM;
	if (pipe2(pin, O_CLOEXEC) == -1 || pipe2(pout, O_CLOEXEC) == -1 ||
	    (pid = fork()) == -1) {
		if (pin[0] != -1) {
			(void)close(pin[0]);
			(void)close(pin[1]);
		}
		if (pout[0] != -1) {
			(void)close(pout[0]);
			(void)close(pout[1]);
		}
		return FT_ERR_IO;
	}
	if (pid == 0)
		creds_child(argv, pin[0], pout[1]);
	(void)close(pin[0]);
	(void)close(pout[1]);
	return creds_parent(pid, pin[1], pout[0], io);
}

/* run_creds with SIGPIPE ignored: a child that dies before reading its
 * input makes the write fail (EPIPE) instead of killing totp-enroll. */
static int
run_creds_nopipe(const char *const *argv, struct creds_io *io)
{
	struct sigaction ign, old;
	int rc;

	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	(void)sigemptyset(&ign.sa_mask);
	if (sigaction(SIGPIPE, &ign, &old) != 0)
		return FT_ERR_IO;
	rc = run_creds(argv, io);
	(void)sigaction(SIGPIPE, &old, NULL);
	return rc;
}

int
cli_creds_seal(
    const char *cred, const struct ft_keyring *kr, char *err, size_t errlen)
{
	static const char *const argv[] = {"systemd-creds", "encrypt",
	    "--name=" FT_STOREKEY_CRED_NAME, "-", "-", NULL};
	struct ft_file_owner own = {CRED_MODE, 0, 0};
	struct creds_io io = {NULL, 0, NULL, 0};
	char *text = NULL;
	int rc;

	if ((rc = ft_keyring_serialize(kr, &text, &io.inlen)) != FT_OK)
		return ft_seterr(err, errlen, rc, "cannot serialize the key");
	io.in = text;
	rc = run_creds_nopipe(argv, &io);
	if (rc == FT_OK)
		rc =
		    ft_atomic_write(cred, io.out, io.outlen, &own, err, errlen);
	else
		(void)ft_seterr(err, errlen, rc,
		    "systemd-creds encrypt failed (%s)", ft_rc_str(rc));
	ft_wipe_free(text, io.inlen);
	ft_wipe_free(io.out, CREDS_OUT_MAX);
	return rc;
}

int
cli_creds_unseal(
    const char *cred, struct ft_keyring *kr, char *err, size_t errlen)
{
	const char *const argv[] = {"systemd-creds", "decrypt",
	    "--name=" FT_STOREKEY_CRED_NAME, cred, "-", NULL};
	struct creds_io io = {"", 0, NULL, 0};
	char msg[CLI_ERRLEN];
	int rc = run_creds_nopipe(argv, &io);

	if (rc == FT_OK)
		rc = ft_keyring_parse(io.out, io.outlen, kr, msg, sizeof(msg));
	else
		(void)snprintf(
		    msg, sizeof(msg), "systemd-creds decrypt failed");
	ft_wipe_free(io.out, CREDS_OUT_MAX);
	if (rc != FT_OK)
		return ft_seterr(err, errlen, rc, "%s: %s", cred, msg);
	(void)snprintf(kr->path, sizeof(kr->path), "%s", cred);
	return FT_OK;
}

static bool
exists(const char *path)
{
	struct stat sb;

	return path[0] != '\0' && lstat(path, &sb) == 0;
}

/* Create the directory of path, root's with mode, if it is missing. */
static int
ensure_parent(const char *path, mode_t mode, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	char *slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir) ||
	    (slash = strrchr(dir, '/')) == NULL)
		return ft_seterr(err, errlen, FT_ERR_ARG, "%s: bad path", path);
	*slash = '\0';
	if (dir[0] == '\0' || exists(dir))
		return FT_OK;
	return ft_ensure_dir(dir, mode, 0, 0, err, errlen);
}

int
cli_keyring_load(const struct ft_config *c, struct ft_keyring *kr, bool *sealed,
    char *err, size_t errlen)
{
	int rc = ft_keyring_load(
	    c->store_key, c->store_key_fallback, kr, err, errlen);

	*sealed = rc == FT_OK && strcmp(kr->path, c->store_key) == 0 &&
	    exists(c->store_key_cred);
	return rc;
}

int
cli_keyring_save(const struct ft_config *c, const struct ft_keyring *kr,
    bool sealed, char *err, size_t errlen)
{
	const char *file = sealed ? c->store_key : kr->path;
	int rc;

	/* The sealed copy first: what the next boot unseals is never older
	 * than what logins already read. */
	if (sealed &&
	    ((rc = ensure_parent(
		  c->store_key_cred, ETC_DIR_MODE, err, errlen)) != FT_OK ||
		(rc = cli_creds_seal(c->store_key_cred, kr, err, errlen)) !=
		    FT_OK))
		return rc;
	if ((rc = ensure_parent(file, sealed ? RUN_DIR_MODE : ETC_DIR_MODE, err,
		 errlen)) != FT_OK)
		return rc;
	return ft_keyring_write(file, kr, err, errlen);
}

bool
cli_key_exists(const struct ft_config *c)
{
	return exists(c->store_key) || exists(c->store_key_fallback) ||
	    exists(c->store_key_cred);
}

int
cli_keyring_unseal(
    const struct ft_config *c, struct ft_keyring *kr, char *err, size_t errlen)
{
	int rc;

	if (!exists(c->store_key_cred))
		return ft_seterr(err, errlen, FT_ERR_NOENT, "%s does not exist",
		    c->store_key_cred);
	if ((rc = cli_creds_unseal(c->store_key_cred, kr, err, errlen)) !=
		FT_OK ||
	    (rc = ensure_parent(c->store_key, RUN_DIR_MODE, err, errlen)) !=
		FT_OK ||
	    (rc = ft_keyring_write(c->store_key, kr, err, errlen)) != FT_OK) {
		ft_keyring_wipe(kr);
		return rc;
	}
	(void)snprintf(kr->path, sizeof(kr->path), "%s", c->store_key);
	return FT_OK;
}
