/* Delivery records in the gdbm cache (state_gdbm.c, FT_OP_DELIVER): a
 * record of their own beside the login record, never under a user name; a
 * redeem creates none; a damaged or newer one refuses its own user only
 * and is kept; totp-enroll reset (ft_state_forget) removes it. */
#include <config.h>

#include <gdbm.h>
#include <stdint.h>
#include <string.h>

#include "conf.h"
#include "rc.h"
#include "state.h"
#include "util.h"

#define T0 1700000000
#define ERRLEN 512
#define KEY_PREFIX "deliver" /* and its NUL */

static int
run(struct ft_state *st, const char *user, enum ft_deliver_action a,
    uint8_t fill, enum ft_deliver_verdict *v)
{
	struct ft_state_deliver d;
	char err[ERRLEN] = "";
	int rc;

	memset(&d, 0, sizeof(d));
	d.user = user;
	d.now = T0;
	d.action = a;
	memset(d.mac, fill, sizeof(d.mac));
	d.ttl = 300;
	d.per_minute = 5;
	d.per_hour = 5;
	rc = ft_state_deliver(st, &d, err, sizeof(err));
	*v = d.verdict;
	if (rc != FT_OK)
		diag("%s", err);
	return rc;
}

/* The value under key (klen bytes) in the file, its size or -1 if none. */
static int
fetch_size(const char *cache, const char *key, int klen, uint8_t *first)
{
	GDBM_FILE db = gdbm_open(cache, 0, GDBM_READER, 0600, NULL);
	datum k = {.dptr = (char *)(uintptr_t)key, .dsize = klen};
	datum v;
	int n = -1;

	if (db == NULL)
		return -2;
	v = gdbm_fetch(db, k);
	if (v.dptr != NULL) {
		n = v.dsize;
		*first = (uint8_t)v.dptr[0];
		free(v.dptr);
	}
	(void)gdbm_close(db);
	return n;
}

static int
plant(const char *cache, const char *key, int klen, const void *val, int n)
{
	GDBM_FILE db = gdbm_open(cache, 0, GDBM_WRITER, 0600, NULL);
	datum k = {.dptr = (char *)(uintptr_t)key, .dsize = klen};
	datum d = {.dptr = (char *)(uintptr_t)val, .dsize = n};
	int rc;

	if (db == NULL)
		return -1;
	rc = gdbm_store(db, k, d, GDBM_REPLACE);
	return gdbm_close(db) == 0 ? rc : -1;
}

static int
dkey(const char *user, char *buf, size_t len)
{
	size_t n = strlen(user);

	if (sizeof(KEY_PREFIX) + n > len)
		return 0;
	memcpy(buf, KEY_PREFIX, sizeof(KEY_PREFIX));
	memcpy(buf + sizeof(KEY_PREFIX), user, n);
	return (int)(sizeof(KEY_PREFIX) + n);
}

int
main(void)
{
	struct ft_config c;
	struct ft_state *st = NULL;
	enum ft_deliver_verdict v;
	char cache[PATH_MAX], err[ERRLEN] = "", key[64];
	uint8_t first = 0, junk[72] = {1, 1};
	int klen;

	tdir_make();
	ft_config_defaults(&c);
	tu_fmt(cache, sizeof(cache), "%s/c/state.gdbm", tdir);
	(void)snprintf(c.cache, sizeof(c.cache), "%s", cache);
	if (ft_state_open(&c, 0U, &st, err, sizeof(err)) != FT_OK)
		bail_out("open: %s", err);
	ok(run(st, "alice", FT_DELIVER_REDEEM, 1, &v) == FT_OK &&
		v == FT_DELIVER_NO_MATCH,
	    "redeem without a record: no match");
	klen = dkey("alice", key, sizeof(key));
	is_int(fetch_size(cache, key, klen, &first), -1,
	    "and no record was created");
	ok(run(st, "alice", FT_DELIVER_ISSUE, 7, &v) == FT_OK &&
		v == FT_DELIVER_ISSUED,
	    "a request is issued");
	ok(fetch_size(cache, key, klen, &first) == 72 && first == 1,
	    "stored as a 72-byte version 1 record under deliver NUL alice");
	is_int(fetch_size(cache, "alice", 5, &first), -1,
	    "the user-name key holds no delivery data");
	klen = dkey("bob", key, sizeof(key));
	ok(plant(cache, key, klen, junk, 10) == 0, "planted a short record");
	ok(run(st, "bob", FT_DELIVER_ISSUE, 7, &v) == FT_ERR_CORRUPT &&
		v == FT_DELIVER_REFUSED,
	    "a damaged record refuses its user (fail closed)");
	junk[0] = 2;
	ok(plant(cache, key, klen, junk, 72) == 0 &&
		run(st, "bob", FT_DELIVER_REDEEM, 7, &v) == FT_ERR_VERSION,
	    "a newer record refuses its user");
	ok(fetch_size(cache, key, klen, &first) == 72 && first == 2,
	    "and is kept as it is");
	ok(run(st, "alice", FT_DELIVER_REDEEM, 7, &v) == FT_OK &&
		v == FT_DELIVER_REDEEMED,
	    "another user is not affected");
	ok(ft_state_forget(st, "bob", err, sizeof(err)) == FT_OK &&
		fetch_size(cache, key, klen, &first) == -1,
	    "reset removes the delivery record");
	ft_state_close(st);
	return done_testing();
}
