/* ft_secret_use_backup: a code works once, the count drops, a wrong code
 * changes nothing, owner and mode are kept, and of 10 processes racing with
 * the same code exactly one wins.  ft_secret_edit, the locked edit under it
 * (and under totp-enroll backup-codes): only FT_SECRET_WRITE rewrites, an
 * error or a stray return value from the callback leaves the file alone. */
#include <config.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <string.h>
#include <unistd.h>

#include "backup.h"
#include "rc.h"
#include "secretfile.h"
#include "secretstore.h"
#include "util.h"
#include "wipe.h"

#define NCODES 5U
#define RACERS 10
#define NOBODY 65534

static char codes[NCODES][FT_BACKUP_SHOWN_BUFSZ];

static void
make_file(const char *path, mode_t mode)
{
	struct ft_secret s;
	char norm[FT_BACKUP_NORM_BUFSZ], err[256];
	size_t i;

	memset(&s, 0, sizeof(s));
	memset(s.key, 0x42, 20);
	s.keylen = 20;
	s.algo = FT_ALGO_SHA1;
	s.digits = 6;
	s.period = 30;
	s.created = 1700000000;
	for (i = 0; i < NCODES; i++) {
		if (ft_backup_generate(codes[i], sizeof(codes[i])) != FT_OK ||
		    ft_backup_normalize(codes[i], norm, sizeof(norm)) !=
			FT_OK ||
		    ft_backup_hash(norm, FT_BACKUP_ITERATIONS_MIN, s.backup[i],
			sizeof(s.backup[i])) != FT_OK)
			bail_out("backup code generation");
	}
	s.nbackup = NCODES;
	if (ft_secret_store(path, &s, (uid_t)-1, (gid_t)-1, err, sizeof(err)) !=
		FT_OK ||
	    chmod(path, mode) != 0)
		bail_out("store: %s", err);
	ft_secret_wipe(&s);
}

static char *
slurp(const char *path, struct stat *st)
{
	static char buf[FT_SECRETFILE_MAX_SIZE + 1];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL || fstat(fileno(f), st) != 0)
		bail_out("slurp %s", path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	(void)fclose(f);
	return buf;
}

static void
test_once(void)
{
	const char *path = tpath("u1");
	struct ft_file_policy pol;
	struct ft_secret s;
	struct stat st, st2;
	char err[256] = "", before[FT_SECRETFILE_MAX_SIZE + 1];
	size_t left = 99;
	int rc;

	make_file(path, 0400);
	ft_secret_policy(geteuid(), &pol);
	rc =
	    ft_secret_use_backup(path, &pol, codes[2], &left, err, sizeof(err));
	ok(rc == 1 && left == NCODES - 1, "code 3 used: rc %d, %zu left (%s)",
	    rc, left, err);
	ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0400 &&
		st.st_uid == geteuid(),
	    "mode 0400 kept");
	ok(ft_secret_load(path, &pol, &s, err, sizeof(err)) == FT_OK &&
		s.nbackup == NCODES - 1 && s.keylen == 20 && s.key[0] == 0x42,
	    "file holds one code less, the rest intact");
	rc =
	    ft_secret_use_backup(path, &pol, codes[2], &left, err, sizeof(err));
	ok(rc == 0 && left == NCODES - 1, "same code again: rejected");

	snprintf(before, sizeof(before), "%s", slurp(path, &st));
	rc = ft_secret_use_backup(
	    path, &pol, "2345-6789-abcd", &left, err, sizeof(err));
	ok(rc == 0 && left == NCODES - 1, "wrong code: rejected");
	rc =
	    ft_secret_use_backup(path, &pol, "123456", &left, err, sizeof(err));
	is_int(rc, 0, "a TOTP-looking input: rejected");
	ok(strcmp(slurp(path, &st2), before) == 0 && st.st_ino == st2.st_ino &&
		st.st_mtime == st2.st_mtime,
	    "wrong codes change nothing");

	/* Upper case with spaces is the same code. */
	{
		char shout[FT_BACKUP_SHOWN_BUFSZ + 8];
		size_t i, j = 0;

		for (i = 0; codes[0][i] != '\0'; i++) {
			shout[j++] = codes[0][i] == '-'
			    ? ' '
			    : (char)(codes[0][i] >= 'a' && codes[0][i] <= 'z'
				      ? codes[0][i] - 'a' + 'A'
				      : codes[0][i]);
		}
		shout[j] = '\0';
		rc = ft_secret_use_backup(
		    path, &pol, shout, &left, err, sizeof(err));
		ok(rc == 1 && left == NCODES - 2,
		    "code typed upper case "
		    "with spaces works");
	}

	rc = ft_secret_use_backup(
	    tpath("none"), &pol, codes[1], &left, err, sizeof(err));
	is_int(rc, FT_ERR_NOENT, "missing file: NOENT");
	ok(chmod(path, 0644) == 0, "chmod 0644");
	snprintf(before, sizeof(before), "%s", slurp(path, &st));
	rc =
	    ft_secret_use_backup(path, &pol, codes[1], &left, err, sizeof(err));
	ok(rc == FT_ERR_UNSAFE && strcmp(slurp(path, &st2), before) == 0,
	    "unsafe mode: refused, file unchanged (%s)", err);
	ft_secret_wipe(&s);
}

static void
test_owner_kept(void)
{
	const char *path = tpath("u2");
	struct ft_file_policy pol;
	struct stat st;
	char err[256] = "";
	size_t left = 0;
	int rc;

	if (geteuid() != 0) {
		ok(1, "# SKIP owner change needs root");
		return;
	}
	make_file(path, 0600);
	ok(chown(path, NOBODY, NOBODY) == 0, "chown nobody");
	ft_secret_policy(NOBODY, &pol);
	rc =
	    ft_secret_use_backup(path, &pol, codes[4], &left, err, sizeof(err));
	ok(rc == 1 && stat(path, &st) == 0 && st.st_uid == NOBODY &&
		st.st_gid == NOBODY && (st.st_mode & 07777) == 0600,
	    "root rewrite keeps owner nobody and mode (%s)", err);
}

static void
test_race(void)
{
	const char *path = tpath("u3");
	struct ft_file_policy pol;
	struct ft_secret s;
	pid_t pids[RACERS];
	int go[2], i, status, wins = 0, losses = 0, errors = 0;
	char err[256] = "", c = 'g';

	make_file(path, 0600);
	ft_secret_policy(geteuid(), &pol);
	if (pipe(go) != 0)
		bail_out("pipe");
	fflush(stdout);
	for (i = 0; i < RACERS; i++) {
		pids[i] = fork();
		if (pids[i] == -1)
			bail_out("fork");
		if (pids[i] == 0) {
			size_t left;
			int rc;

			(void)close(go[1]);
			/* Wait until all are forked: EOF on the pipe. */
			while (read(go[0], &c, 1) == 1)
				;
			rc = ft_secret_use_backup(
			    path, &pol, codes[3], &left, err, sizeof(err));
			_exit(rc == 1 ? 1 : rc == 0 ? 0 : 2);
		}
	}
	(void)close(go[0]);
	(void)close(go[1]);
	for (i = 0; i < RACERS; i++) {
		if (waitpid(pids[i], &status, 0) != pids[i] ||
		    !WIFEXITED(status))
			errors++;
		else if (WEXITSTATUS(status) == 1)
			wins++;
		else if (WEXITSTATUS(status) == 0)
			losses++;
		else
			errors++;
	}
	is_int(
	    wins, 1, "%d processes, one backup code: exactly one wins", RACERS);
	is_int(losses, RACERS - 1, "the others are told no");
	is_int(errors, 0, "no errors (lock waits stayed in bound)");
	ok(ft_secret_load(path, &pol, &s, err, sizeof(err)) == FT_OK &&
		s.nbackup == NCODES - 1,
	    "file has one code less afterwards");
	ft_secret_wipe(&s);
}

/* Edit callbacks: each returns what its arg says, after touching s. */
static int
edit_created(struct ft_secret *s, void *arg, char *err, size_t errlen)
{
	const int *ret = arg;

	s->created++;
	if (*ret < 0)
		return ft_seterr(err, errlen, *ret, "edit refused");
	return *ret;
}

static int
edit_rc(const char *path, int ret, char *err, size_t errlen)
{
	struct ft_file_policy pol;

	ft_secret_policy(geteuid(), &pol);
	err[0] = '\0';
	return ft_secret_edit(path, &pol, edit_created, &ret, err, errlen);
}

static void
test_edit(void)
{
	const char *path = tpath("u4");
	struct ft_file_policy pol;
	struct ft_secret s;
	struct stat st, st2;
	char err[256] = "", before[FT_SECRETFILE_MAX_SIZE + 1];
	int rc;

	make_file(path, 0400);
	ft_secret_policy(geteuid(), &pol);
	snprintf(before, sizeof(before), "%s", slurp(path, &st));
	rc = edit_rc(path, FT_SECRET_KEEP, err, sizeof(err));
	is_int(rc, FT_SECRET_KEEP, "edit: KEEP is passed on");
	rc = edit_rc(path, FT_ERR_CRYPTO, err, sizeof(err));
	ok(rc == FT_ERR_CRYPTO && strstr(err, "edit refused") != NULL,
	    "edit: the callback's error and message are passed on (%s)", err);
	rc = edit_rc(path, 7, err, sizeof(err));
	is_int(rc, FT_ERR_ARG, "edit: a stray return value is an error");
	ok(strcmp(slurp(path, &st2), before) == 0 && st.st_ino == st2.st_ino,
	    "edit: none of these touched the file");
	rc = ft_secret_edit(path, &pol, NULL, NULL, err, sizeof(err));
	is_int(rc, FT_ERR_ARG, "edit: no callback is an error");
	rc = edit_rc(path, FT_SECRET_WRITE, err, sizeof(err));
	is_int(rc, FT_SECRET_WRITE, "edit: WRITE rewrites (%s)", err);
	ok(stat(path, &st2) == 0 && st.st_ino != st2.st_ino &&
		(st2.st_mode & 07777) == 0400 && st2.st_uid == st.st_uid,
	    "edit: a new file, owner and mode 0400 kept");
	ok(ft_secret_load(path, &pol, &s, err, sizeof(err)) == FT_OK &&
		s.created == 1700000001 && s.nbackup == NCODES,
	    "edit: the change is in the file, the rest intact");
	rc = edit_rc(tpath("none"), FT_SECRET_WRITE, err, sizeof(err));
	is_int(rc, FT_ERR_NOENT, "edit: missing file: NOENT");
	ft_secret_wipe(&s);
}

int
main(void)
{
	tdir_make();
	test_once();
	test_owner_kept();
	test_race();
	test_edit();
	return done_testing();
}
