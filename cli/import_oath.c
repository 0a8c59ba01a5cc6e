/* totp-enroll import --from pam_oath --usersfile FILE [USER...]: take users
 * over from oath-toolkit's pam_oath.  Each TOTP entry (HOTP/T30, HOTP/T60)
 * of the usersfile becomes a normal flowtotp enrolment with the same key,
 * digits and period, so the phones keep working; new backup codes are
 * printed once.  What flowtotp cannot carry over is refused per user with
 * the reason: HOTP (counter) tokens, PINs (the account password is the
 * first factor here), several tokens for one user.  The whole file is read
 * and checked before anything is written, and never written itself:
 * pam_oath may still be in the PAM stack. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "clock.h"
#include "cli.h"
#include "oathfile.h"
#include "rc.h"
#include "wipe.h"

/* Root's file, written by nobody else; readable by others would already
 * be a leak, but refusing it would not undo that. */
#define USERSFILE_FORBIDDEN_MODE 022
#define ENTRIES_FIRST 16U

/* One entry of a selected user. */
struct sel {
	struct cli_oath_entry e;
	unsigned ntokens; /* entries of this user in the file */
	bool first;	  /* the first of them (reports for all) */
};

struct oath_run {
	const char *path;
	struct sel *v; /* selected entries, file order */
	size_t n, cap;
	int worst; /* highest exit code of a user */
	unsigned imported, refused;
	bool json_first;
};

/* A new user's secret and the backup codes shown once. */
struct one {
	struct cli_target t;
	struct ft_secret s;
	char codes[FT_BACKUP_MAX][FT_BACKUP_SHOWN_BUFSZ];
	bool existed;
};

static void
run_free(struct oath_run *r)
{
	if (r->v != NULL)
		ft_wipe_free(r->v, r->cap * sizeof(*r->v));
	r->v = NULL;
	r->n = r->cap = 0;
}

/* Room for one more: a new block, the old one wiped (realloc could leave
 * keys behind in freed memory). */
static int
grow(struct oath_run *r)
{
	size_t cap = r->cap == 0 ? ENTRIES_FIRST : r->cap * 2U;
	struct sel *v;

	if (r->n < r->cap)
		return CLI_EX_OK;
	if (cap > SIZE_MAX / sizeof(*v) ||
	    (v = calloc(cap, sizeof(*v))) == NULL)
		return cli_err(CLI_EX_FAIL, "out of memory");
	if (r->v != NULL) {
		memcpy(v, r->v, r->n * sizeof(*v));
		ft_wipe_free(r->v, r->cap * sizeof(*r->v));
	}
	r->v = v;
	r->cap = cap;
	return CLI_EX_OK;
}

static bool
named(const char *user, int argc, char **argv)
{
	int i;

	if (argc == 0)
		return true;
	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], user) == 0)
			return true;
	return false;
}

/* Every entry of the selected users, the whole file parsed first. */
static int
collect(struct oath_run *r, const char *buf, size_t len, int argc, char **argv)
{
	struct cli_oath_reader rd;
	struct cli_oath_entry e;
	char err[CLI_ERRLEN];
	int rc, ex = CLI_EX_OK;

	err[0] = '\0';
	rc = cli_oath_begin(&rd, buf, len, err, sizeof(err));
	while (rc == FT_OK && ex == CLI_EX_OK &&
	    (rc = cli_oath_next(&rd, &e, err, sizeof(err))) == 1) {
		rc = FT_OK;
		if (!named(e.user, argc, argv) || (ex = grow(r)) != CLI_EX_OK)
			continue;
		r->v[r->n++].e = e;
	}
	cli_oath_wipe(&e);
	if (ex != CLI_EX_OK)
		return ex;
	if (rc < 0)
		return cli_err(
		    CLI_EX_FAIL, "nothing imported: %s: %s", r->path, err);
	return CLI_EX_OK;
}

static int
by_user_line(const void *a, const void *b)
{
	const struct sel *x = *(const struct sel *const *)a;
	const struct sel *y = *(const struct sel *const *)b;
	int c = strcmp(x->e.user, y->e.user);

	if (c != 0)
		return c;
	return (x->e.line > y->e.line) - (x->e.line < y->e.line);
}

/* How many entries each user has (flowtotp keeps one secret per user),
 * through a sorted index: a usersfile may hold thousands of users. */
static int
count_tokens(struct oath_run *r)
{
	struct sel **idx;
	size_t i, j, k;

	if (r->n == 0)
		return CLI_EX_OK;
	if ((idx = calloc(r->n, sizeof(*idx))) == NULL)
		return cli_err(CLI_EX_FAIL, "out of memory");
	for (i = 0; i < r->n; i++)
		idx[i] = &r->v[i];
	qsort(idx, r->n, sizeof(*idx), by_user_line);
	for (i = 0; i < r->n; i = j) {
		for (j = i + 1; j < r->n; j++)
			if (strcmp(idx[i]->e.user, idx[j]->e.user) != 0)
				break;
		idx[i]->first = true;
		for (k = i; k < j; k++)
			idx[k]->ntokens = (unsigned)(j - i);
	}
	free(idx);
	return CLI_EX_OK;
}

/* Every user named must be in the file, before anything is written. */
static int
all_named_found(const struct oath_run *r, int argc, char **argv)
{
	int i, ex = CLI_EX_OK;
	size_t j;

	for (i = 0; i < argc; i++) {
		for (j = 0; j < r->n; j++)
			if (strcmp(r->v[j].e.user, argv[i]) == 0)
				break;
		if (j == r->n)
			ex = cli_err(CLI_EX_NOTENROLLED,
			    "%s has no entry in %s: nothing imported", argv[i],
			    r->path);
	}
	if (ex == CLI_EX_OK && r->n == 0)
		ex = cli_err(CLI_EX_NOTENROLLED,
		    "nothing to import: %s has no entries", r->path);
	return ex;
}

static int
read_error(const char *path, int rc, const char *err)
{
	if (rc == FT_ERR_NOENT)
		return cli_err(
		    CLI_EX_NOTENROLLED, "nothing to import: %s", err);
	if (rc == FT_ERR_UNSAFE)
		return cli_err(CLI_EX_FAIL,
		    "nothing imported: %s (a usersfile must be a regular "
		    "file, not a symlink, owned by root and writable by "
		    "nobody else: chown root %s; chmod 600 %s)",
		    err, path, path);
	return cli_err(CLI_EX_FAIL, "nothing imported: %s", err);
}

/* The usersfile, parsed; its bytes are wiped before this returns. */
static int
load(struct oath_run *r, int argc, char **argv)
{
	const struct ft_file_policy pol = {
	    0, true, USERSFILE_FORBIDDEN_MODE, CLI_OATH_MAX_SIZE};
	char err[CLI_ERRLEN];
	char *buf = NULL;
	size_t len = 0;
	int rc, ex;

	err[0] = '\0';
	rc = ft_safe_read(r->path, &pol, &buf, &len, err, sizeof(err));
	if (rc != FT_OK)
		return read_error(r->path, rc, err);
	ex = collect(r, buf, len, argc, argv);
	ft_wipe_free(buf, len);
	if (ex != CLI_EX_OK || (ex = count_tokens(r)) != CLI_EX_OK)
		return ex;
	return all_named_found(r, argc, argv);
}

/* ---- output ---- */

static void
json_open(struct oath_run *r, const struct sel *x)
{
	(void)printf("%s{\"user\":", r->json_first ? "" : ",");
	r->json_first = false;
	cli_json_str(stdout, x->e.user);
	(void)printf(",\"line\":%u", x->e.line);
}

static void
print_json(struct oath_run *r, const struct sel *x, const struct one *o)
{
	char when[64];
	size_t i;

	cli_time_iso((time_t)o->s.created, when, sizeof(when));
	json_open(r, x);
	(void)printf(",\"imported\":true,\"path\":");
	cli_json_str(stdout, o->t.path);
	(void)printf(",\"algorithm\":\"%s\",\"digits\":%u,\"period\":%u,"
		     "\"created\":%lld,\"created_utc\":\"%s\",\"replaced\":%s,"
		     "\"backup_codes\":[",
	    ft_algo_name(o->s.algo), o->s.digits, o->s.period,
	    (long long)o->s.created, when, o->existed ? "true" : "false");
	for (i = 0; i < o->s.nbackup; i++)
		(void)printf("%s\"%s\"", i > 0 ? "," : "", o->codes[i]);
	(void)printf("]}");
}

static void
print_text(const struct oath_run *r, const struct sel *x, const struct one *o)
{
	size_t i;

	(void)printf("Imported %s (line %u of %s) into %s\n(SHA1, %u digits, "
		     "every %u seconds); the authenticator app keeps working "
		     "as it is.\n",
	    o->t.name, x->e.line, r->path, o->t.path, o->s.digits, o->s.period);
	if (o->s.nbackup == 0) {
		(void)printf("\n");
		return;
	}
	(void)printf("New backup codes for %s: each works once, for when the "
		     "phone is not at hand.\nThey are shown only now; hand "
		     "them over safely.\n\n",
	    o->t.name);
	for (i = 0; i < o->s.nbackup; i++)
		(void)printf("  %s\n", o->codes[i]);
	(void)printf("\n");
}

/* A user not imported: the message is already on stderr. */
static void
refused(struct oath_run *r, const struct sel *x, int ex, const char *reason,
    bool json)
{
	r->refused++;
	if (ex > r->worst)
		r->worst = ex;
	if (!json)
		return;
	json_open(r, x);
	(void)printf(
	    ",\"imported\":false,\"reason\":\"%s\",\"exit\":%d}", reason, ex);
}

/* ---- one user ---- */

/* What flowtotp cannot take over, said per user: CLI_EX_OK or an exit
 * code (message printed, *reason set). */
static int
convertible(const struct oath_run *r, const struct sel *x, const char **reason)
{
	const char *u = x->e.user;

	*reason = x->e.kind == CLI_OATH_HOTP ? "hotp"
	    : x->e.pin			     ? "pin"
					     : "several_entries";
	if (x->e.kind == CLI_OATH_HOTP)
		return cli_err(CLI_EX_FAIL,
		    "not imported: %s (line %u): an HOTP (counter based) "
		    "token; flowtotp supports only TOTP (time based): enrol "
		    "%s afresh ('" CLI_PROG " enroll --user %s')",
		    u, x->e.line, u, u);
	if (x->e.pin)
		return cli_err(CLI_EX_FAIL,
		    "not imported: %s (line %u): the usersfile gives a PIN; "
		    "flowtotp keeps no PIN: the account password (the "
		    "module before pam_flowtotp in the stack) is the first "
		    "factor; to import anyway, set the PIN field to '-' in a "
		    "root-only copy of %s and import from that",
		    u, x->e.line, r->path);
	if (x->ntokens > 1)
		return cli_err(CLI_EX_FAIL,
		    "not imported: %s (line %u): %u entries (tokens) for "
		    "this user; flowtotp keeps one secret per user: keep "
		    "one line in a root-only copy of %s and import from that",
		    u, x->e.line, x->ntokens, r->path);
	return CLI_EX_OK;
}

static void
make_secret(const struct sel *x, struct ft_secret *s)
{
	memcpy(s->key, x->e.key, x->e.keylen);
	s->keylen = x->e.keylen;
	s->algo = FT_ALGO_SHA1; /* pam_oath's only algorithm */
	s->digits = x->e.digits;
	s->period = x->e.period;
	s->created = (int64_t)ft_now();
}

static int
save_one(struct cli_ctx *ctx, const struct oath_run *r, const struct sel *x,
    struct one *o)
{
	char err[CLI_ERRLEN];
	int ex, rc;

	if ((ex = cli_target(ctx, x->e.user, &o->t)) != CLI_EX_OK ||
	    (ex = cli_store_writable(ctx, &o->t)) != CLI_EX_OK ||
	    (ex = cli_check_existing(ctx, &o->t, &o->existed)) != CLI_EX_OK ||
	    (ex = cli_secret_prepare(ctx, &o->t)) != CLI_EX_OK)
		return ex;
	make_secret(x, &o->s);
	if ((ex = cli_make_backup_codes(ctx->cfg.backup_codes, o->codes,
		 o->s.backup, &o->s.nbackup)) != CLI_EX_OK)
		return ex;
	err[0] = '\0';
	rc = cli_secret_save(ctx, &o->t, &o->s, err, sizeof(err));
	if (rc != FT_OK)
		return cli_err(
		    cli_exit_for(rc) == CLI_EX_PERM ? CLI_EX_PERM : CLI_EX_FAIL,
		    "not imported: cannot save %s: %s", o->t.path, err);
	cli_log(ctx, "imported %s from pam_oath usersfile %s (line %u)%s",
	    o->t.name, r->path, x->e.line,
	    o->existed ? ", replacing an enrolment" : "");
	cli_state_restart(ctx, o->t.name, 0);
	return CLI_EX_OK;
}

/* The JSON reason for a user that could not be saved (message printed). */
static const char *
failure_reason(int ex)
{
	if (ex == CLI_EX_EXISTS)
		return "enrolled";
	if (ex == CLI_EX_USAGE)
		return "not_a_user";
	return ex == CLI_EX_PERM ? "permission" : "failed";
}

static int
import_one(struct cli_ctx *ctx, struct oath_run *r, const struct sel *x)
{
	const char *reason = NULL;
	struct one *o;
	int ex;

	if (!x->first)
		return CLI_EX_OK; /* a further token: reported with the first */
	if ((ex = convertible(r, x, &reason)) != CLI_EX_OK) {
		refused(r, x, ex, reason, ctx->o.json);
		return CLI_EX_OK;
	}
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return cli_err(CLI_EX_FAIL, "out of memory");
	ex = save_one(ctx, r, x, o);
	if (ex != CLI_EX_OK)
		refused(r, x, ex, failure_reason(ex), ctx->o.json);
	else if (ctx->o.json)
		print_json(r, x, o);
	else
		print_text(r, x, o);
	if (ex == CLI_EX_OK)
		r->imported++;
	ft_wipe(o, sizeof(*o));
	free(o);
	return CLI_EX_OK;
}

static void
summary(const struct oath_run *r, bool json)
{
	if (json) {
		(void)printf("],\"imported\":%u,\"refused\":%u}\n", r->imported,
		    r->refused);
		return;
	}
	(void)printf("%u imported, %u not imported.\n%s was left untouched: "
		     "pam_oath's counters and last used codes are not carried "
		     "over;\nremove the file once pam_oath is out of the PAM "
		     "stack.\n",
	    r->imported, r->refused, r->path);
}

int
cli_import_oath(
    struct cli_ctx *ctx, const char *usersfile, int argc, char **argv)
{
	struct oath_run r;
	size_t i;
	int ex;

	memset(&r, 0, sizeof(r));
	r.path = usersfile;
	r.json_first = true;
	if ((ex = load(&r, argc, argv)) != CLI_EX_OK)
		goto out;
	if (ctx->o.json) {
		(void)printf("{\"source\":");
		cli_json_str(stdout, r.path);
		(void)printf(",\"users\":[");
	}
	for (i = 0; i < r.n && ex == CLI_EX_OK; i++)
		ex = import_one(ctx, &r, &r.v[i]);
	summary(&r, ctx->o.json);
	if (ex == CLI_EX_OK)
		ex = r.worst;
out:
	run_free(&r);
	return ex;
}
