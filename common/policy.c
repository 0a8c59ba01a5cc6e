/* Rollout policy (policy.h).  Groups come from the user database through
 * getgrouplist (primary group plus supplementary groups from every NSS
 * source), names through getgrnam_r; nothing is cached between calls. */
#include <config.h>

#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "conf.h"
#include "policy.h"
#include "rc.h"

#define GROUP_PREFIX "group:"
#define WORD_ALL "all"
#define WORD_NONE "none"
/* Room for a user's groups: start small, grow to what getgrouplist asks
 * for, but never past a bound a hostile directory could not exceed. */
#define NGROUPS_START 64
#define NGROUPS_LIMIT 65536
/* getgrnam_r buffer: grown on ERANGE up to the bound. */
#define GRBUF_START 1024U
#define GRBUF_LIMIT (1024U * 1024U)
#define NAME_MAX_LEN 64U /* longer group names are refused in the config */
/* The gid given for an unknown user (getgrouplist still asks NSS). */
#define NO_GID ((gid_t)-1)

static bool
name_char_ok(char ch)
{
	return ch != ',' && ch != ':' && ch != ' ' && ch != '\t' &&
	    (unsigned char)ch > ' ' && (unsigned char)ch != 0x7fU;
}

int
ft_policy_check_list(
    const char *value, bool allow_words, char *err, size_t errlen)
{
	const char *p = value;
	size_t n, pre = strlen(GROUP_PREFIX);

	if (allow_words &&
	    (strcmp(value, WORD_ALL) == 0 || strcmp(value, WORD_NONE) == 0))
		return FT_OK;
	if (!allow_words && value[0] == '\0')
		return FT_OK;
	for (;;) {
		if (strncmp(p, GROUP_PREFIX, pre) != 0)
			break;
		p += pre;
		for (n = 0; name_char_ok(p[n]); n++)
			;
		if (n == 0 || n > NAME_MAX_LEN)
			break;
		p += n;
		if (*p == '\0')
			return FT_OK;
		if (*p != ',')
			break;
		p++;
	}
	return ft_seterr(err, errlen, FT_ERR_PARSE,
	    "expected %sgroup:NAME[,group:NAME...]",
	    allow_words ? "all, none or " : "");
}

/* The user's gids; FT_OK with *out malloc'd, or an error (why set). */
static int
user_groups(
    const char *name, gid_t gid, gid_t **out, int *n, char *why, size_t whylen)
{
	int want = NGROUPS_START, got;
	gid_t *g = NULL, *ng;

	for (;;) {
		ng = realloc(g, (size_t)want * sizeof(*g));
		if (ng == NULL) {
			free(g);
			return ft_seterr(why, whylen, FT_ERR_NOMEM,
			    "group lookup: out of memory");
		}
		g = ng;
		got = want;
		if (getgrouplist(name, gid, g, &got) >= 0)
			break;
		if (got <= want || got > NGROUPS_LIMIT) {
			free(g);
			return ft_seterr(why, whylen, FT_ERR_BACKEND,
			    "group lookup for the user failed");
		}
		want = got;
	}
	*out = g;
	*n = got;
	return FT_OK;
}

/* The gid of group name[0..len); a group that does not exist is an error
 * too: a typo in require= must not let everyone in unasked. */
static int
group_gid(const char *name, size_t len, gid_t *gid, char *why, size_t whylen)
{
	char gname[NAME_MAX_LEN + 1U];
	struct group gr, *res = NULL;
	size_t blen = GRBUF_START;
	char *buf = NULL, *nb;
	int e;

	memcpy(gname, name, len);
	gname[len] = '\0';
	do {
		if ((nb = realloc(buf, blen)) == NULL) {
			e = ENOMEM;
			break;
		}
		buf = nb;
		e = getgrnam_r(gname, &gr, buf, blen, &res);
		blen *= 2U;
	} while (e == ERANGE && blen <= GRBUF_LIMIT);
	if (e == 0 && res != NULL)
		*gid = res->gr_gid;
	free(buf);
	if (e != 0)
		return ft_seterr(why, whylen, FT_ERR_BACKEND,
		    "group lookup failed for group %s: %s", gname, strerror(e));
	if (res == NULL)
		return ft_seterr(why, whylen, FT_ERR_NOENT,
		    "group %s does not exist", gname);
	return FT_OK;
}

struct gidset {
	const gid_t *g;
	int n;
};

static bool
has_gid(const struct gidset *s, gid_t gid)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->g[i] == gid)
			return true;
	return false;
}

/* Is the user in a group of list ("group:A,group:B")?  Every group of the
 * list is looked up, member or not, so the work does not depend on the
 * answer.  *hit is the first matching name (empty if none). */
static int
in_list(const char *list, const struct gidset *s, char *hit, size_t hitlen,
    char *why, size_t whylen)
{
	const char *p = list;
	size_t n, pre = strlen(GROUP_PREFIX);
	gid_t gid = 0;
	int rc, first = FT_OK;

	hit[0] = '\0';
	while (strncmp(p, GROUP_PREFIX, pre) == 0) {
		p += pre;
		n = strcspn(p, ",");
		rc = group_gid(p, n, &gid, why, whylen);
		if (rc != FT_OK && first == FT_OK)
			first = rc;
		if (rc == FT_OK && hit[0] == '\0' && has_gid(s, gid))
			(void)snprintf(hit, hitlen, "%.*s", (int)n, p);
		p += n;
		if (*p == ',')
			p++;
	}
	return first;
}

/* Does the list name a group at all?  The configuration alone decides
 * whether anyone's groups are looked up, so the work stays the same for
 * every user, and a site without group rules does not scan the group
 * database (every line of /etc/group with nss files) at every login. */
static bool
names_groups(const char *list)
{
	return strncmp(list, GROUP_PREFIX, strlen(GROUP_PREFIX)) == 0;
}

static void
decide(const struct ft_config *c, bool ex, const char *exhit, bool req_in,
    const char *reqhit, struct ft_policy *out)
{
	const char *req = c->nullok ? WORD_NONE : c->require;
	size_t wl = sizeof(out->why);

	if (ex) {
		out->exempt = true;
		(void)snprintf(
		    out->why, wl, "exempt: member of group %s", exhit);
	} else if (strcmp(req, WORD_ALL) == 0) {
		out->required = true;
		(void)snprintf(out->why, wl, "required: require=all");
	} else if (strcmp(req, WORD_NONE) == 0) {
		(void)snprintf(out->why, wl, "not required: %s",
		    c->nullok ? "nullok" : "require=none");
	} else if (req_in) {
		out->required = true;
		(void)snprintf(
		    out->why, wl, "required: member of group %s", reqhit);
	} else {
		(void)snprintf(out->why, wl,
		    "not required: in no group of require=%s", req);
	}
}

static void
fail_closed(struct ft_policy *out, const char *why)
{
	char msg[FT_CONF_STR_MAX];

	(void)snprintf(msg, sizeof(msg), "%s", why);
	out->required = true;
	out->exempt = false;
	out->lookup_failed = true;
	(void)snprintf(
	    out->why, sizeof(out->why), "required (not exempt): %s", msg);
}

void
ft_policy_eval(const struct ft_config *c, const char *name,
    const struct passwd *pw, struct ft_policy *out)
{
	char exhit[NAME_MAX_LEN + 1U], reqhit[NAME_MAX_LEN + 1U];
	char why[FT_CONF_STR_MAX];
	const char *req = c->nullok ? WORD_NONE : c->require;
	struct gidset s = {NULL, 0};
	gid_t *g = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	why[0] = '\0';
	exhit[0] = '\0';
	reqhit[0] = '\0';
	rc = FT_OK;
	if (names_groups(c->exempt) || names_groups(req))
		rc = user_groups(pw != NULL ? pw->pw_name : name,
		    pw != NULL ? pw->pw_gid : NO_GID, &g, &s.n, why,
		    sizeof(why));
	s.g = g;
	if (rc == FT_OK)
		rc = in_list(
		    c->exempt, &s, exhit, sizeof(exhit), why, sizeof(why));
	if (rc == FT_OK)
		rc = in_list(req, &s, reqhit, sizeof(reqhit), why, sizeof(why));
	free(g);
	if (pw == NULL) {
		out->required = true;
		(void)snprintf(
		    out->why, sizeof(out->why), "required: unknown user");
	} else if (rc != FT_OK) {
		fail_closed(out, why);
	} else {
		decide(
		    c, exhit[0] != '\0', exhit, reqhit[0] != '\0', reqhit, out);
	}
}
