/* remember= in the state library and its digest (common/remember.c,
 * the FT_OP_REMEMBER_* operations of the gdbm backend): an origin set is
 * remembered until its end and not after; another digest is not; at most
 * 16 origins per user, the one that ends first giving way; a damaged
 * record is an error (not remembered) that the next set rewrites; a
 * locked user is never remembered; a lockout, unlock and forget clear
 * every origin; the digest covers every field and the boot id. */
#include <config.h>

#include <gdbm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rc.h"
#include "remember.h"
#include "state.h"
#include "tap.h"
#include "util.h"

#define T0 1700000000
#define ERRLEN 512
#define SPAN 600
#define CAP 16U

static char tmp[4096];
static char cache[4200];

static struct ft_state *
open_state(unsigned deny)
{
	struct ft_config c;
	struct ft_state *st = NULL;
	char err[ERRLEN];

	memset(&c, 0, sizeof(c));
	tu_fmt(c.cache, sizeof(c.cache), "%s", cache);
	c.deny = deny;
	c.unlock_time = 60;
	c.fail_interval = 900;
	c.window = 1;
	err[0] = '\0';
	if (ft_state_open(&c, 0U, &st, err, sizeof(err)) != FT_OK)
		bail_out("open: %s", err);
	return st;
}

static void
digest_of(unsigned n, uint8_t d[FT_REMEMBER_DIGEST_LEN])
{
	memset(d, 0, FT_REMEMBER_DIGEST_LEN);
	d[0] = (uint8_t)n;
	d[1] = (uint8_t)(n >> 8);
	d[2] = 0xa5;
}

static int
set(struct ft_state *st, const char *user, unsigned n, time_t now,
    int64_t until)
{
	uint8_t d[FT_REMEMBER_DIGEST_LEN];
	struct ft_state_remember r = {
	    .user = user, .now = now, .digest = d, .until = until};
	char err[ERRLEN];

	digest_of(n, d);
	return ft_state_remember_set(st, &r, err, sizeof(err));
}

/* 1 remembered, 0 not, or the negative error. */
static int
check(struct ft_state *st, const char *user, unsigned n, time_t now)
{
	uint8_t d[FT_REMEMBER_DIGEST_LEN];
	struct ft_state_remember r = {.user = user, .now = now, .digest = d};
	char err[ERRLEN];
	int rc;

	digest_of(n, d);
	rc = ft_state_remember_check(st, &r, err, sizeof(err));
	if (rc != FT_OK)
		return rc;
	return r.remembered ? 1 : 0;
}

static void
test_expiry(void)
{
	struct ft_state *st = open_state(3);

	is_int(check(st, "alice", 1, T0), 0, "nothing remembered at first");
	is_int(set(st, "alice", 1, T0, T0 + SPAN), FT_OK, "set an origin");
	is_int(check(st, "alice", 1, T0 + 1), 1, "remembered");
	is_int(check(st, "alice", 1, T0 + SPAN - 1), 1,
	    "remembered until just before its end");
	is_int(check(st, "alice", 1, T0 + SPAN), 0, "not at its end");
	is_int(check(st, "alice", 2, T0 + 1), 0, "another digest: not");
	is_int(check(st, "bob", 1, T0 + 1), 0, "another user: not");
	ft_state_close(st);
}

static void
test_cap(void)
{
	struct ft_state *st = open_state(3);
	unsigned i, kept = 0;

	/* Origin 100 ends first; 101..116 later: the 17th set drops 100. */
	is_int(set(st, "carol", 100, T0, T0 + 100), FT_OK, "first origin");
	for (i = 1; i <= CAP; i++)
		if (set(st, "carol", 100 + i, T0 + i, T0 + SPAN + i) != FT_OK)
			bail_out("set %u", i);
	for (i = 1; i <= CAP; i++)
		kept += check(st, "carol", 100 + i, T0 + 50) == 1;
	is_int(check(st, "carol", 100, T0 + 50), 0,
	    "17 origins: the one that ends first gave way");
	is_int((int)kept, (int)CAP, "the 16 others are kept");
	ft_state_close(st);
}

static void
plant(const char *user, const void *val, int len)
{
	char key[300];
	size_t ul = strlen(user);
	GDBM_FILE db = gdbm_open(cache, 0, GDBM_WRITER, 0600, NULL);
	datum k = {.dptr = key, .dsize = (int)(10 + ul)};
	datum v = {.dptr = (char *)(uintptr_t)val, .dsize = len};

	memcpy(key, "\0remember\0", 10);
	memcpy(key + 10, user, ul);
	if (db == NULL || gdbm_store(db, k, v, GDBM_REPLACE) != 0 ||
	    gdbm_close(db) != 0)
		bail_out("plant");
}

static void
test_damaged(void)
{
	static const uint8_t bad[][8] = {
	    {2, 0, 0, 0},	       /* a version this code does not write */
	    {1, 1, 0, 0},	       /* one entry announced, none there */
	    {1, 0, 1, 0},	       /* reserved byte set */
	    {1, 17, 0, 0, 0, 0, 0, 0}, /* more than 16 */
	};
	struct ft_state *st;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		st = open_state(3);
		plant("dave", bad[i], i == 3 ? 8 : 4);
		is_int(check(st, "dave", 1, T0), FT_ERR_CORRUPT,
		    "damaged record %zu: an error, not remembered", i);
		is_int(set(st, "dave", 1, T0, T0 + SPAN), FT_OK,
		    "... the next set rewrites it");
		is_int(check(st, "dave", 1, T0 + 1), 1, "... and it works");
		ft_state_close(st);
	}
	st = open_state(3);
	is_int(check(st, "alice", 1, T0 + 1), 1,
	    "another user's origins are untouched");
	ft_state_close(st);
}

static void
test_clears(void)
{
	struct ft_state *st = open_state(2);
	enum ft_state_verdict v;
	char err[ERRLEN];
	bool rewound = false;

	is_int(set(st, "erin", 1, T0, T0 + SPAN), FT_OK, "erin remembered");
	is_int(ft_state_unlock(st, "erin", 0, &rewound, err, sizeof(err)),
	    FT_OK, "unlock");
	is_int(check(st, "erin", 1, T0 + 1), 0, "unlock forgets the origins");
	is_int(set(st, "erin", 1, T0, T0 + SPAN), FT_OK, "remembered again");
	is_int(ft_state_forget(st, "erin", err, sizeof(err)), FT_OK, "forget");
	is_int(check(st, "erin", 1, T0 + 1), 0, "forget forgets them");
	is_int(set(st, "erin", 1, T0, T0 + SPAN), FT_OK, "remembered again");
	is_int(ft_state_begin_attempt(st, "erin", T0 + 2, &v, err, sizeof(err)),
	    FT_OK, "a first failure");
	is_int(
	    check(st, "erin", 1, T0 + 3), 1, "... no lock: still remembered");
	is_int(ft_state_begin_attempt(st, "erin", T0 + 4, &v, err, sizeof(err)),
	    FT_OK, "the second failure sets the lock (deny=2)");
	is_int(check(st, "erin", 1, T0 + 5), 0, "locked: not remembered");
	is_int(check(st, "erin", 1, T0 + 100), 0,
	    "after the lock ended: the lockout forgot the origin");
	is_int(
	    set(st, "erin", 1, T0 + 101, T0 + SPAN), FT_OK, "remembered again");
	ft_state_close(st);
}

static void
boot_file(const char *name, const char *text)
{
	char path[4300];

	tu_fmt(path, sizeof(path), "%s/%s", tmp, name);
	write_str(path, text, 0644);
	if (setenv("FLOWTOTP_TEST_BOOT_ID_FILE", path, 1) != 0)
		bail_out("setenv");
}

static int
digest(const char *user, const char *svc, const char *rhost, const char *tty,
    uint8_t d[FT_REMEMBER_DIGEST_LEN])
{
	static const uint8_t key[20] = {1, 2, 3};
	struct ft_remember_origin o = {
	    .user = user, .service = svc, .rhost = rhost, .tty = tty};
	char err[ERRLEN];

	return ft_remember_digest(key, sizeof(key), &o, d, err, sizeof(err));
}

static void
test_digest(void)
{
	uint8_t a[FT_REMEMBER_DIGEST_LEN], b[FT_REMEMBER_DIGEST_LEN];
	const char *const bad[] = {"", "not-a-uuid\n",
	    "6f1c7a9e-3b0d-4a5e-9f2c-8d7e6b5a4c3\n", /* one digit short */
	    "6F1C7A9E-3B0D-4A5E-9F2C-8D7E6B5A4C3B\n"};
	size_t i;

	boot_file("boot1", "6f1c7a9e-3b0d-4a5e-9f2c-8d7e6b5a4c3b\n");
	is_int(digest("u", "sudo", "h", "/dev/pts/1", a), FT_OK, "a digest");
	is_int(digest("u", "sudo", "h", "/dev/pts/1", b), FT_OK, "again");
	ok(memcmp(a, b, sizeof(a)) == 0, "the same origin, the same digest");
	digest("v", "sudo", "h", "/dev/pts/1", b);
	ok(memcmp(a, b, sizeof(a)) != 0, "another user: another digest");
	digest("u", "sshd", "h", "/dev/pts/1", b);
	ok(memcmp(a, b, sizeof(a)) != 0, "another service");
	digest("u", "sudo", "h2", "/dev/pts/1", b);
	ok(memcmp(a, b, sizeof(a)) != 0, "another rhost");
	digest("u", "sudo", "h", "/dev/pts/2", b);
	ok(memcmp(a, b, sizeof(a)) != 0, "another tty");
	digest("u", "sudoh", "", "/dev/pts/1", b);
	ok(memcmp(a, b, sizeof(a)) != 0,
	    "fields cannot run into each other (sudo+h vs sudoh+empty)");
	boot_file("boot2", "0f1c7a9e-3b0d-4a5e-9f2c-8d7e6b5a4c3b");
	is_int(digest("u", "sudo", "h", "/dev/pts/1", b), FT_OK,
	    "another boot (no newline)");
	ok(memcmp(a, b, sizeof(a)) != 0, "another boot: another digest");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		boot_file("bootbad", bad[i]);
		is_int(digest("u", "sudo", "h", "/dev/pts/1", b), FT_ERR_PARSE,
		    "a boot id that is not a UUID (%zu): an error", i);
	}
	if (setenv("FLOWTOTP_TEST_BOOT_ID_FILE", "/nonexistent/boot", 1) != 0)
		bail_out("setenv");
	is_int(digest("u", "sudo", "h", "/dev/pts/1", b), FT_ERR_IO,
	    "no boot id file: an error");
	(void)unsetenv("FLOWTOTP_TEST_BOOT_ID_FILE");
	is_int(digest("u", "sudo", "h", "/dev/pts/1", b), FT_OK,
	    "the kernel's boot id reads");
}

int
main(void)
{
	char *t = tu_mkdtemp("remstate");

	tu_fmt(tmp, sizeof(tmp), "%s", t);
	free(t);
	tu_fmt(cache, sizeof(cache), "%s/cache/state.gdbm", tmp);
	(void)skip_all;
	test_expiry();
	test_cap();
	test_damaged();
	test_clears();
	test_digest();
	tu_rmrf(tmp);
	return done_testing();
}
