/* totp-enroll key rotate / key encrypt-store: every file of the root store
 * rewritten under the locked edit (keyrotate.c), and the counts key status
 * shows. */
#ifndef FLOWTOTP_CLI_KEYROTATE_H
#define FLOWTOTP_CLI_KEYROTATE_H

#include "cli.h"
#include "storekey.h"

/* Files of the store by how their key is kept. */
struct key_census {
	size_t plain;
	size_t unreadable;
	size_t per_key[FT_STOREKEY_MAX]; /* sealed under kr->k[i] */
	size_t unknown;			 /* sealed under an id kr lacks */
};

/* The test build stops a run dead after this many writes (key files and
 * secret files together) to test that every point of a rotation can be
 * resumed: $FT_TEST_KEY_KILL_AFTER.  0: never.  The installed program
 * has no such switch. */
struct key_run {
	struct ft_keyring kr;
	bool sealed;
	bool plain_too; /* seal plain files as well (encrypt-store) */
	unsigned kill_after;
	unsigned writes;
};

void key_run_init(struct key_run *r);
/* After each write: the test build's kill point. */
void key_run_wrote(struct key_run *r);

int key_census(
    struct cli_ctx *ctx, const struct ft_keyring *kr, struct key_census *c);

/* The store key the commands and logins find (cli_keyring_load) and the
 * census of the store against it: what `key status` prints and the doctor
 * judges.  kr holds the keys: key_survey_wipe when done. */
struct key_survey {
	struct ft_keyring kr;
	int load_rc; /* of cli_keyring_load; kr is empty unless FT_OK */
	bool sealed; /* kr is store_key and store_key_cred exists */
	char err[CLI_ERRLEN]; /* why load_rc is not FT_OK */
	struct key_census census;
};
/* 0, or the non-zero exit of the store scan (already printed). */
int key_survey(struct cli_ctx *ctx, struct key_survey *s);
void key_survey_wipe(struct key_survey *s);
int key_rotate(struct cli_ctx *ctx, struct key_run *r);
int key_encrypt_store(struct cli_ctx *ctx, struct key_run *r);

#endif
