/* totp-enroll doctor: secrets at rest (pam_flowtotp(8), SECRETS AT REST).
 * The root store's files, counted by how their key is kept, against the
 * store key a login reads (store_key, else store_key_fallback): the same
 * survey `totp-enroll key status` prints (keyrotate.c), judged.  A sealed
 * file whose key cannot be had denies every login of its user. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "doctor.h"
#include "keyrotate.h"
#include "rc.h"
#include "storekey.h"

static const struct doc_kind k_missing = {"store-key-missing", DOC_ERROR,
    "every login of a user with a sealed file is denied: start "
    "flowtotp-key.service (systemctl enable --now flowtotp-key.service) to "
    "unseal the key, or restore the key file"};
static const struct doc_kind k_unsafe = {"store-key-unsafe", DOC_ERROR,
    "the module refuses this key file, so every login of a user with a "
    "sealed file is denied, and so is every enrolment: it must be a regular "
    "file owned by root, mode "
    "0600 or 0400, one link, no symlink, holding \"ID HEX\" lines"};
static const struct doc_kind k_unknown = {"store-key-unknown", DOC_ERROR,
    "these users cannot log in: restore the key file that holds their key "
    "(from a backup), or re-enrol them"};
static const struct doc_kind k_rotation = {"store-key-rotation", DOC_WARN,
    "a rotation is unfinished (the key file has an old key): run "
    "totp-enroll key rotate again to finish it"};
static const struct doc_kind k_fallback = {"store-key-fallback", DOC_WARN,
    "logins read the plain key although a sealed copy exists: start "
    "flowtotp-key.service so that the unsealed key is there, then remove "
    "the plain file"};
static const struct doc_kind k_volatile = {"store-key-no-sealed-copy", DOC_WARN,
    "the key in use has no sealed copy in store_key_cred: if store_key "
    "does not survive a reboot (the default /run does not), every sealed "
    "file becomes unreadable: seal it again with systemd-creds encrypt "
    "--name=" FT_STOREKEY_CRED_NAME " STORE_KEY STORE_KEY_CRED (root, mode "
    "0600)"};
static const struct doc_kind k_plain = {"store-key-plain-files", DOC_WARN,
    "totp-enroll key encrypt-store seals them (they keep working "
    "meanwhile)"};
static const struct doc_kind k_unreadable = {"store-file-unreadable", DOC_WARN,
    "the module denies these users too: totp-enroll status USER says what "
    "is wrong with the file"};
static const struct doc_kind k_required = {"store-key-required", DOC_WARN,
    "every enrolment is refused until a store key exists: totp-enroll key "
    "init (or encrypt=auto)"};
static const struct doc_kind k_unsealed = {"store-key-not-unsealed", DOC_WARN,
    "the sealed key was not unsealed (flowtotp-key.service did not run), "
    "so new enrolments are saved plain: systemctl enable --now "
    "flowtotp-key.service"};
static const struct doc_kind k_sealed = {"store-key-sealed", DOC_INFO,
    "nothing to do: every file of the store is sealed"};
static const struct doc_kind k_none = {"store-key-none", DOC_INFO,
    "optional: totp-enroll key init, then key encrypt-store, encrypts the "
    "secrets at rest"};

static bool
exists(const char *path)
{
	struct stat sb;

	return path[0] != '\0' && lstat(path, &sb) == 0;
}

static size_t
sealed_known(const struct key_survey *sv)
{
	size_t i, n = 0;

	for (i = 0; i < sv->kr.n; i++)
		n += sv->census.per_key[i];
	return n;
}

/* No key file a login could use (sv->load_rc is not FT_OK). */
static void
judge_no_key(const struct ft_config *c, const struct key_survey *sv,
    struct doc_report *rep)
{
	const struct key_census *cs = &sv->census;
	struct doc_where w = {c->store_key, 0};

	if (sv->load_rc != FT_ERR_NOENT) {
		/* ft_keyring_load reads the fallback only without store_key. */
		if (!exists(c->store_key))
			w.file = c->store_key_fallback;
		doc_add(rep, &k_unsafe, &w, "%s (%zu sealed file(s))", sv->err,
		    cs->unknown);
	} else if (cs->unknown > 0) {
		doc_add(rep, &k_missing, &w, "%zu sealed file(s): %s",
		    cs->unknown, sv->err);
	} else if (exists(c->store_key_cred)) {
		doc_add(rep, &k_unsealed, &w, "%s exists, %s does not",
		    c->store_key_cred, c->store_key);
	} else if (c->encrypt == FT_ENCRYPT_YES) {
		doc_add(rep, &k_required, &w, "encrypt=yes: %s", sv->err);
	} else {
		doc_add(rep, &k_none, &(struct doc_where){NULL, 0},
		    "%zu plain file(s), no store key", cs->plain);
	}
}

/* The key file a login reads, and how it is kept. */
static void
judge_key(const struct ft_config *c, const struct key_survey *sv,
    struct doc_report *rep)
{
	const struct key_census *cs = &sv->census;
	const struct doc_where w = {sv->kr.path, 0};
	bool primary = strcmp(sv->kr.path, c->store_key) == 0;

	if (cs->unknown > 0)
		doc_add(rep, &k_unknown, &w,
		    "%zu file(s) sealed with a key this file lacks",
		    cs->unknown);
	if (sv->kr.n > 1U)
		doc_add(rep, &k_rotation, &w, "%zu keys; the current one is %s",
		    sv->kr.n, ft_keyring_current(&sv->kr)->id);
	if (!primary && exists(c->store_key_cred))
		doc_add(rep, &k_fallback, &w,
		    "in use while %s does not exist and %s does", c->store_key,
		    c->store_key_cred);
	else if (primary && !sv->sealed)
		doc_add(rep, &k_volatile, &w, "%s does not exist",
		    c->store_key_cred);
	if (cs->plain > 0)
		doc_add(rep, &k_plain, &(struct doc_where){NULL, 0},
		    "%zu file(s) of the store are plain (version 1) though "
		    "a store key exists",
		    cs->plain);
	else if (cs->unknown == 0 && cs->unreadable == 0)
		doc_add(
		    rep, &k_sealed, &w, "%zu file(s) sealed", sealed_known(sv));
}

void
doc_check_storekey(const struct cli_ctx *ctx, const struct ft_config *cfg,
    struct doc_report *rep)
{
	struct cli_ctx *dctx;
	struct key_survey *sv;

	if (ft_config_secret_in_home(cfg))
		return; /* secrets in the homes stay plain */
	dctx = doc_ctx_for(ctx, cfg);
	sv = calloc(1, sizeof(*sv));
	if (dctx == NULL || sv == NULL) {
		rep->oom = true;
		goto out;
	}
	if (key_survey(dctx, sv) != 0)
		goto out; /* the store itself: doc_check_store reports it */
	if (sv->census.unreadable > 0)
		doc_add(rep, &k_unreadable, &(struct doc_where){NULL, 0},
		    "%zu file(s) of the store cannot be read",
		    sv->census.unreadable);
	if (sv->load_rc == FT_OK)
		judge_key(cfg, sv, rep);
	else
		judge_no_key(cfg, sv, rep);
out:
	if (sv != NULL)
		key_survey_wipe(sv); /* the keys, whatever the scan did */
	free(sv);
	free(dctx);
}
