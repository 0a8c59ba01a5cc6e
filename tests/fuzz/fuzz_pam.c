/* libFuzzer target: the whole pam_sm_authenticate, with libpam faked at
 * link time (pam_stubs.c), a fuzzed secret file, a scripted conversation
 * and a fuzzed PAM_AUTHTOK.
 *
 * Input:  FLAGS KNOBS SECRETFILE "\n@@\n" ANSWER "\n@@\n" AUTHTOK
 *   FLAGS bit 0 forward_pass  1 try_first_pass  2 use_first_pass  3 nullok
 *         4 debug  5 set PAM_AUTHTOK  6 conversation fails  7 deny=3
 *   KNOBS bits 0-1 window  2-4 time offset in steps (-4..+3)
 *         5 no secret file  6 secret in the home (read "as the user")
 *         7 unknown user
 * The secret file is written to a private temp dir and the gdbm cache is
 * removed before each run, so every input behaves the same every time.
 *
 * Invariants checked: the result is PAM_SUCCESS, PAM_AUTH_ERR or (nullok,
 * no file) PAM_IGNORE; exactly one outcome line, saying success exactly when
 * the result is PAM_SUCCESS; privileges dropped are regained; the answer's
 * digits never appear in a log line; no file descriptor is leaked (ASan/
 * LeakSanitizer check memory). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <security/pam_modules.h>

#include "pam_stubs.h"

#define FUZZ_T0 1700000010
#define FUZZ_PERIOD 30
#define SEP "\n@@\n"
#define SEP_LEN 4U
#define ARGV_MAX 12
#define FD_SCAN_MAX 256
#define CODE_MIN 6U

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[PATH_MAX];
static char home[PATH_MAX];
static char secret_sys[PATH_MAX], secret_home[PATH_MAX];
static char cache_dir[PATH_MAX], cache_file[PATH_MAX];
static char arg_secret_sys[PATH_MAX + 16], arg_secret_home[PATH_MAX + 16];
static char arg_cache[PATH_MAX + 16];
static struct passwd pw;

static void
cleanup(void)
{
	(void)unlink(secret_sys);
	(void)unlink(secret_home);
	(void)unlink(cache_file);
	(void)rmdir(cache_dir);
	(void)rmdir(home);
	(void)rmdir(dir);
}

static void
must(bool ok, const char *what)
{
	if (!ok) {
		perror(what);
		abort();
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	if (tmp == NULL || tmp[0] != '/')
		tmp = "/tmp";
	must(snprintf(dir, sizeof(dir), "%s/ft-fuzz-pam-XXXXXX", tmp) > 0,
	    "snprintf");
	must(mkdtemp(dir) != NULL, "mkdtemp");
	(void)snprintf(home, sizeof(home), "%s/home", dir);
	(void)snprintf(cache_dir, sizeof(cache_dir), "%s/cache", dir);
	(void)snprintf(
	    cache_file, sizeof(cache_file), "%s/state.gdbm", cache_dir);
	(void)snprintf(secret_sys, sizeof(secret_sys), "%s/fuzzuser", dir);
	(void)snprintf(secret_home, sizeof(secret_home), "%s/secret", home);
	(void)snprintf(
	    arg_secret_sys, sizeof(arg_secret_sys), "secret=%s/%%u", dir);
	(void)snprintf(
	    arg_secret_home, sizeof(arg_secret_home), "secret=%%h/secret");
	(void)snprintf(arg_cache, sizeof(arg_cache), "cache=%s", cache_file);
	must(mkdir(home, 0700) == 0, "mkdir home");
	must(mkdir(cache_dir, 0700) == 0, "mkdir cache");
	pw.pw_name = (char *)(uintptr_t) "fuzzuser";
	pw.pw_passwd = (char *)(uintptr_t) "x";
	pw.pw_uid = getuid();
	pw.pw_gid = getgid();
	pw.pw_gecos = (char *)(uintptr_t) "";
	pw.pw_dir = home;
	pw.pw_shell = (char *)(uintptr_t) "/bin/sh";
	must(atexit(cleanup) == 0, "atexit");
	return 0;
}

static int
count_fds(void)
{
	int fd, n = 0;

	for (fd = 0; fd < FD_SCAN_MAX; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return n;
}

static void
write_file(const char *path, const char *buf, size_t len)
{
	int fd;

	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	must(fd >= 0, "open secret");
	must(len == 0 || write(fd, buf, len) == (ssize_t)len, "write secret");
	must(close(fd) == 0, "close secret");
}

/* Split off the next SEP-terminated segment as a NUL-terminated copy. */
static char *
segment(const char **p, const char *end, size_t *len)
{
	const char *s = *p, *q = NULL, *i;
	char *out;
	size_t n;

	for (i = s; i + SEP_LEN <= end; i++)
		if (memcmp(i, SEP, SEP_LEN) == 0) {
			q = i;
			break;
		}
	n = (size_t)((q != NULL ? q : end) - s);
	*p = q != NULL ? q + SEP_LEN : end;
	out = malloc(n + 1U);
	must(out != NULL, "malloc");
	memcpy(out, s, n);
	out[n] = '\0';
	*len = n;
	return out;
}

/* The longest run of digits at the end of s, if it could be a code. */
static void
find_code(const char *s, char *out, size_t outlen)
{
	size_t n = strlen(s), k = 0;

	out[0] = '\0';
	while (k < n && s[n - 1U - k] >= '0' && s[n - 1U - k] <= '9')
		k++;
	if (k >= CODE_MIN && k < outlen)
		memcpy(out, s + n - k, k + 1U);
}

static void
check_line(struct pam_handle *h, const char *line)
{
	if (h->code != NULL && h->code[0] != '\0' &&
	    strstr(line, h->code) != NULL && strstr(dir, h->code) == NULL)
		abort(); /* a code in the log */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char code[64];
	struct pam_handle h;
	const char *argv[ARGV_MAX];
	const char *p, *end;
	char *file, *answer, *authtok;
	char win[16];
	size_t flen, alen, tlen;
	uint8_t flags, knobs;
	int argc = 0, fds, rc;
	bool missing, in_home, nullok;

	if (size < 2)
		return 0;
	flags = data[0];
	knobs = data[1];
	p = (const char *)data + 2;
	end = (const char *)data + size;
	file = segment(&p, end, &flen);
	answer = segment(&p, end, &alen);
	authtok = segment(&p, end, &tlen);

	missing = (knobs & 0x20) != 0;
	in_home = (knobs & 0x40) != 0;
	nullok = (flags & 0x08) != 0;
	(void)unlink(secret_sys);
	(void)unlink(secret_home);
	(void)unlink(cache_file);
	if (!missing)
		write_file(in_home ? secret_home : secret_sys, file, flen);

	argv[argc++] = in_home ? arg_secret_home : arg_secret_sys;
	argv[argc++] = arg_cache;
	(void)snprintf(win, sizeof(win), "window=%u", knobs & 0x03U);
	argv[argc++] = win;
	argv[argc++] = (flags & 0x80) != 0 ? "deny=3" : "deny=0";
	if (flags & 0x01)
		argv[argc++] = "forward_pass";
	if (flags & 0x02)
		argv[argc++] = "try_first_pass";
	if (flags & 0x04)
		argv[argc++] = "use_first_pass";
	if (nullok)
		argv[argc++] = "nullok";
	if (flags & 0x10)
		argv[argc++] = "debug";

	memset(&h, 0, sizeof(h));
	h.service = "fuzz";
	h.user = (knobs & 0x80) != 0 ? "nosuchuser" : "fuzzuser";
	h.rhost = "203.0.113.9";
	h.pw = &pw;
	h.answer = answer;
	h.conv_fails = (flags & 0x40) != 0;
	if ((flags & 0x20) != 0)
		h.authtok = strdup(authtok);
	find_code((flags & 0x20) != 0 ? authtok : answer, code, sizeof(code));
	if (code[0] == '\0' && (flags & 0x20) != 0)
		find_code(answer, code, sizeof(code));
	/* A parse error may name a (malformed) key of the file: only a code
	 * that is not also in the file must stay out of the log. */
	if (memmem(file, flen, code, strlen(code)) != NULL)
		code[0] = '\0';
	h.code = code;
	h.check_line = check_line;
	fuzz_now = (time_t)FUZZ_T0 +
	    ((time_t)((knobs >> 2) & 0x07U) - 4) * FUZZ_PERIOD;

	fds = count_fds();
	rc = pam_sm_authenticate(&h, 0, argc, argv);
	if (count_fds() != fds)
		abort(); /* leaked a descriptor */
	if (rc != PAM_SUCCESS && rc != PAM_AUTH_ERR && rc != PAM_IGNORE)
		abort();
	if (rc == PAM_IGNORE && !(nullok && missing && (knobs & 0x80) == 0))
		abort(); /* PAM_IGNORE only for nullok without a file */
	if (getenv("FLOWTOTP_FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "rc=%d %s\n", rc, h.last);
	if (h.outcomes != 1 || h.dropped)
		abort();
	if ((rc == PAM_SUCCESS) != (strstr(h.last, "result=success") != NULL))
		abort();
	if (rc == PAM_SUCCESS && !missing && flen == 0)
		abort(); /* success with an empty secret file */
	/* Without a (valid) file there is nothing to prompt for except to
	 * hide whether the account exists: unknown users are prompted too.
	 * (forward_pass alone is a configuration error: no prompt.) */
	if ((knobs & 0x80) != 0 && (flags & 0x07) == 0 && !h.conv_fails &&
	    h.prompts != 1)
		abort();

	fuzz_pam_end_data(&h);
	if (h.authtok != NULL) {
		memset(h.authtok, 0, strlen(h.authtok));
		free(h.authtok);
	}
	free(file);
	free(answer);
	free(authtok);
	return 0;
}
