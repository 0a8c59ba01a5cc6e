/* Grace records (grace.h).  The file is one line,
 *   flowtotp-grace 1 first=SECONDS extend=DAYS
 * parsed strictly: anything else is FT_ERR_CORRUPT, which the callers
 * treat as "grace over", so a damaged record can never extend the grace. */
#include <config.h>

#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "grace.h"
#include "rc.h"
#include "safefile.h"
#ifdef HAVE_REDIS
#include "state_redis.h"
#endif
#include "wipe.h"

#define GRACE_MAGIC "flowtotp-grace 1 "
#define GRACE_MODE 0600
#define GRACE_DIR_MODE 0700
#define GRACE_FORBIDDEN 077
#define GRACE_MAX_SIZE 128U
#define ROOT_ID 0
#define DECIMAL 10

static int
record_path(const char *dir, const char *user, char *out, size_t outlen,
    char *err, size_t errlen)
{
	int n;

	if (user == NULL || user[0] == '\0' || user[0] == '.' ||
	    strchr(user, '/') != NULL)
		return ft_seterr(
		    err, errlen, FT_ERR_ARG, "user name not usable in a path");
	n = snprintf(out, outlen, "%s/%s", dir, user);
	if (n < 0 || (size_t)n >= outlen)
		return ft_seterr(
		    err, errlen, FT_ERR_TOOBIG, "grace record path too long");
	return FT_OK;
}

/* A decimal number at *p up to the stop character; false if not one. */
static bool
number(const char **p, char stop, uint64_t max, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (max - (uint64_t)(*s - '0')) / DECIMAL)
			return false;
		v = v * DECIMAL + (uint64_t)(*s - '0');
	}
	if (*s != stop)
		return false;
	*p = s + 1;
	*out = v;
	return true;
}

static int
parse(const char *buf, size_t len, struct ft_grace *g, char *err, size_t errlen)
{
	const char *p = buf;
	uint64_t first = 0, ext = 0;
	size_t m = strlen(GRACE_MAGIC);

	if (strlen(buf) != len || strncmp(p, GRACE_MAGIC, m) != 0)
		goto bad;
	p += m;
	if (strncmp(p, "first=", strlen("first=")) != 0)
		goto bad;
	p += strlen("first=");
	if (!number(&p, ' ', INT64_MAX, &first) || first == 0)
		goto bad;
	if (strncmp(p, "extend=", strlen("extend=")) != 0)
		goto bad;
	p += strlen("extend=");
	if (!number(&p, '\n', FT_GRACE_DAYS_MAX, &ext) || *p != '\0')
		goto bad;
	g->first = (int64_t)first;
	g->extend_days = (unsigned)ext;
	return FT_OK;
bad:
	return ft_seterr(err, errlen, FT_ERR_CORRUPT,
	    "grace record does not parse (damaged)");
}

/* The record's one line; its length, or a negative ft_rc. */
static int
format(
    const struct ft_grace *g, char *line, size_t len, char *err, size_t errlen)
{
	int n;

	if (g->first <= 0 || g->extend_days > FT_GRACE_DAYS_MAX)
		return ft_seterr(err, errlen, FT_ERR_ARG, "bad grace record");
	n = snprintf(line, len, GRACE_MAGIC "first=%" PRId64 " extend=%u\n",
	    g->first, g->extend_days);
	if (n < 0 || (size_t)n >= len)
		return ft_seterr(err, errlen, FT_ERR_TOOBIG, "grace record");
	return n;
}

int
ft_grace_read(const char *dir, const char *user, struct ft_grace *g, char *err,
    size_t errlen)
{
	struct ft_file_policy pol = {.owner = ROOT_ID,
	    .allow_root = true,
	    .forbidden_mode = GRACE_FORBIDDEN,
	    .max_size = GRACE_MAX_SIZE};
	char path[PATH_MAX];
	char *buf = NULL;
	size_t len = 0;
	int rc;

	memset(g, 0, sizeof(*g));
	if ((rc = record_path(dir, user, path, sizeof(path), err, errlen)) !=
	    FT_OK)
		return rc;
	rc = ft_safe_read(path, &pol, &buf, &len, err, errlen);
	if (rc != FT_OK)
		return rc;
	rc = parse(buf, len, g, err, errlen);
	ft_wipe_free(buf, len);
	return rc;
}

int
ft_grace_write(const char *dir, const char *user, const struct ft_grace *g,
    char *err, size_t errlen)
{
	struct ft_file_owner own = {
	    .mode = GRACE_MODE, .uid = ROOT_ID, .gid = ROOT_ID};
	char path[PATH_MAX], line[GRACE_MAX_SIZE];
	int rc, n;

	if ((rc = record_path(dir, user, path, sizeof(path), err, errlen)) !=
	    FT_OK)
		return rc;
	rc = ft_ensure_dir(dir, GRACE_DIR_MODE, ROOT_ID, ROOT_ID, err, errlen);
	if (rc != FT_OK)
		return rc;
	if ((n = format(g, line, sizeof(line), err, errlen)) < 0)
		return n;
	return ft_atomic_write(path, line, (size_t)n, &own, err, errlen);
}

int
ft_grace_remove(const char *dir, const char *user, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int rc;

	if ((rc = record_path(dir, user, path, sizeof(path), err, errlen)) !=
	    FT_OK)
		return rc;
	return ft_safe_unlink(path, err, errlen);
}

int64_t
ft_grace_end(const struct ft_grace *g, unsigned days)
{
	int64_t span =
	    ((int64_t)days + (int64_t)g->extend_days) * FT_GRACE_DAY_SECONDS;

	if (g->first > INT64_MAX - span)
		return INT64_MAX;
	return g->first + span;
}

/* ---- the store the configuration selects ---- */

static bool
in_redis(const struct ft_config *c)
{
	return strcmp(c->cache, FT_CACHE_REDIS) == 0;
}

const char *
ft_grace_source(const struct ft_config *c)
{
	return in_redis(c) ? "redis" : "file";
}

#ifdef HAVE_REDIS
static int
redis_load(const struct ft_config *c, const char *user, struct ft_grace *g,
    char *err, size_t errlen)
{
	char buf[GRACE_MAX_SIZE];
	int rc;

	rc = ft_state_redis_grace_get(c, user, buf, sizeof(buf), err, errlen);
	if (rc != FT_OK)
		return rc;
	return parse(buf, strlen(buf), g, err, errlen);
}

/* stored NULL: replace the record; else only a new one (SET NX). */
static int
redis_store(const struct ft_config *c, const char *user,
    const struct ft_grace *g, bool *stored, char *err, size_t errlen)
{
	char line[GRACE_MAX_SIZE];
	int n;

	if ((n = format(g, line, sizeof(line), err, errlen)) < 0)
		return n;
	if (stored == NULL)
		return ft_state_redis_grace_put(c, user, line, err, errlen);
	return ft_state_redis_grace_create(c, user, line, stored, err, errlen);
}
#else
static int
no_redis(char *err, size_t errlen)
{
	return ft_seterr(
	    err, errlen, FT_ERR_UNSUPPORTED, "this build has no Redis support");
}
#endif

int
ft_grace_load(const struct ft_config *c, const char *user, struct ft_grace *g,
    char *err, size_t errlen)
{
	memset(g, 0, sizeof(*g));
	if (!in_redis(c))
		return ft_grace_read(c->grace_dir, user, g, err, errlen);
#ifdef HAVE_REDIS
	return redis_load(c, user, g, err, errlen);
#else
	return no_redis(err, errlen);
#endif
}

int
ft_grace_create(const struct ft_config *c, const char *user,
    const struct ft_grace *g, bool *created, char *err, size_t errlen)
{
	struct ft_grace old;
	int rc;

	*created = false;
	if (in_redis(c)) {
#ifdef HAVE_REDIS
		return redis_store(c, user, g, created, err, errlen);
#else
		return no_redis(err, errlen);
#endif
	}
	rc = ft_grace_read(c->grace_dir, user, &old, err, errlen);
	if (rc != FT_ERR_NOENT)
		return rc == FT_OK || rc == FT_ERR_CORRUPT ? FT_OK : rc;
	rc = ft_grace_write(c->grace_dir, user, g, err, errlen);
	*created = rc == FT_OK;
	return rc;
}

int
ft_grace_save(const struct ft_config *c, const char *user,
    const struct ft_grace *g, char *err, size_t errlen)
{
	if (!in_redis(c))
		return ft_grace_write(c->grace_dir, user, g, err, errlen);
#ifdef HAVE_REDIS
	return redis_store(c, user, g, NULL, err, errlen);
#else
	return no_redis(err, errlen);
#endif
}

int
ft_grace_delete(
    const struct ft_config *c, const char *user, char *err, size_t errlen)
{
	if (!in_redis(c))
		return ft_grace_remove(c->grace_dir, user, err, errlen);
#ifdef HAVE_REDIS
	return ft_state_redis_grace_del(c, user, err, errlen);
#else
	return no_redis(err, errlen);
#endif
}
