/* Delivered codes below the module: the record and its rules
 * (state_deliver.c: windows, one code at a time, once, expiry, damaged
 * records), the code generator (digits only, every digit about as often),
 * the keyed hash (user and code cannot be shifted into each other), the
 * command path check and, as root, the spawn's exit, signal and time-out
 * verdicts. */
#include <config.h>

#include <pwd.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "deliver.h"
#include "rc.h"
#include "state_deliver.h"
#include "util.h"

#define T0 1700000000
#define DRAWS 20000U	 /* codes of 6 digits: 120000 digits */
#define DIGIT_SLACK 600U /* ~6 standard deviations of a count of 12000 */

static struct ft_state_deliver
req(enum ft_deliver_action a, int64_t now, uint8_t fill)
{
	struct ft_state_deliver d;

	memset(&d, 0, sizeof(d));
	d.user = "alice";
	d.now = (time_t)now;
	d.action = a;
	memset(d.mac, fill, sizeof(d.mac));
	d.ttl = 300;
	d.per_minute = 1;
	d.per_hour = 3;
	return d;
}

static void
test_rules(void)
{
	struct ft_deliver_rec r;
	struct ft_state_deliver d;
	int k, sent = 0;

	memset(&r, 0, sizeof(r));
	d = req(FT_DELIVER_ISSUE, T0, 0xaa);
	ok(ft_deliver_apply(&d, &r) && d.verdict == FT_DELIVER_ISSUED &&
		r.expires == T0 + 300,
	    "first request issued, expiry now + ttl");
	d = req(FT_DELIVER_ISSUE, T0 + 59, 0xbb);
	(void)ft_deliver_apply(&d, &r);
	ok(d.verdict == FT_DELIVER_LIMITED && r.mac[0] == 0xaa,
	    "a second in the minute is limited and keeps the first code");
	d = req(FT_DELIVER_REDEEM, T0 + 60, 0xbb);
	ok(!ft_deliver_apply(&d, &r) && d.verdict == FT_DELIVER_NO_MATCH &&
		r.expires != 0,
	    "a wrong hash does not match and leaves the code");
	d = req(FT_DELIVER_REDEEM, T0 + 60, 0xaa);
	ok(ft_deliver_apply(&d, &r) && d.verdict == FT_DELIVER_REDEEMED &&
		r.expires == 0,
	    "the right one is redeemed and the code gone");
	d = req(FT_DELIVER_REDEEM, T0 + 61, 0xaa);
	(void)ft_deliver_apply(&d, &r);
	is_int(d.verdict, FT_DELIVER_NO_MATCH, "it works once");
	for (k = 1; k <= 4; k++) {
		d = req(FT_DELIVER_ISSUE, T0 + 60 * k, (uint8_t)k);
		(void)ft_deliver_apply(&d, &r);
		sent += d.verdict == FT_DELIVER_ISSUED;
	}
	is_int(sent, 2, "per_hour=3: two more in the hour");
	d = req(FT_DELIVER_ISSUE, T0 + 3600, 9);
	(void)ft_deliver_apply(&d, &r);
	is_int(d.verdict, FT_DELIVER_ISSUED, "a new hour window");
	d = req(FT_DELIVER_REDEEM, T0 + 3600 + 300, 9);
	ok(ft_deliver_apply(&d, &r) && d.verdict == FT_DELIVER_NO_MATCH &&
		r.expires == 0,
	    "at the expiry it fails, and the expired code is dropped");
	d = req(FT_DELIVER_ISSUE, T0 + 10, 7);
	(void)ft_deliver_apply(&d, &r);
	ok(d.verdict == FT_DELIVER_ISSUED && r.start_minute == T0 + 10,
	    "a clock set back starts new windows");
}

static void
test_record(void)
{
	uint8_t buf[FT_DELIVER_REC_SIZE];
	struct ft_deliver_rec r, back;

	memset(&r, 0, sizeof(r));
	r.n_minute = 1;
	r.start_minute = T0;
	r.n_hour = 4;
	r.start_hour = T0 - 100;
	r.expires = T0 + 300;
	memset(r.mac, 0x5a, sizeof(r.mac));
	ft_deliver_rec_encode(&r, buf);
	ok(ft_deliver_rec_decode(buf, sizeof(buf), &back) == FT_OK &&
		memcmp(&r, &back, sizeof(r)) == 0,
	    "record round trip");
	is_int(ft_deliver_rec_decode(buf, sizeof(buf) - 1U, &back),
	    FT_ERR_CORRUPT, "short record: corrupt");
	buf[0] = 2;
	is_int(ft_deliver_rec_decode(buf, sizeof(buf), &back), FT_ERR_VERSION,
	    "newer version: refused as such");
	buf[0] = 1;
	buf[2] = 1;
	is_int(ft_deliver_rec_decode(buf, sizeof(buf), &back), FT_ERR_CORRUPT,
	    "reserved byte set: corrupt");
	buf[2] = 0;
	buf[39] = 0x80; /* expiry negative */
	is_int(ft_deliver_rec_decode(buf, sizeof(buf), &back), FT_ERR_CORRUPT,
	    "negative time: corrupt");
}

static void
test_code_and_mac(void)
{
	static const uint8_t key[FT_DELIVER_KEY_BYTES] = {1, 2, 3};
	uint8_t m1[FT_DELIVER_MAC_LEN], m2[FT_DELIVER_MAC_LEN];
	unsigned count[10] = {0}, i, j, lo = ~0U, hi = 0;
	char code[16];
	bool digits = true;

	for (i = 0; i < DRAWS; i++) {
		if (ft_deliver_code(6, code, sizeof(code)) != FT_OK ||
		    strlen(code) != 6) {
			digits = false;
			break;
		}
		for (j = 0; j < 6; j++) {
			digits = digits && code[j] >= '0' && code[j] <= '9';
			count[(code[j] - '0') % 10]++;
		}
	}
	for (i = 0; i < 10; i++) {
		lo = count[i] < lo ? count[i] : lo;
		hi = count[i] > hi ? count[i] : hi;
	}
	ok(digits, "codes are 6 decimal digits");
	ok(lo + DIGIT_SLACK >= DRAWS * 6U / 10U &&
		hi <= DRAWS * 6U / 10U + DIGIT_SLACK,
	    "every digit about equally often (%u..%u of %u)", lo, hi,
	    DRAWS * 6U / 10U);
	is_int(ft_deliver_code(5, code, sizeof(code)), FT_ERR_ARG,
	    "5 digits refused");
	ok(ft_deliver_mac(key, "ab", "1", m1) == FT_OK &&
		ft_deliver_mac(key, "a", "b1", m2) == FT_OK &&
		memcmp(m1, m2, sizeof(m1)) != 0,
	    "user and code are separated in the hash");
	ok(ft_deliver_mac(key, "ab", "1", m2) == FT_OK &&
		memcmp(m1, m2, sizeof(m1)) == 0,
	    "the hash is deterministic");
}

/* Root: a link in an otherwise acceptable directory (root's, 0755). */
static void
test_symlink(void)
{
	char dir[] = "/var/lib/ft-dlv-unit-XXXXXX", link[sizeof(dir) + 8];
	char err[512] = "";
	int rc;

	if (geteuid() != 0 || mkdtemp(dir) == NULL || chmod(dir, 0755) != 0) {
		ok(1, "# SKIP symlink: not root, or no room in /var/lib");
		return;
	}
	(void)snprintf(link, sizeof(link), "%s/link", dir);
	rc = symlink("/usr/bin/env", link) == 0
	    ? ft_deliver_command_ok(link, err, sizeof(err))
	    : FT_OK;
	ok(rc == FT_ERR_UNSAFE && contains(err, "symbolic link"),
	    "a symbolic link is refused (%s)", err);
	(void)unlink(link);
	(void)rmdir(dir);
}

static void
test_command_ok(void)
{
	char err[512] = "";
	const char *f = tpath("cmd");

	write_str(f, "#!/bin/sh\nexit 0\n", 0755);
	ok(ft_deliver_command_ok("/usr/bin/env", err, sizeof(err)) == FT_OK,
	    "/usr/bin/env is acceptable (%s)", err);
	test_symlink();
	ok(ft_deliver_command_ok(f, err, sizeof(err)) != FT_OK,
	    "a command under a world-writable /tmp is refused (%s)", err);
	ok(ft_deliver_command_ok("sh", err, sizeof(err)) == FT_ERR_ARG,
	    "a relative path is refused");
	ok(ft_deliver_command_ok("/usr/bin/", err, sizeof(err)) == FT_ERR_ARG,
	    "a directory path is refused");
	ok(ft_deliver_command_ok("/usr/../bin/sh", err, sizeof(err)) ==
		FT_ERR_UNSAFE,
	    "\"..\" is refused");
	ok(ft_deliver_command_ok("/etc/passwd", err, sizeof(err)) ==
		FT_ERR_UNSAFE,
	    "a file that is not executable is refused");
}

/* Root: the verdicts of a run as nobody. */
static void
test_spawn(void)
{
	static const char *const bodies[] = {
	    "#!/bin/sh\ncat >/dev/null\nexit 0\n",
	    "#!/bin/sh\nexit 3\n",
	    "#!/bin/sh\nkill -9 $$\n",
	    "#!/bin/sh\nexec sleep 30\n",
	};
	static const char *const want[] = {
	    "", "exited with status 3", "signal 9", "longer than 1 s"};
	const struct passwd *pw = getpwnam("nobody");
	struct ft_deliver_run r;
	char err[512], name[16];
	size_t i;
	int rc;

	if (geteuid() != 0 || pw == NULL) {
		ok(1, "# SKIP spawn: not root or no user nobody");
		return;
	}
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		(void)snprintf(name, sizeof(name), "s%zu", i);
		write_str(tpath(name), bodies[i], 0755);
		memset(&r, 0, sizeof(r));
		r.path = tpath(name);
		r.uid = pw->pw_uid;
		r.gid = pw->pw_gid;
		r.input = "alice\na@example.org\n123456\n";
		r.inputlen = strlen(r.input);
		r.timeout_s = 1;
		err[0] = '\0';
		rc = ft_deliver_spawn(&r, err, sizeof(err));
		ok(i == 0 ? rc == FT_OK
			  : rc != FT_OK && contains(err, want[i]) &&
			    !contains(err, "123456"),
		    "spawn %zu: %s", i, i == 0 ? "exit 0" : err);
	}
}

int
main(void)
{
	tdir_make();
	test_rules();
	test_record();
	test_code_and_mac();
	test_command_ok();
	test_spawn();
	return done_testing();
}
