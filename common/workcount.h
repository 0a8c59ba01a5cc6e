/* Counting the expensive work of a login, for the test that proves every
 * kind of user (enrolled, unenrolled, unknown, locked) costs the same: the
 * timing of an answer must not tell who is enrolled or locked, and counting
 * the work proves it without depending on the machine's speed.
 *
 * The library holds a weak no-op (workcount.c): the installed module and
 * the CLI count nothing.  Only the test build of the module links
 * workcount_test.c, whose definition replaces it and appends one line per
 * operation to the file FLOWTOTP_TEST_WORKLOG names. */
#ifndef FLOWTOTP_WORKCOUNT_H
#define FLOWTOTP_WORKCOUNT_H

enum ft_work_kind {
	FT_WORK_KDF = 0, /* one PBKDF2 of a backup-code answer */
	FT_WORK_HMAC,	 /* one HMAC of a TOTP candidate */
	FT_WORK_STATE,	 /* one operation on the replay/lockout state */
	FT_WORK_KEYFILE, /* one read of the store key (secretseal.c) */
	FT_WORK_AEAD,	 /* one AES-GCM open (secretcrypt.c) */
};

void ft_work_note(enum ft_work_kind kind);

#endif
