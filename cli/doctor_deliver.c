/* totp-enroll doctor: codes sent by a command (deliver=, pam_flowtotp(8)).
 * What the module needs at the code prompt of a user with a deliver
 * address: a command that passes the module's own safety check
 * (ft_deliver_command_ok), an account other than root to run it as, and
 * the key of the stored code hashes.  Users with an address and no
 * deliver= have no way to get a code. */
#include <config.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deliver.h"
#include "doctor.h"
#include "rc.h"
#include "secretstore.h"
#include "wipe.h"

#define ROOT_UID 0

static const struct doc_kind k_cmd = {"deliver-command-unsafe", DOC_ERROR,
    "the module refuses to run it, so no code is ever sent: give an "
    "absolute path to a regular executable file whose every directory and "
    "the file itself are root's and not writable by group or others, with "
    "no symlink on the way"};
static const struct doc_kind k_user = {"deliver-user", DOC_ERROR,
    "no code is ever sent: deliver_user must name an existing account "
    "other than root (the default is nobody)"};
static const struct doc_kind k_key = {"deliver-key", DOC_ERROR,
    "every code request of these users fails: the key must be root's, mode "
    "0600 or 0400, exactly 32 bytes; when it is missing, totp-enroll --user "
    "NAME --deliver ADDRESS --force makes a new one"};
static const struct doc_kind k_unset = {"deliver-unset", DOC_WARN,
    "no code can be sent to these users, and those without an app cannot "
    "log in at all: set deliver= to the command that sends codes, or enrol "
    "them with an app"};
static const struct doc_kind k_ok = {"deliver-ok", DOC_INFO,
    "nothing to do: the command, its user and the key are usable"};

/* The users with a deliver address: how many, how many of them with no
 * app (no secret), and the first by name. */
struct addressed {
	size_t n, only;
	char first[CLI_NAME_MAX];
};

static int
count_one(struct cli_ctx *ctx, const struct cli_target *t, void *arg)
{
	struct addressed *a = arg;
	struct ft_secret *s = malloc(sizeof(*s));
	char err[CLI_ERRLEN];

	(void)ctx;
	if (s == NULL)
		return cli_err(CLI_EX_FAIL, "out of memory");
	/* An unreadable file is the store checks' finding. */
	if (ft_secret_load(t->path, &t->pol, s, err, sizeof(err)) == FT_OK &&
	    s->deliver[0] != '\0') {
		if (a->n++ == 0)
			(void)snprintf(
			    a->first, sizeof(a->first), "%s", t->name);
		if (!s->sealed && s->keylen == 0)
			a->only++;
	}
	ft_secret_wipe(s);
	free(s);
	return 0;
}

static void
check_key(const struct ft_config *c, const struct addressed *a,
    struct doc_report *rep, bool *ok)
{
	uint8_t key[FT_DELIVER_KEY_BYTES];
	char err[CLI_ERRLEN];

	err[0] = '\0';
	if (ft_deliver_key_load(c->deliver_key, key, err, sizeof(err)) !=
	    FT_OK) {
		*ok = false;
		doc_add(rep, &k_key, &(struct doc_where){c->deliver_key, 0},
		    "%zu user(s) with an address (%s%s): %s", a->n, a->first,
		    a->n > 1 ? ", ..." : "", err);
	}
	ft_wipe(key, sizeof(key));
}

/* deliver= is set: what the module checks before each run. */
static void
check_set(const struct ft_config *c, const struct addressed *a,
    struct doc_report *rep)
{
	char err[CLI_ERRLEN];
	const struct passwd *pw;
	bool ok = true;

	err[0] = '\0';
	if (ft_deliver_command_ok(c->deliver, err, sizeof(err)) != FT_OK) {
		ok = false;
		doc_add(
		    rep, &k_cmd, &(struct doc_where){c->deliver, 0}, "%s", err);
	}
	/* Single-threaded command: the static result is fine. */
	// cppcheck-suppress getpwnamCalled
	pw = getpwnam(c->deliver_user);
	if (pw == NULL || pw->pw_uid == ROOT_UID) {
		ok = false;
		doc_add(rep, &k_user, &(struct doc_where){NULL, 0},
		    "deliver_user=%s: %s", c->deliver_user,
		    pw == NULL ? "no such user" : "it is root");
	}
	if (a->n > 0)
		check_key(c, a, rep, &ok);
	if (ok)
		doc_add(rep, &k_ok, &(struct doc_where){c->deliver, 0},
		    "%zu user(s) with an address; run as %s", a->n,
		    c->deliver_user);
}

void
doc_check_deliver(const struct cli_ctx *ctx, const struct ft_config *cfg,
    struct doc_report *rep)
{
	struct addressed a = {0, 0, ""};
	struct cli_ctx *dctx = doc_ctx_for(ctx, cfg);

	if (dctx == NULL) {
		rep->oom = true;
		return;
	}
	if (cli_foreach_enrolled(dctx, count_one, &a) != 0)
		goto out; /* the store itself: doc_check_store reports it */
	if (cfg->deliver[0] != '\0')
		check_set(cfg, &a, rep);
	else if (a.n > 0)
		doc_add(rep, &k_unset, &(struct doc_where){NULL, 0},
		    "%zu user(s) with a deliver address (%s%s), %zu of them "
		    "without an app, and deliver= is not set",
		    a.n, a.first, a.n > 1 ? ", ..." : "", a.only);
out:
	free(dctx);
}
