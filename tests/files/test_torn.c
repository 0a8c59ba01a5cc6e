/* Torn reads: a child replaces the secret file thousands of times,
 * alternating two valid versions, while the parent keeps loading it.  Every
 * load must succeed and give exactly one of the two versions. */
#include <config.h>

#include <sys/wait.h>

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "rc.h"
#include "secretfile.h"
#include "secretstore.h"
#include "util.h"

#define REWRITES 2000
#define MIN_READS 100
#define PACE 10 /* the writer waits for a read every 10 */

static void
make_secret(struct ft_secret *s, uint8_t fill, unsigned digits, size_t nbackup)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	memset(s->key, fill, 32);
	s->keylen = 32;
	s->algo = FT_ALGO_SHA256;
	s->digits = digits;
	s->period = 30;
	s->created = 1700000000;
	for (i = 0; i < nbackup; i++)
		(void)snprintf(s->backup[i], sizeof(s->backup[i]),
		    "pbkdf2-sha256$%u$%032zx$%064zx", 20000U, i, i);
	s->nbackup = nbackup;
}

int
main(void)
{
	struct ft_secret a, b, got;
	struct ft_file_policy pol;
	char err[512] = "";
	const char *path;
	unsigned reads = 0, bad = 0, sa = 0, sb = 0;
	int status, rc, done = 0, pace[2];
	pid_t pid;
	char tick = 'r';

	tdir_make();
	path = tpath("secret");
	/* Different sizes, so a torn file cannot look like either. */
	make_secret(&a, 0x11, 6, 0);
	make_secret(&b, 0x22, 8, FT_BACKUP_MAX);
	ft_secret_policy(geteuid(), &pol);
	if (ft_secret_store(path, &a, (uid_t)-1, (gid_t)-1, err, sizeof(err)) !=
	    FT_OK)
		bail_out("initial store: %s", err);
	if (pipe(pace) != 0 || fcntl(pace[1], F_SETFL, O_NONBLOCK) != 0)
		bail_out("pipe");
	(void)signal(SIGPIPE, SIG_IGN);
	fflush(stdout);
	pid = fork();
	if (pid == -1)
		bail_out("fork");
	if (pid == 0) {
		int i;

		(void)close(pace[1]);
		for (i = 0; i < REWRITES; i++)
			/* Paced by the reader, so reads interleave even on
			 * one CPU. */
			if ((i % PACE == 0 && read(pace[0], &tick, 1) != 1) ||
			    ft_secret_store(path, i % 2 ? &a : &b, (uid_t)-1,
				(gid_t)-1, err, sizeof(err)) != FT_OK)
				_exit(1);
		_exit(0);
	}
	(void)close(pace[0]);
	while (!done) {
		/* One more round after the child has gone. */
		done = waitpid(pid, &status, WNOHANG) == pid;
		rc = ft_secret_load(path, &pol, &got, err, sizeof(err));
		reads++;
		/* Full pipe (EAGAIN) or writer gone (EPIPE): fine. */
		if (write(pace[1], &tick, 1) == -1)
			tick = 'r';
		if (rc == FT_OK && got.digits == 6 && got.key[0] == 0x11 &&
		    got.nbackup == 0)
			sa++;
		else if (rc == FT_OK && got.digits == 8 && got.key[0] == 0x22 &&
		    got.nbackup == FT_BACKUP_MAX)
			sb++;
		else {
			if (bad++ < 5)
				diag("bad read: rc %d %s", rc, err);
		}
	}
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "writer did %d atomic rewrites", REWRITES);
	diag("%u reads: %u version A, %u version B", reads, sa, sb);
	ok(reads >= MIN_READS, "parent read %u times", reads);
	is_int(bad, 0, "every read parsed and equals one of the two versions");
	ok(sa > 0 && sb > 0, "both versions were seen");
	return done_testing();
}
