/* The state library: the lockout/replay policy helpers, and the gdbm
 * backend through ft_state_open (atomicity across processes, file and
 * directory safety, damaged files set aside, bounded lock wait). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <gdbm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rc.h"
#include "state.h"
#include "state_backend.h"
#include "tap.h"
#include "util.h"

#define T0 1700000000
#define NPROC 20
#define ERRLEN 512

static char tmp_buf[4096];
static const char *tmp;

/* The state calls with their parts spelled out, as the tests list them. */
static int
attempt(struct ft_state *st, const char *user, time_t now,
    ft_state_check_fn check, void *arg, enum ft_state_verdict *v,
    uint64_t *step, char *err, size_t errlen)
{
	struct ft_state_login l = {
	    .user = user, .now = now, .check = check, .check_arg = arg};
	int rc;

	rc = ft_state_attempt(st, &l, err, errlen);
	*v = l.verdict;
	*step = l.step;
	return rc;
}

static int
record(struct ft_state *st, const char *user, uint64_t step, time_t now,
    enum ft_state_verdict *v, char *err, size_t errlen)
{
	struct ft_state_login l = {.user = user, .now = now, .step = step};
	int rc;

	rc = ft_state_record_success(st, &l, err, errlen);
	*v = l.verdict;
	return rc;
}

static void
policy(struct ft_state_policy *p, unsigned deny, unsigned unlock,
    unsigned interval)
{
	memset(p, 0, sizeof(*p));
	p->deny = deny;
	p->unlock_time = unlock;
	p->fail_interval = interval;
	p->period = 300;
	p->window = 1;
}

static void
test_policy_begin(void)
{
	struct ft_state_policy p;
	struct ft_user_state s;
	enum ft_state_verdict v;

	policy(&p, 3, 600, 900);
	memset(&s, 0, sizeof(s));
	ft_state_apply_begin(&p, T0, &s, &v);
	ok(v == FT_STATE_PROCEED && s.failures == 1 && s.first_failure == T0 &&
		s.locked_until == 0,
	    "first attempt proceeds, counted in advance");
	ft_state_apply_begin(&p, T0 + 1, &s, &v);
	ok(v == FT_STATE_PROCEED && s.failures == 2 && s.locked_until == 0,
	    "second attempt proceeds");
	ft_state_apply_begin(&p, T0 + 2, &s, &v);
	ok(v == FT_STATE_PROCEED && s.failures == 3 &&
		s.locked_until == T0 + 2 + 600,
	    "attempt reaching deny is checked and sets the lock");
	ft_state_apply_begin(&p, T0 + 3, &s, &v);
	ok(v == FT_STATE_LOCKED && s.failures == 3, "next attempt is locked");
	ft_state_apply_begin(&p, T0 + 601, &s, &v);
	ok(v == FT_STATE_LOCKED, "still locked one second before unlock_time");
	ft_state_apply_begin(&p, T0 + 602, &s, &v);
	ok(v == FT_STATE_PROCEED && s.failures == 1 && s.locked_until == 0 &&
		s.first_failure == T0 + 602,
	    "expired lock cleared, counting starts afresh");

	/* unlock_time=0: admin only */
	policy(&p, 2, 0, 900);
	memset(&s, 0, sizeof(s));
	ft_state_apply_begin(&p, T0, &s, &v);
	ft_state_apply_begin(&p, T0, &s, &v);
	ok(v == FT_STATE_PROCEED && s.locked_until == FT_STATE_LOCKED_FOREVER,
	    "unlock_time=0 locks forever");
	ft_state_apply_begin(&p, T0 + 100000000, &s, &v);
	is_int(v, FT_STATE_LOCKED, "forever lock holds years later");

	/* fail_interval */
	policy(&p, 3, 600, 900);
	memset(&s, 0, sizeof(s));
	ft_state_apply_begin(&p, T0, &s, &v);
	ft_state_apply_begin(&p, T0 + 10, &s, &v);
	ft_state_apply_begin(&p, T0 + 900, &s, &v);
	ok(s.failures == 3 && s.locked_until != 0,
	    "third failure exactly fail_interval after the first still counts");
	memset(&s, 0, sizeof(s));
	ft_state_apply_begin(&p, T0, &s, &v);
	ft_state_apply_begin(&p, T0 + 10, &s, &v);
	ft_state_apply_begin(&p, T0 + 901, &s, &v);
	ok(v == FT_STATE_PROCEED && s.failures == 1 && s.locked_until == 0 &&
		s.first_failure == T0 + 901,
	    "failures older than fail_interval are forgotten");

	/* deny=0 */
	policy(&p, 0, 600, 900);
	memset(&s, 0, sizeof(s));
	for (int i = 0; i < 50; i++)
		ft_state_apply_begin(&p, T0 + i, &s, &v);
	ok(v == FT_STATE_PROCEED && s.locked_until == 0 && s.failures == 50,
	    "deny=0 never locks (failures still counted)");
}

/* A replay takes back the failure its attempt counted, and the lock that
 * count set: four logins with one code in one step never lock the user. */
static void
test_policy_replay_uncounted(const struct ft_state_policy *p)
{
	struct ft_user_state s;
	enum ft_state_verdict v;
	int i;

	memset(&s, 0, sizeof(s));
	ft_state_apply_begin(p, T0, &s, &v);
	ft_state_apply_success(p, 500, T0, &s, &v);
	for (i = 0; i < 5; i++) {
		ft_state_apply_begin(p, T0 + 1, &s, &v);
		ft_state_apply_success(p, 500, T0 + 1, &s, &v);
	}
	ok(v == FT_STATE_REPLAY && s.failures == 0 && s.locked_until == 0,
	    "five replays after a success: refused, no failure, no lock");
	ft_state_apply_begin(p, T0 + 2, &s, &v);
	ft_state_apply_begin(p, T0 + 3, &s, &v);
	ft_state_apply_begin(p, T0 + 4, &s, &v);
	ok(s.failures == 3 && ft_state_lock_active(&s, T0 + 4),
	    "two wrong codes and a third attempt's advance count lock");
	ft_state_apply_success(p, 500, T0 + 4, &s, &v);
	ok(v == FT_STATE_REPLAY && s.failures == 2 &&
		!ft_state_lock_active(&s, T0 + 4),
	    "a replay whose count set the lock takes the lock back too");
	ft_state_apply_begin(p, T0 + 5, &s, &v);
	ok(ft_state_lock_active(&s, T0 + 5) && s.failures == 3,
	    "the next wrong code locks again");
}

static void
test_policy_success(void)
{
	struct ft_state_policy p;
	struct ft_user_state s;
	enum ft_state_verdict v;

	policy(&p, 3, 600, 900);
	memset(&s, 0, sizeof(s));
	ft_state_apply_begin(&p, T0, &s, &v);
	ft_state_apply_success(&p, 1000, T0, &s, &v);
	ok(v == FT_STATE_ACCEPTED && s.last_step == 1000 && s.failures == 0 &&
		s.first_failure == 0 && s.last_success == T0,
	    "success records the step and clears failures");
	ft_state_apply_success(&p, 1000, T0 + 1, &s, &v);
	ok(v == FT_STATE_REPLAY && s.last_step == 1000 && s.last_success == T0,
	    "same step is a replay and changes nothing");
	test_policy_replay_uncounted(&p);
	ft_state_apply_success(&p, 999, T0 + 1, &s, &v);
	is_int(v, FT_STATE_REPLAY, "older step after newer is a replay");
	ft_state_apply_success(&p, 1001, T0 + 30, &s, &v);
	ok(v == FT_STATE_ACCEPTED && s.last_step == 1001,
	    "newer step accepted");

	ft_state_apply_begin(&p, T0 + 31, &s, &v);
	ft_state_apply_begin(&p, T0 + 32, &s, &v);
	ft_state_apply_begin(&p, T0 + 33, &s, &v);
	ok(s.locked_until != 0, "locked after deny failures");
	ft_state_apply_success(&p, 0, T0 + 34, &s, &v);
	ok(v == FT_STATE_ACCEPTED && s.locked_until == 0 && s.failures == 0 &&
		s.last_step == 1001,
	    "backup success (step 0) clears lock, keeps last_step");
	ft_state_apply_success(&p, 0, T0 + 35, &s, &v);
	is_int(v, FT_STATE_ACCEPTED, "step 0 has no replay check");
}

/* What the answer of the code check makes of a counted attempt. */
static void
test_policy_check(void)
{
	struct ft_state_policy p;
	struct ft_user_state s;
	enum ft_state_verdict v;

	policy(&p, 3, 600, 900);
	memset(&s, 0, sizeof(s));
	ft_state_apply_begin(&p, T0, &s, &v);
	ft_state_apply_check(&p, 0, 0, T0, &s, &v);
	ok(v == FT_STATE_PROCEED && s.failures == 1,
	    "check: no match proceeds, the failure stays counted");
	ft_state_apply_begin(&p, T0, &s, &v);
	ft_state_apply_check(&p, FT_ERR_CRYPTO, 0, T0, &s, &v);
	ok(v == FT_STATE_LOCKED && s.failures == 2,
	    "check: a failed check fails closed, still counted");
	ft_state_apply_begin(&p, T0, &s, &v);
	ft_state_apply_check(&p, 1, 77, T0, &s, &v);
	ok(v == FT_STATE_ACCEPTED && s.failures == 0 && s.last_step == 77 &&
		s.locked_until == 0,
	    "check: a match is the success rule (the lock it set cleared)");
	ft_state_apply_begin(&p, T0, &s, &v);
	ft_state_apply_check(&p, 1, 77, T0, &s, &v);
	ok(v == FT_STATE_REPLAY && s.failures == 0,
	    "check: a replayed match is refused but not counted");
	ok(!ft_state_apply_unlock(&s, 77, 1), "unlock at the step: not ahead");
	ok(s.failures == 0 && s.first_failure == 0 && s.locked_until == 0 &&
		s.last_step == 77 && ft_state_lock_active(&s, T0) == false,
	    "unlock clears failures and lock, keeps the step");
	ok(!ft_state_apply_unlock(&s, 76, 1) && s.last_step == 77,
	    "unlock: a step within the window ahead is left alone");
	ok(ft_state_apply_unlock(&s, 70, 1) && s.last_step == 69 &&
		s.future_step == 77,
	    "unlock: a step beyond the window ahead moves back, kept as "
	    "future_step");
	ft_state_apply_success(&p, 70, T0, &s, &v);
	ok(v == FT_STATE_ACCEPTED, "after unlock: the current code works");
	ft_state_apply_success(&p, 77, T0, &s, &v);
	ok(v == FT_STATE_REPLAY && s.future_step == 77,
	    "the code accepted ahead stays refused when its time comes");
	ft_state_apply_success(&p, 78, T0, &s, &v);
	ok(v == FT_STATE_ACCEPTED && s.future_step == 0,
	    "a later step clears future_step");
}

static void
config(struct ft_config *c, const char *cache, unsigned deny)
{
	memset(c, 0, sizeof(*c));
	tu_fmt(c->cache, sizeof(c->cache), "%s", cache);
	c->deny = deny;
	c->unlock_time = 600;
	c->fail_interval = 900;
	c->window = 1;
	c->redis_fallback = FT_REDIS_FALLBACK_DENY;
}

static int
open_at(const char *cache, unsigned deny, struct ft_state **st, char *err)
{
	struct ft_config c;

	config(&c, cache, deny);
	err[0] = '\0';
	return ft_state_open(&c, 0U, st, err, ERRLEN);
}

static void
config_open_login(
    const char *cache, unsigned deny, struct ft_state **st, char *err)
{
	struct ft_config c;
	int rc;

	config(&c, cache, deny);
	err[0] = '\0';
	*st = NULL;
	rc = ft_state_open(&c, FT_STATE_LAZY, st, err, ERRLEN);
	is_int(rc, FT_OK, "open for a login (%s)", err);
}

/* A scripted check for ft_state_attempt: answers `result` with `step`,
 * and counts its calls. */
struct scripted {
	int result;
	uint64_t step;
	unsigned calls;
};

static int
scripted_check(void *arg, uint64_t *step)
{
	struct scripted *sc = arg;

	sc->calls++;
	*step = sc->step;
	return sc->result;
}

static void
test_gdbm_attempt(void)
{
	char dir[4096], cache[4096], err[ERRLEN];
	struct ft_state *st = NULL;
	struct ft_user_state us;
	enum ft_state_verdict v;
	struct scripted sc = {1, 7000, 0};
	uint64_t step = 0;
	int rc;

	tu_fmt(dir, sizeof(dir), "%s/attempt", tmp);
	tu_fmt(cache, sizeof(cache), "%s/state.gdbm", dir);
	config_open_login(cache, 3, &st, err);
	if (st == NULL)
		return;
	rc = attempt(
	    st, "erin", T0, scripted_check, &sc, &v, &step, err, ERRLEN);
	ok(rc == FT_OK && v == FT_STATE_ACCEPTED && step == 7000 &&
		sc.calls == 1,
	    "attempt, login-opened cache: the file is created, a match is "
	    "accepted (%s)",
	    err);
	rc = ft_state_get(st, "erin", T0, &us, err, ERRLEN);
	ok(rc == FT_OK && us.last_step == 7000 && us.failures == 0,
	    "attempt: step recorded, the attempt's failure cleared");
	rc = attempt(
	    st, "erin", T0, scripted_check, &sc, &v, &step, err, ERRLEN);
	ok(rc == FT_OK && v == FT_STATE_REPLAY, "attempt: same step: replay");
	rc = ft_state_get(st, "erin", T0, &us, err, ERRLEN);
	ok(rc == FT_OK && us.failures == 0,
	    "attempt: a replay is refused but not counted as a failure");
	sc.result = 0;
	rc = attempt(
	    st, "erin", T0, scripted_check, &sc, &v, &step, err, ERRLEN);
	ok(rc == FT_OK && v == FT_STATE_PROCEED,
	    "attempt: no match: proceed (a backup code may follow)");
	sc.result = FT_ERR_CRYPTO;
	rc = attempt(
	    st, "erin", T0, scripted_check, &sc, &v, &step, err, ERRLEN);
	ok(rc == FT_ERR_CRYPTO && v == FT_STATE_LOCKED,
	    "attempt: a failing check fails closed (%s)", err);
	sc.result = 0;
	rc = attempt(
	    st, "erin", T0, scripted_check, &sc, &v, &step, err, ERRLEN);
	rc = ft_state_get(st, "erin", T0, &us, err, ERRLEN);
	ok(rc == FT_OK && us.failures == 3 && us.locked_until == T0 + 600,
	    "attempt: every attempt counted; the third locks");
	sc.result = 1;
	sc.step = 7001;
	sc.calls = 0;
	rc = attempt(
	    st, "erin", T0, scripted_check, &sc, &v, &step, err, ERRLEN);
	ok(rc == FT_OK && v == FT_STATE_LOCKED && sc.calls == 0,
	    "attempt while locked: locked, the code is not even checked");
	ft_state_close(st);
}

static void
test_gdbm_basic(void)
{
	char dir[4096], cache[4096], err[ERRLEN];
	struct ft_state *st = NULL;
	struct ft_user_state us;
	enum ft_state_verdict v;
	struct stat sb;
	bool rewound = false;
	int rc;

	tu_fmt(dir, sizeof(dir), "%s/basic", tmp);
	tu_fmt(cache, sizeof(cache), "%s/state.gdbm", dir);
	rc = open_at(cache, 3, &st, err);
	is_int(rc, FT_OK, "open creates the cache (%s)", err);
	if (rc != FT_OK)
		return;
	is_str(ft_state_backend_name(st), "gdbm", "backend is gdbm");
	ok(ft_state_warning(st) == NULL, "no warning");
	ok(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) &&
		(sb.st_mode & 07777) == 0700 && sb.st_uid == geteuid(),
	    "directory created 0700, owned by the caller");
	ok(lstat(cache, &sb) == 0 && S_ISREG(sb.st_mode) &&
		(sb.st_mode & 07777) == 0600 && sb.st_uid == geteuid(),
	    "file created 0600, owned by the caller");

	rc = ft_state_get(st, "alice", T0, &us, err, ERRLEN);
	ok(rc == FT_OK && us.last_step == 0 && us.failures == 0 &&
		us.locked_until == 0,
	    "unknown user reads as all zero");
	rc = ft_state_begin_attempt(st, "alice", T0, &v, err, ERRLEN);
	ok(rc == FT_OK && v == FT_STATE_PROCEED, "begin: proceed");
	rc = ft_state_get(st, "alice", T0, &us, err, ERRLEN);
	ok(rc == FT_OK && us.failures == 1, "failure counted in advance");
	rc = record(st, "alice", 5000, T0, &v, err, ERRLEN);
	ok(rc == FT_OK && v == FT_STATE_ACCEPTED, "record_success: accepted");
	rc = record(st, "alice", 5000, T0, &v, err, ERRLEN);
	ok(rc == FT_OK && v == FT_STATE_REPLAY, "same step again: replay");
	ft_state_close(st);

	st = NULL;
	rc = open_at(cache, 3, &st, err);
	is_int(rc, FT_OK, "reopen");
	if (rc != FT_OK)
		return;
	rc = ft_state_get(st, "alice", T0, &us, err, ERRLEN);
	ok(rc == FT_OK && us.last_step == 5000 && us.failures == 0 &&
		us.last_success == T0,
	    "state persists across opens");
	rc = record(st, "alice", 4999, T0, &v, err, ERRLEN);
	ok(rc == FT_OK && v == FT_STATE_REPLAY, "older step: replay");

	for (int i = 0; i < 3; i++)
		(void)ft_state_begin_attempt(
		    st, "alice", T0 + 1, &v, err, ERRLEN);
	rc = ft_state_begin_attempt(st, "alice", T0 + 2, &v, err, ERRLEN);
	ok(rc == FT_OK && v == FT_STATE_LOCKED, "locked after 3 failures");
	rc = ft_state_get(st, "alice", T0 + 2, &us, err, ERRLEN);
	ok(rc == FT_OK && us.locked_until == T0 + 1 + 600,
	    "get shows the lock");
	rc = ft_state_get(st, "alice", T0 + 601, &us, err, ERRLEN);
	ok(rc == FT_OK && us.locked_until == 0, "get hides an expired lock");
	rc = ft_state_begin_attempt(st, "bob", T0 + 2, &v, err, ERRLEN);
	ok(rc == FT_OK && v == FT_STATE_PROCEED, "other users unaffected");
	rc = ft_state_unlock(st, "alice", 0, &rewound, err, ERRLEN);
	is_int(rc, FT_OK, "unlock");
	rc = ft_state_begin_attempt(st, "alice", T0 + 3, &v, err, ERRLEN);
	ok(rc == FT_OK && v == FT_STATE_PROCEED, "unlocked user proceeds");
	rc = ft_state_get(st, "alice", T0 + 3, &us, err, ERRLEN);
	ok(rc == FT_OK && us.last_step == 5000 && us.failures == 1,
	    "unlock keeps last_step");
	rc = ft_state_forget(st, "alice", err, ERRLEN);
	is_int(rc, FT_OK, "forget");
	rc = ft_state_get(st, "alice", T0 + 3, &us, err, ERRLEN);
	ok(rc == FT_OK && us.last_step == 0 && us.failures == 0,
	    "forgotten user is all zero");
	rc = ft_state_forget(st, "nobody-here", err, ERRLEN);
	is_int(rc, FT_OK, "forget of an unknown user is fine");
	rc = ft_state_unlock(st, "nobody-here", 0, &rewound, err, ERRLEN);
	is_int(rc, FT_OK, "unlock of an unknown user is fine");
	rc = ft_state_get(st, "", T0, &us, err, ERRLEN);
	is_int(rc, FT_ERR_ARG, "empty user name rejected");
	{
		char big[300];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		rc = ft_state_begin_attempt(st, big, T0, &v, err, ERRLEN);
		ok(rc == FT_ERR_ARG && v == FT_STATE_LOCKED,
		    "overlong user name rejected, verdict fails closed");
	}
	ft_state_close(st);
}

/* Many users: the file does not grow per login, records stay separate. */
static void
test_gdbm_many(void)
{
	char cache[4096], err[ERRLEN], user[32];
	struct ft_state *st = NULL;
	struct ft_user_state us;
	enum ft_state_verdict v;
	struct stat sb1, sb2;
	int bad = 0;

	tu_fmt(cache, sizeof(cache), "%s/many/state.gdbm", tmp);
	if (open_at(cache, 3, &st, err) != FT_OK) {
		ok(0, "open many: %s", err);
		return;
	}
	for (int i = 0; i < 300; i++) {
		tu_fmt(user, sizeof(user), "user%d", i);
		if (record(st, user, 100 + (unsigned)i, T0, &v, err, ERRLEN) !=
			FT_OK ||
		    v != FT_STATE_ACCEPTED)
			bad++;
	}
	for (int i = 0; i < 300; i++) {
		tu_fmt(user, sizeof(user), "user%d", i);
		if (ft_state_get(st, user, T0, &us, err, ERRLEN) != FT_OK ||
		    us.last_step != 100 + (unsigned)i)
			bad++;
	}
	is_int(bad, 0, "300 users stored and read back");
	(void)stat(cache, &sb1);
	for (int round = 0; round < 5; round++)
		for (int i = 0; i < 300; i++) {
			tu_fmt(user, sizeof(user), "user%d", i);
			(void)ft_state_begin_attempt(
			    st, user, T0, &v, err, ERRLEN);
			(void)record(st, user, 1000 + (unsigned)round, T0, &v,
			    err, ERRLEN);
		}
	(void)stat(cache, &sb2);
	ok(sb2.st_size == sb1.st_size,
	    "3000 more logins do not grow the file (%lld -> %lld bytes)",
	    (long long)sb1.st_size, (long long)sb2.st_size);
	ft_state_close(st);
}

/* NPROC processes record the same step at once: exactly one wins. */
static void
test_gdbm_parallel(void)
{
	char cache[4096], err[ERRLEN];
	struct ft_state *st = NULL;
	int pfd[2], accepted = 0, replay = 0, other = 0;
	pid_t pids[NPROC];

	tu_fmt(cache, sizeof(cache), "%s/par/state.gdbm", tmp);
	if (open_at(cache, 0, &st, err) != FT_OK) {
		ok(0, "open par: %s", err);
		return;
	}
	ft_state_close(st);
	for (int round = 0; round < 10; round++) {
		if (pipe(pfd) != 0)
			bail_out("pipe");
		for (int i = 0; i < NPROC; i++) {
			pids[i] = fork();
			if (pids[i] == 0) {
				enum ft_state_verdict v;
				char c;
				int rc;

				(void)close(pfd[1]);
				if (read(pfd[0], &c, 1) < 0) /* barrier */
					_exit(3);
				if (open_at(cache, 0, &st, err) != FT_OK)
					_exit(3);
				rc = record(st, "carol", 7000 + (unsigned)round,
				    T0, &v, err, ERRLEN);
				ft_state_close(st);
				if (rc != FT_OK)
					_exit(3);
				_exit(v == FT_STATE_ACCEPTED ? 0 : 1);
			}
		}
		(void)close(pfd[0]);
		(void)close(pfd[1]); /* release everyone */
		for (int i = 0; i < NPROC; i++) {
			int status;

			if (waitpid(pids[i], &status, 0) < 0 ||
			    !WIFEXITED(status))
				other++;
			else if (WEXITSTATUS(status) == 0)
				accepted++;
			else if (WEXITSTATUS(status) == 1)
				replay++;
			else
				other++;
		}
	}
	ok(accepted == 10 && replay == 10 * (NPROC - 1) && other == 0,
	    "%d processes x 10 rounds, same step: exactly one accepted per "
	    "round (accepted %d, replay %d, errors %d)",
	    NPROC, accepted, replay, other);
}

/* Root: FT_OK, one warning naming what was there, the path now root's
 * 0700 directory, the foreign object kept aside (renamed, not followed or
 * removed).  Anyone else: FT_ERR_UNSAFE. */
static void
expect_reclaimed(int rc, struct ft_state *st, const char *dir, const char *what,
    const char *name)
{
	const char *w = st != NULL ? ft_state_warning(st) : NULL;
	char parent[4096];
	struct stat sb;
	const char *slash = strrchr(dir, '/');

	tu_fmt(parent, sizeof(parent), "%.*s", (int)(slash - dir), dir);
	if (geteuid() != 0) {
		is_int(rc, FT_ERR_UNSAFE, "%s: refused when not root", name);
		ft_state_close(st);
		return;
	}
	ok(rc == FT_OK && w != NULL && strstr(w, what) != NULL &&
		lstat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) && sb.st_uid == 0 &&
		(sb.st_mode & 07777) == 0700,
	    "%s: root recovers, warns (%s)", name, w != NULL ? w : "none");
	if (strstr(what, "set back") == NULL)
		ok(tu_count_prefix(parent, slash + 1) >= 2,
		    "%s: the foreign object was moved aside, not removed",
		    name);
	ft_state_close(st);
}

static void
test_gdbm_unsafe(void)
{
	char dir[4096], cache[4096], target[4096], err[ERRLEN];
	struct ft_state *st = NULL;
	int rc;

	/* Root takes the path back from a planted or unsafe object (a
	 * symlink, another owner, a root chmod mistake); anyone else is
	 * refused. */
	tu_fmt(target, sizeof(target), "%s/real", tmp);
	(void)mkdir(target, 0700);
	tu_fmt(dir, sizeof(dir), "%s/linkdir", tmp);
	MUST(symlink(target, dir));
	tu_fmt(cache, sizeof(cache), "%s/state.gdbm", dir);
	rc = open_at(cache, 3, &st, err);
	expect_reclaimed(
	    rc, st, dir, "symbolic link", "cache directory is a symlink");
	st = NULL;
	ok(tu_count_prefix(target, "state") == 0, "nothing created through it");

	tu_fmt(dir, sizeof(dir), "%s/mode", tmp);
	(void)mkdir(dir, 0755);
	(void)chmod(dir, 0755);
	tu_fmt(cache, sizeof(cache), "%s/state.gdbm", dir);
	rc = open_at(cache, 3, &st, err);
	expect_reclaimed(
	    rc, st, dir, "set back to 0700", "cache directory mode 0755");
	st = NULL;
	(void)chmod(dir, 0777);
	rc = open_at(cache, 3, &st, err);
	expect_reclaimed(rc, st, dir, "mode 0777",
	    "cache directory mode 0777 (others write)");
	st = NULL;

	/* Wrong owner (needs root to chown). */
	if (geteuid() == 0) {
		tu_fmt(dir, sizeof(dir), "%s/owner", tmp);
		(void)mkdir(dir, 0700);
		if (chown(dir, 4321, 4321) != 0)
			bail_out("chown");
		tu_fmt(cache, sizeof(cache), "%s/state.gdbm", dir);
		rc = open_at(cache, 3, &st, err);
		expect_reclaimed(rc, st, dir, "owned by uid 4321",
		    "cache directory owned by another uid");
		st = NULL;
		tu_fmt(dir, sizeof(dir), "%s/fifo", tmp);
		MUST(mkfifo(dir, 0600));
		if (chown(dir, 4321, 4321) != 0)
			bail_out("chown");
		tu_fmt(cache, sizeof(cache), "%s/state.gdbm", dir);
		rc = open_at(cache, 3, &st, err);
		expect_reclaimed(rc, st, dir, "FIFO",
		    "a FIFO at the cache directory's path");
		st = NULL;
	} else {
		ok(1, "# SKIP wrong directory owner needs root");
		ok(1, "# SKIP FIFO owner needs root");
	}

	/* The file is a symlink (to a file we own, which must stay intact). */
	tu_fmt(dir, sizeof(dir), "%s/flink", tmp);
	(void)mkdir(dir, 0700);
	tu_fmt(target, sizeof(target), "%s/victim", tmp);
	(void)tu_write_file(target, "precious", 8, 0600);
	tu_fmt(cache, sizeof(cache), "%s/state.gdbm", dir);
	MUST(symlink(target, cache));
	rc = open_at(cache, 3, &st, err);
	is_int(rc, FT_ERR_UNSAFE, "cache file is a symlink (%s)", err);
	{
		struct stat sb;

		ok(stat(target, &sb) == 0 && sb.st_size == 8,
		    "symlink target untouched");
	}
	/* Dangling symlink: must not create the target. */
	(void)unlink(cache);
	tu_fmt(target, sizeof(target), "%s/created-through-link", tmp);
	MUST(symlink(target, cache));
	rc = open_at(cache, 3, &st, err);
	ok(rc == FT_ERR_UNSAFE && access(target, F_OK) != 0,
	    "dangling symlink: refused, target not created");

	/* The file has group/other bits. */
	tu_fmt(dir, sizeof(dir), "%s/fmode", tmp);
	(void)mkdir(dir, 0700);
	tu_fmt(cache, sizeof(cache), "%s/state.gdbm", dir);
	(void)tu_write_file(cache, "", 0, 0644);
	rc = open_at(cache, 3, &st, err);
	is_int(rc, FT_ERR_UNSAFE, "cache file mode 0644 (%s)", err);

	/* A hard link to it elsewhere. */
	tu_fmt(dir, sizeof(dir), "%s/fhard", tmp);
	(void)mkdir(dir, 0700);
	tu_fmt(cache, sizeof(cache), "%s/state.gdbm", dir);
	(void)tu_write_file(cache, "", 0, 0600);
	tu_fmt(target, sizeof(target), "%s/hardlink", tmp);
	MUST(link(cache, target));
	rc = open_at(cache, 3, &st, err);
	is_int(rc, FT_ERR_UNSAFE, "cache file with a second hard link");

	/* A FIFO and a directory in its place. */
	tu_fmt(dir, sizeof(dir), "%s/ffifo", tmp);
	(void)mkdir(dir, 0700);
	tu_fmt(cache, sizeof(cache), "%s/state.gdbm", dir);
	(void)mkfifo(cache, 0600);
	rc = open_at(cache, 3, &st, err);
	is_int(rc, FT_ERR_UNSAFE, "cache file is a FIFO (%s)", err);
	tu_fmt(dir, sizeof(dir), "%s/fdir", tmp);
	(void)mkdir(dir, 0700);
	tu_fmt(cache, sizeof(cache), "%s/state.gdbm", dir);
	(void)mkdir(cache, 0700);
	rc = open_at(cache, 3, &st, err);
	ok(rc != FT_OK, "cache file is a directory: refused (%s)", err);

	/* Relative path. */
	rc = open_at("state.gdbm", 3, &st, err);
	is_int(rc, FT_ERR_ARG, "relative cache path refused");
}

static void
test_gdbm_corrupt(void)
{
	char dir[4096], cache[4096], err[ERRLEN];
	struct ft_state *st = NULL;
	struct ft_user_state us;
	enum ft_state_verdict v;
	struct stat sb;
	int rc;

	/* Garbage instead of a gdbm file. */
	tu_fmt(dir, sizeof(dir), "%s/garbage", tmp);
	(void)mkdir(dir, 0700);
	tu_fmt(cache, sizeof(cache), "%s/state.gdbm", dir);
	(void)tu_write_file(
	    cache, "this is not a gdbm file at all, no.\n", 36, 0600);
	rc = open_at(cache, 3, &st, err);
	is_int(rc, FT_ERR_CORRUPT, "garbage file: FT_ERR_CORRUPT (%s)", err);
	ok(tu_count_prefix(dir, "state.gdbm.corrupt.") == 1 &&
		lstat(cache, &sb) != 0,
	    "set aside as state.gdbm.corrupt.TIME");
	rc = open_at(cache, 3, &st, err);
	is_int(rc, FT_OK, "next open starts a fresh file");
	if (rc == FT_OK) {
		rc = ft_state_begin_attempt(st, "dave", T0, &v, err, ERRLEN);
		ok(rc == FT_OK && v == FT_STATE_PROCEED, "fresh file works");
		ft_state_close(st);
	}

	/* A real gdbm file cut short. */
	tu_fmt(dir, sizeof(dir), "%s/trunc", tmp);
	tu_fmt(cache, sizeof(cache), "%s/state.gdbm", dir);
	rc = open_at(cache, 3, &st, err);
	if (rc == FT_OK) {
		char user[32];

		for (int i = 0; i < 200; i++) {
			tu_fmt(user, sizeof(user), "u%d", i);
			(void)record(st, user, 9, T0, &v, err, ERRLEN);
		}
		ft_state_close(st);
	}
	memset(&sb, 0, sizeof(sb));
	(void)stat(cache, &sb);
	ok(sb.st_size > 0 && truncate(cache, sb.st_size / 3) == 0,
	    "truncate a populated file to a third (%lld of %lld bytes)",
	    (long long)sb.st_size / 3, (long long)sb.st_size);
	rc = open_at(cache, 3, &st, err);
	if (rc == FT_OK) {
		/* The header survived; the damage shows on access. */
		char user[32];

		for (int i = 0; i < 200 && rc == FT_OK; i++) {
			tu_fmt(user, sizeof(user), "u%d", i);
			rc = ft_state_get(st, user, T0, &us, err, ERRLEN);
		}
		ft_state_close(st);
	}
	is_int(rc, FT_ERR_CORRUPT, "truncated file: FT_ERR_CORRUPT (%s)", err);
	ok(tu_count_prefix(dir, "state.gdbm.corrupt.") == 1,
	    "truncated file set aside");
}

/* Store one record behind the module's back, as gdbm sees it. */
static int
plant(const char *cache, const char *user, const void *rec, int len)
{
	GDBM_FILE db = gdbm_open(cache, 0, GDBM_WRITER, 0600, NULL);
	datum k = {.dptr = (char *)(uintptr_t)user, .dsize = (int)strlen(user)};
	datum d = {.dptr = (char *)(uintptr_t)rec, .dsize = len};
	int rc;

	if (db == NULL)
		return -1;
	rc = gdbm_store(db, k, d, GDBM_REPLACE);
	return gdbm_close(db) == 0 ? rc : -1;
}

/* A version 1 record exactly as the code before versioning wrote it:
 * version 1, three zero bytes, then failures (u32), last_step (u64),
 * first_failure, locked_until, last_success (i64), little-endian. */
static void
v1_record(uint8_t rec[40], uint32_t failures, uint64_t step, int64_t first,
    int64_t until, int64_t success)
{
	memset(rec, 0, 40);
	rec[0] = 1;
	for (unsigned i = 0; i < 4; i++)
		rec[4 + i] = (uint8_t)(failures >> (8 * i));
	for (unsigned i = 0; i < 8; i++) {
		rec[8 + i] = (uint8_t)(step >> (8 * i));
		rec[16 + i] = (uint8_t)((uint64_t)first >> (8 * i));
		rec[24 + i] = (uint8_t)((uint64_t)until >> (8 * i));
		rec[32 + i] = (uint8_t)((uint64_t)success >> (8 * i));
	}
}

/* Records across versions: an old record is read and updated; a newer one,
 * or a malformed one, refuses only its own user and never sets the file
 * aside. */
static void
test_gdbm_versions(void)
{
	char dir[4096], cache[4096], err[ERRLEN];
	struct ft_state *st = NULL;
	struct ft_user_state us;
	enum ft_state_verdict v;
	uint8_t rec[56];
	bool rewound = false;
	int rc;

	tu_fmt(dir, sizeof(dir), "%s/versions", tmp);
	tu_fmt(cache, sizeof(cache), "%s/state.gdbm", dir);
	rc = open_at(cache, 3, &st, err);
	if (rc == FT_OK)
		ft_state_close(st);
	v1_record(rec, 2, 5000, T0 - 10, 0, T0 - 100);
	ok(plant(cache, "olga", rec, 40) == 0, "planted a v1 record");
	v1_record(rec, 1, 6000, T0 - 5, 0, T0 - 50);
	rec[0] = 3; /* a newer version: the v2 layout and 8 more bytes */
	memset(rec + 40, 0xab, 16);
	ok(plant(cache, "nora", rec, 56) == 0, "planted a v3 record");
	v1_record(rec, 0, 6000, 0, 0, T0 - 50);
	rec[0] = 2; /* v2: future_step 6100 after the v1 fields */
	memset(rec + 40, 0, 8);
	rec[40] = 6100 & 0xff;
	rec[41] = 6100 >> 8;
	ok(plant(cache, "pia", rec, 48) == 0, "planted a v2 record");
	ok(plant(cache, "mona", "short", 5) == 0, "planted a short record");
	v1_record(rec, 0, 1, 0, 0, 0);
	rec[2] = 1; /* reserved byte set */
	ok(plant(cache, "rita", rec, 40) == 0, "planted a v1 record, bad byte");

	rc = open_at(cache, 3, &st, err);
	is_int(rc, FT_OK, "a file with old, newer and bad records opens");
	if (rc != FT_OK)
		return;
	rc = ft_state_get(st, "olga", T0, &us, err, ERRLEN);
	ok(rc == FT_OK && us.last_step == 5000 && us.failures == 2 &&
		us.first_failure == T0 - 10 && us.last_success == T0 - 100,
	    "v1 record read field by field (%s)", err);
	rc = record(st, "olga", 5000, T0, &v, err, ERRLEN);
	ok(rc == FT_OK && v == FT_STATE_REPLAY, "v1 record: its step replays");
	rc = record(st, "olga", 5001, T0, &v, err, ERRLEN);
	ok(rc == FT_OK && v == FT_STATE_ACCEPTED, "v1 record updated");
	rc = ft_state_get(st, "olga", T0, &us, err, ERRLEN);
	ok(rc == FT_OK && us.last_step == 5001 && us.failures == 0,
	    "v1 record after the update");

	rc = ft_state_get(st, "pia", T0, &us, err, ERRLEN);
	ok(rc == FT_OK && us.last_step == 6000 && us.future_step == 6100,
	    "v2 record read: future_step (%s)", err);
	ok(record(st, "pia", 6100, T0, &v, err, ERRLEN) == FT_OK &&
		v == FT_STATE_REPLAY,
	    "v2 record: the future step replays though above last_step");
	ok(record(st, "pia", 6050, T0, &v, err, ERRLEN) == FT_OK &&
		v == FT_STATE_ACCEPTED,
	    "v2 record: a step between them is accepted");
	ok(record(st, "pia", 6101, T0, &v, err, ERRLEN) == FT_OK &&
		v == FT_STATE_ACCEPTED &&
		ft_state_get(st, "pia", T0, &us, err, ERRLEN) == FT_OK &&
		us.future_step == 0 && us.last_step == 6101,
	    "a later step clears future_step");
	rc = ft_state_begin_attempt(st, "nora", T0, &v, err, ERRLEN);
	ok(rc == FT_ERR_VERSION && v == FT_STATE_LOCKED && strstr(err, "nora"),
	    "newer record: refused for its user, FT_ERR_VERSION (%s)", err);
	rc = ft_state_unlock(st, "nora", 0, &rewound, err, ERRLEN);
	is_int(rc, FT_ERR_VERSION, "newer record: not rewritten by unlock");
	rc = ft_state_begin_attempt(st, "mona", T0, &v, err, ERRLEN);
	ok(rc == FT_ERR_CORRUPT && v == FT_STATE_LOCKED,
	    "short record: refused for its user, FT_ERR_CORRUPT (%s)", err);
	rc = ft_state_get(st, "rita", T0, &us, err, ERRLEN);
	is_int(rc, FT_ERR_CORRUPT, "bad reserved byte: refused (%s)", err);
	rc = ft_state_begin_attempt(st, "olga", T0 + 1, &v, err, ERRLEN);
	ok(rc == FT_OK && v == FT_STATE_PROCEED,
	    "another user in the same file still logs in");
	ok(tu_count_prefix(dir, "state.gdbm.corrupt.") == 0,
	    "the file was not set aside");
	rc = ft_state_forget(st, "mona", err, ERRLEN);
	if (rc == FT_OK)
		rc = ft_state_begin_attempt(st, "mona", T0, &v, err, ERRLEN);
	ok(rc == FT_OK && v == FT_STATE_PROCEED,
	    "reset removes a malformed record; the user logs in again");
	ft_state_close(st);
	{
		GDBM_FILE db = gdbm_open(cache, 0, GDBM_READER, 0600, NULL);
		datum k = {.dptr = (char *)(uintptr_t) "nora", .dsize = 4};
		datum d = {.dptr = NULL, .dsize = 0};

		if (db != NULL)
			d = gdbm_fetch(db, k);
		ok(d.dptr != NULL && d.dsize == 56 && d.dptr[0] == 3 &&
			(uint8_t)d.dptr[55] == 0xab,
		    "the newer record is kept byte for byte");
		free(d.dptr);
		if (db != NULL)
			gdbm_close(db);
	}
}

/* Another process holds the lock: bounded wait, then FT_ERR_LOCKED. */
static void
test_gdbm_lock_timeout(void)
{
	char cache[4096], err[ERRLEN];
	struct ft_state *st = NULL;
	enum ft_state_verdict v;
	struct timespec a, b;
	double secs;
	int fd, rc;

	tu_fmt(cache, sizeof(cache), "%s/busy/state.gdbm", tmp);
	rc = open_at(cache, 3, &st, err);
	if (rc != FT_OK) {
		ok(0, "open busy: %s", err);
		return;
	}
	fd = open(cache, O_RDWR | O_CLOEXEC);
	ok(fd >= 0 && flock(fd, LOCK_EX) == 0, "hold the lock elsewhere");
	(void)clock_gettime(CLOCK_MONOTONIC, &a);
	rc = ft_state_begin_attempt(st, "gina", T0, &v, err, ERRLEN);
	(void)clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (double)(b.tv_sec - a.tv_sec) +
	    (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	ok(rc == FT_ERR_LOCKED && v == FT_STATE_LOCKED,
	    "busy lock: FT_ERR_LOCKED (%s)", err);
	ok(secs >= 2.9 && secs < 6.0,
	    "gave up after about 3 s without change (%.2f s)", secs);
	(void)close(fd);
	rc = ft_state_begin_attempt(st, "gina", T0, &v, err, ERRLEN);
	ok(rc == FT_OK && v == FT_STATE_PROCEED, "works once released");

	/* A holder that keeps changing the file (as a queue of other logins
	 * does) is waited for beyond 2 s. */
	{
		int pfd[2], status;
		pid_t pid;
		char ch = 0;

		MUST(pipe(pfd));
		pid = fork();
		if (pid == 0) {
			struct timespec tick = {0, 100 * 1000 * 1000};

			fd = open(cache, O_RDWR | O_CLOEXEC);
			if (fd < 0 || flock(fd, LOCK_EX) != 0)
				_exit(1);
			if (write(pfd[1], "x", 1) != 1)
				_exit(1);
			for (int i = 0; i < 45; i++) { /* 4.5 s */
				(void)futimens(fd, NULL);
				(void)nanosleep(&tick, NULL);
			}
			_exit(0);
		}
		(void)close(pfd[1]);
		ok(read(pfd[0], &ch, 1) == 1, "busy holder has the lock");
		(void)close(pfd[0]);
		(void)clock_gettime(CLOCK_MONOTONIC, &a);
		rc = ft_state_begin_attempt(st, "gina", T0, &v, err, ERRLEN);
		(void)clock_gettime(CLOCK_MONOTONIC, &b);
		secs = (double)(b.tv_sec - a.tv_sec) +
		    (double)(b.tv_nsec - a.tv_nsec) / 1e9;
		ok(rc == FT_OK && secs >= 4.0,
		    "waited %.2f s for a holder that kept writing (%s)", secs,
		    rc == FT_OK ? "ok" : err);
		(void)waitpid(pid, &status, 0);
	}
	ft_state_close(st);
}

static void
test_redis_selection(void)
{
	struct ft_config c;
	struct ft_state *st = NULL;
	char err[ERRLEN];
	int rc;

	config(&c, FT_CACHE_REDIS, 3);
#ifndef HAVE_REDIS
	rc = ft_state_open(&c, 0U, &st, err, ERRLEN);
	ok(rc == FT_ERR_UNSUPPORTED && strstr(err, "no Redis") != NULL,
	    "cache=redis without Redis support: %s", err);
#else
	/* Nothing listens on port 1; fallback=local uses the local file. */
	tu_fmt(c.redis_host, sizeof(c.redis_host), "127.0.0.1");
	c.redis_port = 1;
	c.redis_timeout_ms = 200;
	tu_fmt(c.redis_prefix, sizeof(c.redis_prefix), "flowtotp");
	c.redis_tls = false;
	/* Opening only checks the settings; the first call connects. */
	rc = ft_state_open(&c, 0U, &st, err, ERRLEN);
	if (rc == FT_ERR_UNSUPPORTED) {
		ok(1, "# SKIP the Redis backend is not there yet (%s)", err);
		return;
	}
	if (rc == FT_OK) {
		enum ft_state_verdict v = FT_STATE_PROCEED;

		rc = ft_state_begin_attempt(st, "hank", T0, &v, err, ERRLEN);
		ft_state_close(st);
		st = NULL;
		if (v != FT_STATE_LOCKED)
			rc = FT_OK;
	}
	ok(rc == FT_ERR_BACKEND,
	    "cache=redis, Redis down, fallback=deny: FT_ERR_BACKEND, locked "
	    "(%s)",
	    err);
	c.redis_fallback = FT_REDIS_FALLBACK_LOCAL;
	tu_fmt(
	    c.local_cache, sizeof(c.local_cache), "%s/local/state.gdbm", tmp);
	rc = ft_state_open(&c, 0U, &st, err, ERRLEN);
	is_int(rc, FT_OK, "fallback=local: open succeeds (%s)", err);
	if (rc == FT_OK) {
		enum ft_state_verdict v;

		rc = ft_state_begin_attempt(st, "hank", T0, &v, err, ERRLEN);
		ok(ft_state_warning(st) != NULL, "a warning is set: %s",
		    ft_state_warning(st) ? ft_state_warning(st) : "(none)");
		ok(rc == FT_OK && v == FT_STATE_PROCEED &&
			strcmp(ft_state_backend_name(st), "gdbm") == 0 &&
			ft_state_warning(st) != NULL,
		    "calls answered by the local gdbm file, with a warning");
		ft_state_close(st);
	}
#endif
}

/* A full tmpfs (a user ran dd into /dev/shm): a store that finds no room
 * is an I/O error for that login, never damage: the file is not set
 * aside, every record stays (a used code stays used), and once there is
 * room again the file reopens cleanly.  Needs root to mount a small tmpfs
 * of our own (never the real /dev/shm); unmounted whatever happens. */
#define FULL_FS_SIZE "size=160k"
#define FULL_USERS_MAX 20000
static void
test_gdbm_full(void)
{
	char dir[4096], cache[4096], filler[4096], user[32], err[ERRLEN];
	struct ft_state *st = NULL;
	struct ft_user_state us;
	enum ft_state_verdict v;
	int rc = FT_OK, i, fd;
	static const char block[4096];

	if (geteuid() != 0) {
		ok(1, "# SKIP mounting a small tmpfs needs root");
		return;
	}
	tu_fmt(dir, sizeof(dir), "%s/fullfs", tmp);
	MUST(mkdir(dir, 0700));
	if (mount("ft-full", dir, "tmpfs", MS_NOSUID | MS_NODEV,
		FULL_FS_SIZE) != 0) {
		ok(1, "# SKIP cannot mount tmpfs: %s", strerror(errno));
		return;
	}
	tu_fmt(cache, sizeof(cache), "%s/c/state.gdbm", dir);
	tu_fmt(filler, sizeof(filler), "%s/filler", dir);
	rc = open_at(cache, 3, &st, err);
	if (rc == FT_OK)
		rc = record(st, "first", 9000, T0, &v, err, ERRLEN);
	/* The attacker fills what is left. */
	fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	while (fd >= 0 && write(fd, block, sizeof(block)) > 0)
		;
	for (i = 0; rc == FT_OK && i < FULL_USERS_MAX; i++) {
		tu_fmt(user, sizeof(user), "new%05d", i);
		rc = record(st, user, 9000, T0, &v, err, ERRLEN);
	}
	ok(rc == FT_ERR_IO, "a full tmpfs: FT_ERR_IO, not damage (%s)", err);
	ok(strstr(err, "cache full: cannot record a new user") != NULL,
	    "the new user is denied with a clear reason");
	ok(i > 1 && record(st, "first", 9001, T0, &v, err, ERRLEN) == FT_OK &&
		v == FT_STATE_ACCEPTED &&
		record(st, "new00000", 9001, T0, &v, err, ERRLEN) == FT_OK &&
		v == FT_STATE_ACCEPTED,
	    "full: users already recorded keep logging in (%s)", err);
	tu_fmt(user, sizeof(user), "%s", "c");
	tu_fmt(filler + strlen(dir), sizeof(filler) - strlen(dir), "/c");
	ok(tu_count_prefix(filler, "state.gdbm.corrupt") == 0 &&
		tu_count_prefix(filler, "state.gdbm") == 1,
	    "the cache file was not set aside");
	ft_state_close(st);
	st = NULL;
	rc = open_at(cache, 3, &st, err);
	ok(rc == FT_OK &&
		record(st, "first", 9001, T0, &v, err, ERRLEN) == FT_OK &&
		v == FT_STATE_REPLAY,
	    "still full: the file reopens and a used code stays used (%s)",
	    err);
	if (fd >= 0)
		(void)close(fd);
	tu_fmt(filler, sizeof(filler), "%s/filler", dir);
	(void)unlink(filler);
	rc = st != NULL ? ft_state_get(st, "first", T0, &us, err, ERRLEN)
			: FT_ERR_IO;
	ok(rc == FT_OK && us.last_step == 9001,
	    "room again: the record is intact (%s)", err);
	ft_state_close(st);
	if (umount(dir) != 0)
		diag("umount %s: %s", dir, strerror(errno));
}

/* FT_STATE_NO_RECORD (a login of a user with no secret): the rules run,
 * nothing is created, so random names cannot fill the cache; an existing
 * record is still updated. */
static void
test_gdbm_no_record(void)
{
	char cache[4096], err[ERRLEN];
	struct ft_state *st = NULL;
	struct ft_user_state us;
	struct ft_config c;
	enum ft_state_verdict v;
	int rc, i, created = 0;

	tu_fmt(cache, sizeof(cache), "%s/norec/state.gdbm", tmp);
	rc = open_at(cache, 3, &st, err);
	if (rc == FT_OK)
		rc = record(st, "known", 100, T0, &v, err, ERRLEN);
	ft_state_close(st);
	st = NULL;
	config(&c, cache, 3);
	if (rc == FT_OK)
		rc = ft_state_open(
		    &c, FT_STATE_LAZY | FT_STATE_NO_RECORD, &st, err, ERRLEN);
	for (i = 0; rc == FT_OK && i < 3; i++)
		rc = ft_state_begin_attempt(
		    st, "random-name", T0, &v, err, ERRLEN);
	ok(rc == FT_OK && v == FT_STATE_PROCEED,
	    "no record: the attempts run the rules (%s)", err);
	if (rc == FT_OK)
		rc = ft_state_begin_attempt(st, "known", T0, &v, err, ERRLEN);
	ft_state_close(st);
	st = NULL;
	if (rc == FT_OK)
		rc = open_at(cache, 3, &st, err);
	if (rc == FT_OK &&
	    ft_state_get(st, "random-name", T0, &us, err, ERRLEN) == FT_OK)
		created = us.failures != 0 || us.last_step != 0;
	ok(rc == FT_OK && !created, "no record was created (%s)", err);
	ok(rc == FT_OK &&
		ft_state_get(st, "known", T0, &us, err, ERRLEN) == FT_OK &&
		us.failures == 1 && us.last_step == 100,
	    "an existing record is still counted");
	ft_state_close(st);
}

int
main(void)
{
	char *t = tu_mkdtemp("state");

	tu_fmt(tmp_buf, sizeof(tmp_buf), "%s", t);
	free(t);
	tmp = tmp_buf;
	(void)skip_all;
	diag("temp dir %s, euid %lu", tmp, (unsigned long)geteuid());
	test_policy_begin();
	test_policy_success();
	test_policy_check();
	test_gdbm_basic();
	test_gdbm_attempt();
	test_gdbm_many();
	test_gdbm_parallel();
	test_gdbm_unsafe();
	test_gdbm_full();
	test_gdbm_no_record();
	test_gdbm_corrupt();
	test_gdbm_versions();
	test_gdbm_lock_timeout();
	test_redis_selection();
	tu_rmrf(tmp);
	return done_testing();
}
