/* Safe file access: every refusal (symlinks anywhere, owner, mode, type,
 * size, FIFO without blocking), atomic writes (mode, owner, no temp files
 * left), locking, unlink and ensure_dir.  Root runs add real chown cases. */
#include <config.h>

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "rc.h"
#include "safefile.h"
#include "util.h"
#include "wipe.h"

#define NOBODY 65534
#define MAXSZ 1024U
#define FIFO_ALARM_S 5

/* ft_safe_read_locked with its results in separate variables. */
static int
read_locked(const char *path, const struct ft_file_policy *pol, char **buf,
    size_t *len, int *fd, char *err, size_t errlen)
{
	struct ft_locked_file f = {{NULL, 0}, -1};
	int rc;

	rc = ft_safe_read_locked(path, pol, &f, err, errlen);
	*buf = f.data.buf;
	*len = f.data.len;
	*fd = f.fd;
	return rc;
}

static struct ft_file_policy pol;

static int
rd(const char *path, char *err, size_t errlen, char **out)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	err[0] = '\0';
	rc = ft_safe_read(path, &pol, &buf, &len, err, errlen);
	if (out != NULL && rc == FT_OK)
		*out = buf;
	else
		ft_wipe_free(buf, len);
	return rc;
}

static void
expect(const char *path, int want, const char *frag, const char *what)
{
	char err[512] = "";
	int rc = rd(path, err, sizeof(err), NULL);

	ok(rc == want && (frag == NULL || contains(err, frag)),
	    "%s: rc %d, \"%s\"", what, rc, err);
}

static void
test_reads(void)
{
	char err[512] = "", *buf = NULL, big[MAXSZ + 100];

	write_str(tpath("ok"), "hello\n", 0600);
	ok(rd(tpath("ok"), err, sizeof(err), &buf) == FT_OK && buf != NULL &&
		strcmp(buf, "hello\n") == 0,
	    "plain file read (%s)", err);
	free(buf);
	buf = NULL;
	write_str(tpath("empty"), "", 0600);
	ok(rd(tpath("empty"), err, sizeof(err), &buf) == FT_OK && buf != NULL &&
		buf[0] == '\0',
	    "empty file read");
	free(buf);

	ok(symlink(tpath("ok"), tpath("link")) == 0, "make symlink");
	expect(tpath("link"), FT_ERR_UNSAFE, "is a symlink", "final symlink");

	ok(mkdir(tpath("real"), 0755) == 0 &&
		symlink(tpath("real"), tpath("dirlink")) == 0,
	    "make dir link");
	write_str(tpath("real/f"), "x", 0600);
	expect(tpath("real/f"), FT_OK, NULL, "file in a real dir");
	expect(tpath("dirlink/f"), FT_ERR_UNSAFE, "symlink or not a directory",
	    "symlinked directory on the path");
	ok(symlink("..", tpath("real/up")) == 0, "make .. link");
	expect(tpath("real/up/ok"), FT_ERR_UNSAFE, "symlink", "link to ..");
	expect(tpath("real/../ok"), FT_ERR_UNSAFE, "\"..\"", "dot-dot");
	expect(tpath("real/./../ok"), FT_ERR_UNSAFE, "\"..\"", "dot-dot later");
	ok(mkdir(tpath("a..b"), 0755) == 0 &&
		mkdir(tpath("a..b/.."
			    "c"),
		    0755) == 0,
	    "make dirs named a..b and ..c");
	write_str(tpath("a..b/..c/f"), "x", 0600);
	expect(tpath("a..b/..c/f"), FT_OK, NULL,
	    "names with two dots are no "
	    "\"..\"");
	ok(symlink(tpath("real"), tpath("a..b/..c/in")) == 0,
	    "make a dir link deeper down");
	expect(tpath("a..b/..c/in/f"), FT_ERR_UNSAFE,
	    "component \"in\" is a symlink", "deep symlinked directory, named");
	expect(tpath("ok/f"), FT_ERR_UNSAFE, "not a directory",
	    "file used as a directory");

	write_str(tpath("g"), "x", 0640);
	expect(tpath("g"), FT_ERR_UNSAFE, "mode 0640 allows group/other access",
	    "group-readable");
	write_str(tpath("o"), "x", 0604);
	expect(tpath("o"), FT_ERR_UNSAFE, "mode 0604 allows group/other access",
	    "world-readable");
	write_str(tpath("ox"), "x", 0601);
	expect(tpath("ox"), FT_ERR_UNSAFE, "mode 0601", "world-executable");

	ok(mkfifo(tpath("fifo"), 0600) == 0, "mkfifo");
	alarm(FIFO_ALARM_S); /* a blocking open would kill the test */
	expect(tpath("fifo"), FT_ERR_UNSAFE, "not a regular file",
	    "FIFO refused without blocking");
	alarm(0);
	expect(tdir, FT_ERR_UNSAFE, "not a regular file", "directory");
	ok(mkdir(tpath("d"), 0700) == 0, "mkdir d");
	expect(tpath("d"), FT_ERR_UNSAFE, "not a regular file", "directory 2");

	memset(big, 'a', sizeof(big));
	write_file(tpath("big"), big, MAXSZ + 1U, 0600);
	expect(
	    tpath("big"), FT_ERR_TOOBIG, "larger than 1024 bytes", "oversized");
	write_file(tpath("max"), big, MAXSZ, 0600);
	expect(tpath("max"), FT_OK, NULL, "exactly max size");

	expect(tpath("missing"), FT_ERR_NOENT, NULL, "missing file");
	expect(tpath("nodir/f"), FT_ERR_NOENT, NULL, "missing directory");
	/* A missing name takes a short cut (no walk); a link to nowhere is
	 * still a link, not a missing file. */
	ok(symlink(tpath("nowhere"), tpath("dangling")) == 0,
	    "make a dangling link");
	expect(tpath("dangling"), FT_ERR_UNSAFE, "symlink",
	    "dangling final link: unsafe, not missing");
	expect(tpath("dangling/f"), FT_ERR_UNSAFE, "symlink",
	    "dangling link on the path: unsafe, not missing");
	expect("relative/path", FT_ERR_ARG, "absolute", "relative path");
}

static void
test_owner(void)
{
	struct ft_file_policy saved = pol;

	write_str(tpath("own"), "x", 0600);
	if (geteuid() == 0) {
		ok(chown(tpath("own"), NOBODY, NOBODY) == 0, "chown nobody");
		pol.owner = 0;
		pol.allow_root = false;
		expect(tpath("own"), FT_ERR_UNSAFE,
		    "owned by uid 65534, expected 0", "wrong owner (root run)");
		pol.owner = 1000;
		pol.allow_root = true;
		expect(tpath("own"), FT_ERR_UNSAFE,
		    "owned by uid 65534, expected 1000 or root",
		    "wrong owner, root allowed");
		pol.owner = NOBODY;
		expect(tpath("own"), FT_OK, NULL, "right owner");
		ok(chown(tpath("own"), 0, 0) == 0, "chown root");
		pol.owner = NOBODY;
		pol.allow_root = true;
		expect(tpath("own"), FT_OK, NULL, "root allowed");
		pol.allow_root = false;
		expect(tpath("own"), FT_ERR_UNSAFE, "owned by uid 0",
		    "root not allowed");
	} else {
		pol.owner = geteuid() + 1U;
		pol.allow_root = true;
		expect(tpath("own"), FT_ERR_UNSAFE, "expected",
		    "wrong owner "
		    "(policy expects another uid)");
		pol.allow_root = false;
		expect(tpath("own"), FT_ERR_UNSAFE, "owned by uid",
		    "wrong owner, root not allowed");
	}
	pol = saved;
}

/* Names in tdir/sub other than the expected ones (temp files left over). */
static int
stray_files(const char *sub, const char *keep)
{
	DIR *d = opendir(tpath(sub));
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0 ||
		    strstr(keep, e->d_name) != NULL)
			continue;
		diag("stray file %s", e->d_name);
		n++;
	}
	(void)closedir(d);
	return n;
}

static void
test_atomic(void)
{
	char err[512] = "", *buf = NULL;
	struct stat st, st2;
	int rc;

	err[0] = '\0';
	ok(mkdir(tpath("w"), 0755) == 0, "mkdir w");
	rc = ft_atomic_write(tpath("w/a"), "one\n", 4,
	    &(struct ft_file_owner){0640, (uid_t)-1, (gid_t)-1}, err,
	    sizeof(err));
	ok(rc == FT_OK && stat(tpath("w/a"), &st) == 0 &&
		(st.st_mode & 07777) == 0640 && st.st_uid == geteuid() &&
		st.st_size == 4,
	    "atomic write creates, mode 0640 (%s)", err);
	rc = ft_atomic_write(tpath("w/a"), "second\n", 7,
	    &(struct ft_file_owner){0600, (uid_t)-1, (gid_t)-1}, err,
	    sizeof(err));
	ok(rc == FT_OK && stat(tpath("w/a"), &st2) == 0 &&
		(st2.st_mode & 07777) == 0600 && st2.st_size == 7 &&
		st2.st_ino != st.st_ino,
	    "atomic write replaces (new inode)");
	ok(rd(tpath("w/a"), err, sizeof(err), &buf) == FT_OK &&
		strcmp(buf, "second\n") == 0,
	    "new content");
	free(buf);
	rc = ft_atomic_write(tpath("w/a"), "", 0,
	    &(struct ft_file_owner){0400, (uid_t)-1, (gid_t)-1}, err,
	    sizeof(err));
	ok(rc == FT_OK && stat(tpath("w/a"), &st) == 0 && st.st_size == 0 &&
		(st.st_mode & 07777) == 0400,
	    "empty write, mode 0400");

	/* Final name a symlink: the link is replaced, its target untouched. */
	write_str(tpath("w/target"), "target\n", 0600);
	ok(symlink(tpath("w/target"), tpath("w/l")) == 0, "link in w");
	rc = ft_atomic_write(tpath("w/l"), "new\n", 4,
	    &(struct ft_file_owner){0600, (uid_t)-1, (gid_t)-1}, err,
	    sizeof(err));
	ok(rc == FT_OK && lstat(tpath("w/l"), &st) == 0 &&
		S_ISREG(st.st_mode) && stat(tpath("w/target"), &st2) == 0 &&
		st2.st_size == 7,
	    "write over a symlink replaces the link, not the target");
	rc = ft_atomic_write(tpath("dirlink/x"), "x", 1,
	    &(struct ft_file_owner){0600, (uid_t)-1, (gid_t)-1}, err,
	    sizeof(err));
	ok(rc == FT_ERR_UNSAFE && access(tpath("real/x"), F_OK) != 0,
	    "write through a symlinked directory refused (%s)", err);
	rc = ft_atomic_write(tpath("nodir/x"), "x", 1,
	    &(struct ft_file_owner){0600, (uid_t)-1, (gid_t)-1}, err,
	    sizeof(err));
	is_int(rc, FT_ERR_NOENT, "write into a missing directory");
	if (geteuid() == 0) {
		rc = ft_atomic_write(tpath("w/n"), "n", 1,
		    &(struct ft_file_owner){0600, NOBODY, NOBODY}, err,
		    sizeof(err));
		ok(rc == FT_OK && stat(tpath("w/n"), &st) == 0 &&
			st.st_uid == NOBODY && st.st_gid == NOBODY &&
			(st.st_mode & 07777) == 0600,
		    "owner set to nobody");
	} else {
		rc = ft_atomic_write(tpath("w/n"), "n", 1,
		    &(struct ft_file_owner){0600, 0, 0}, err, sizeof(err));
		ok(rc != FT_OK && access(tpath("w/n"), F_OK) != 0,
		    "chown refused for non-root, nothing created (%s)", err);
	}
	/* A failing write leaves the old file alone. */
	if (geteuid() != 0) {
		ok(chmod(tpath("w"), 0555) == 0, "make w read-only");
		rc = ft_atomic_write(tpath("w/a"), "zzz", 3,
		    &(struct ft_file_owner){0600, (uid_t)-1, (gid_t)-1}, err,
		    sizeof(err));
		ok(rc != FT_OK && stat(tpath("w/a"), &st) == 0 &&
			st.st_size == 0,
		    "failed write keeps the old file (%s)", err);
		ok(chmod(tpath("w"), 0755) == 0, "w writable again");
	}
	is_int(stray_files("w", " a target l n "), 0, "no temp files left");
}

static void
test_lock_unlink_dir(void)
{
	char err[512] = "", *buf = NULL;
	size_t len = 0;
	struct stat st;
	pid_t pid;
	int fd = -1, rc, status;

	err[0] = '\0';
	write_str(tpath("lk"), "locked\n", 0600);
	rc = read_locked(tpath("lk"), &pol, &buf, &len, &fd, err, sizeof(err));
	ok(rc == FT_OK && fd >= 0 && strcmp(buf, "locked\n") == 0,
	    "locked read (%s)", err);
	ft_wipe_free(buf, len);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char e2[256], *b2 = NULL;
		size_t l2 = 0;
		int fd2 = -1;

		rc = read_locked(
		    tpath("lk"), &pol, &b2, &l2, &fd2, e2, sizeof(e2));
		_exit(rc == FT_ERR_LOCKED ? 0 : 1);
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		WEXITSTATUS(status) == 0,
	    "second locker gets FT_ERR_LOCKED");
	(void)close(fd);
	fd = -1;
	rc = read_locked(tpath("lk"), &pol, &buf, &len, &fd, err, sizeof(err));
	ok(rc == FT_OK, "lock free again after close");
	ft_wipe_free(buf, len);
	if (fd >= 0)
		(void)close(fd);
	rc =
	    read_locked(tpath("link"), &pol, &buf, &len, &fd, err, sizeof(err));
	is_int(rc, FT_ERR_UNSAFE, "locked read refuses a symlink");

	is_int(ft_safe_unlink(tpath("lk"), err, sizeof(err)), FT_OK, "unlink");
	ok(access(tpath("lk"), F_OK) != 0, "gone");
	is_int(ft_safe_unlink(tpath("lk"), err, sizeof(err)), FT_ERR_NOENT,
	    "unlink missing: NOENT");
	ok(ft_safe_unlink(tpath("link"), err, sizeof(err)) == FT_OK &&
		lstat(tpath("link"), &st) != 0 && stat(tpath("ok"), &st) == 0,
	    "unlink removes a link, not its target");
	ok(ft_safe_unlink(tpath("dirlink/f"), err, sizeof(err)) ==
		    FT_ERR_UNSAFE &&
		stat(tpath("real/f"), &st) == 0,
	    "unlink through a symlinked directory refused");

	rc = ft_ensure_dir(
	    tpath("nd"), 0700, (uid_t)-1, (gid_t)-1, err, sizeof(err));
	ok(rc == FT_OK && stat(tpath("nd"), &st) == 0 && S_ISDIR(st.st_mode) &&
		(st.st_mode & 07777) == 0700,
	    "ensure_dir creates 0700 (%s)", err);
	is_int(ft_ensure_dir(
		   tpath("nd"), 0700, geteuid(), (gid_t)-1, err, sizeof(err)),
	    FT_OK, "ensure_dir accepts an existing good dir");
	ok(ft_ensure_dir(tpath("nd"), 0755, (uid_t)-1, (gid_t)-1, err,
	       sizeof(err)) == FT_ERR_UNSAFE &&
		contains(err, "mode 0700"),
	    "ensure_dir: wrong mode refused (%s)", err);
	ok(ft_ensure_dir(tpath("dirlink"), 0755, (uid_t)-1, (gid_t)-1, err,
	       sizeof(err)) == FT_ERR_UNSAFE,
	    "ensure_dir: symlink refused (%s)", err);
	ok(ft_ensure_dir(tpath("ok"), 0700, (uid_t)-1, (gid_t)-1, err,
	       sizeof(err)) == FT_ERR_UNSAFE,
	    "ensure_dir: file refused");
	is_int(ft_ensure_dir(tpath("no/such"), 0700, (uid_t)-1, (gid_t)-1, err,
		   sizeof(err)),
	    FT_ERR_NOENT, "ensure_dir: missing parent");
	if (geteuid() == 0) {
		ok(mkdir(tpath("squat"), 0700) == 0 &&
			chown(tpath("squat"), NOBODY, NOBODY) == 0,
		    "pre-created");
		ok(ft_ensure_dir(tpath("squat"), 0700, 0, 0, err,
		       sizeof(err)) == FT_ERR_UNSAFE &&
			contains(err, "owned by uid 65534"),
		    "ensure_dir: squatted dir refused (%s)", err);
		rc = ft_ensure_dir(
		    tpath("nd2"), 0750, NOBODY, NOBODY, err, sizeof(err));
		ok(rc == FT_OK && stat(tpath("nd2"), &st) == 0 &&
			st.st_uid == NOBODY && (st.st_mode & 07777) == 0750,
		    "ensure_dir creates with owner and mode");
	}
}

int
main(void)
{
	tdir_make();
	memset(&pol, 0, sizeof(pol));
	pol.owner = geteuid();
	pol.allow_root = false;
	pol.forbidden_mode = 077;
	pol.max_size = MAXSZ;
	diag("running as uid %lu", (unsigned long)geteuid());
	test_reads();
	test_owner();
	test_atomic();
	test_lock_unlink_dir();
	return done_testing();
}
