/* Internal to the PAM module: one login's data, and the helpers the
 * module's files share.  Nothing here is exported from the .so (the link
 * keeps only pam_sm_*). */
#ifndef FLOWTOTP_PAM_MODULE_H
#define FLOWTOTP_PAM_MODULE_H

#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <security/pam_modules.h>

#include "conf.h"
#include "policy.h"
#include "secretfile.h"
#include "secretstore.h"

#define FTPAM_DETAIL_MAX 512U
#define FTPAM_FORWARD_PROMPT "Password & verification code: "
/* enroll=login (enroll.c): the last line of each of its two prompts. */
#define FTPAM_ENROLL_PROMPT "Enter the code from the app to confirm: "
#define FTPAM_ENROLL_DONE_PROMPT "Press Enter to continue the login: "

/* Why a login ended the way it did: the reason= field of the log line.
 * Each failure that is not a wrong answer has its own reason, so that an
 * admin reading bad_code knows a code was given and did not match. */
enum ftpam_reason {
	FTPAM_OK = 0,
	FTPAM_BAD_CODE,	    /* a code was given and did not match */
	FTPAM_NO_CODE,	    /* use_first_pass: PAM_AUTHTOK holds no code */
	FTPAM_CONV_ERROR,   /* the conversation gave no answer */
	FTPAM_NO_MEMORY,    /* an allocation failed */
	FTPAM_CRYPTO_ERROR, /* the code could not be computed (OpenSSL) */
	FTPAM_REPLAY,
	FTPAM_LOCKED,
	FTPAM_BACKUP_USED,
	FTPAM_NO_SECRET,
	FTPAM_UNSAFE_FILE,
	FTPAM_CACHE_ERROR,
	FTPAM_CONFIG_ERROR,
	FTPAM_ENROLLED,		/* enroll=login: enrolled and confirmed */
	FTPAM_EXEMPT,		/* exempt=: never asked (PAM_IGNORE) */
	FTPAM_NOT_REQUIRED,	/* require=: not required, not enrolled */
	FTPAM_GRACE,		/* grace_days=: not enrolled, let in for now */
	FTPAM_PASSWORD_AS_CODE, /* the answer was PAM_AUTHTOK: no attempt */
	FTPAM_REMEMBERED,	/* remember=: this origin gave a code lately */
	FTPAM_DELIVERY_FAILED,	/* deliver=: the command did not deliver */
};

/* Where a required, unenrolled user stands with grace_days= (grace.c). */
enum ftpam_grace {
	FTPAM_GRACE_NONE = 0, /* grace does not apply */
	FTPAM_GRACE_OPEN,     /* let in (PAM_IGNORE), told until when */
	FTPAM_GRACE_OVER,     /* over, damaged record, or no first factor */
	FTPAM_GRACE_DENY,     /* the record cannot be written (reason set) */
};

/* Which part of the work this instance does (stash.c). */
enum ftpam_role {
	FTPAM_ROLE_ALONE = 0, /* ask for the code and check it */
	FTPAM_ROLE_SPLIT,     /* `split`: ask once, keep the code, forward */
	FTPAM_ROLE_STASHED,   /* `use_stashed`: check the kept code */
};

/* What we know about the user's secret before any answer is checked. */
enum ftpam_secret_state {
	FTPAM_SECRET_OK = 0,
	FTPAM_SECRET_UNKNOWN_USER,
	FTPAM_SECRET_MISSING,
	FTPAM_SECRET_BAD, /* unsafe or unreadable: detail says why */
};

/* The expensive work one check did, so that the rest can be done on a
 * dummy: every kind of user costs the same (login.c even_out). */
struct ftpam_work {
	bool state;  /* a replay/lockout state operation */
	bool hmac;   /* a TOTP window computed */
	size_t kdfs; /* backup-code hashes */
};

struct ftpam_login {
	pam_handle_t *pamh;
	struct ft_config cfg;
	enum ftpam_role role;
	bool stashed; /* split: done; only a debug line is logged */
	const char *service;
	const char *user;
	const char *rhost;
	const struct passwd *pw; /* owned by libpam (pam data) */
	char path[PATH_MAX];	 /* the user's secret file */
	bool in_home;		 /* read it with the user's privileges */
	struct ft_file_policy pol;
	enum ftpam_secret_state sstate;
	struct ft_secret secret; /* wiped before free */
	struct ft_state *state;	 /* opened on the first answer */
	bool warned;		 /* state fallback warning logged */
	enum ftpam_reason reason;
	bool ignored;		 /* nullok and no file: PAM_IGNORE */
	struct ft_policy policy; /* require=/exempt= for this user */
	enum ftpam_grace grace;
	int64_t grace_end;		   /* FTPAM_GRACE_OPEN: until when */
	char grace_note[FTPAM_DETAIL_MAX]; /* for the log line */
	size_t backup_left;
	struct ftpam_work work;
	char detail[FTPAM_DETAIL_MAX]; /* for the log line; never a code */
	/* The state record after the last attempt, for the log line (when
	 * the backend reported it). */
	bool counted;
	uint32_t failures;
	int64_t locked_until;
	/* deliver=: a code was asked for and could not be sent (reason
	 * delivery_failed): this attempt is denied whatever comes next. */
	bool deliver_failed;
	bool deliver_sent; /* a code was sent in this login (log line) */
};

/* One answer from the user (prompt) or from PAM_AUTHTOK, with where the
 * code sits in it.  text is ours (malloc'd) and wiped on free. */
struct ftpam_answer {
	char *text;
	size_t len;
	bool from_authtok;
	bool split; /* password + code: code is a suffix */
	/* Code candidates as [off, off+len) of text; len 0 = none. */
	size_t totp_off, totp_len;
	size_t backup_off, backup_len;
};

/* login.c */
int ftpam_authenticate(
    pam_handle_t *pamh, int flags, int argc, const char **argv);

/* answer.c */
/* Take PAM_AUTHTOK as a password+code answer.  Returns 1 if it holds
 * something that looks like a code, 0 if not (or unset), -1 on error. */
int ftpam_answer_from_authtok(struct ftpam_login *lg, struct ftpam_answer *a);
/* Prompt (echo off).  PAM_SUCCESS, or the conversation's PAM error
 * (PAM_CONV_ERR if it returned no response). */
int ftpam_answer_prompt(struct ftpam_login *lg, struct ftpam_answer *a);
/* A prompted (not split) answer equal to PAM_AUTHTOK: the password, not
 * a code attempt. */
bool ftpam_answer_is_authtok(
    const struct ftpam_login *lg, const struct ftpam_answer *a);
/* For split answers, hand the password part on in PAM_AUTHTOK. */
void ftpam_answer_forward(
    struct ftpam_login *lg, const struct ftpam_answer *a, size_t code_len);
/* Copy candidate [off, off+len) into buf (NUL-terminated); false if it
 * does not fit. */
bool ftpam_answer_copy(const struct ftpam_answer *a, size_t off, size_t len,
    char *buf, size_t buflen);
void ftpam_answer_free(struct ftpam_answer *a);
/* split: how long the code at the end of a split answer is (0: none). */
size_t ftpam_answer_split_len(const struct ftpam_answer *a);
/* use_stashed: a->text (ours) is the code alone; find its candidates. */
void ftpam_answer_set_code(
    const struct ftpam_login *lg, struct ftpam_answer *a);

/* stash.c */
/* The split instance: prompt, keep the code, forward the password.
 * PAM_IGNORE when done, PAM_AUTH_ERR (reason set) otherwise. */
int ftpam_split(struct ftpam_login *lg);
/* use_stashed: take the kept code (and drop it from the handle).
 * 1 taken, 0 none kept for this user, -1 out of memory. */
int ftpam_stash_take(struct ftpam_login *lg, struct ftpam_answer *a);
void ftpam_stash_clear(pam_handle_t *pamh);
/* Take the role words (split, use_stashed) out of argv: *role set, rest
 * gets the other arguments (room for argc), *nrest their number. */
void ftpam_role_from_args(int argc, const char **argv, enum ftpam_role *role,
    const char **rest, int *nrest);

/* enroll.c */
/* What this module can see of the first factor: a key sshd verified, or a
 * password a module before us read into PAM_AUTHTOK. */
bool ftpam_first_factor_seen(const struct ftpam_login *lg);
/* enroll=login and this user has no secret (by the strict rule): the
 * login is an enrolment. */
bool ftpam_enroll_offered(const struct ftpam_login *lg);
/* The enrolment dialogue.  PAM_SUCCESS (reason enrolled), PAM_IGNORE
 * (nullok and the user skipped it) or PAM_AUTH_ERR (reason set; nothing
 * saved unless the reason is a failure after the save). */
int ftpam_enroll(struct ftpam_login *lg);

/* grace.c */
/* Read (or, past the first factor, write) the user's grace record; sets
 * lg->grace_end and lg->grace_note. */
enum ftpam_grace ftpam_grace_check(struct ftpam_login *lg);
/* The PAM_TEXT_INFO notice; PAM_SUCCESS, or PAM_AUTH_ERR (reason set). */
int ftpam_grace_tell(struct ftpam_login *lg);

/* remember.c */
/* remember=: this origin of an enrolled, unlocked user is remembered
 * (reason set; the caller returns PAM_SUCCESS without a prompt). */
bool ftpam_remembered(struct ftpam_login *lg);
/* After a code was accepted: remember this origin (a failure is logged,
 * never denies). */
void ftpam_remember(struct ftpam_login *lg);
/* deliver.c */
/* A delivered code was redeemed (ftpam_deliver_redeem). */
#define FTPAM_DELIVERED 2
/* The code prompt's first answer a: when it asks for a code (deliver=,
 * an empty answer or FT_DELIVER_WORD), send one if the user has delivery,
 * say the same text to everyone and prompt again into a.  PAM_SUCCESS or
 * the conversation's error. */
int ftpam_deliver_dialogue(struct ftpam_login *lg, struct ftpam_answer *a);
/* FTPAM_DELIVERED if the answer is the user's delivered code (now used
 * up), 0 if not, -1 on an error (reason set). */
int ftpam_deliver_redeem(
    struct ftpam_login *lg, const struct ftpam_answer *a, time_t now);

/* log.c */
void ftpam_set_detail(
    struct ftpam_login *lg, enum ftpam_reason r, const char *what);
void ftpam_log_outcome(const struct ftpam_login *lg);
void ftpam_debug(const struct ftpam_login *lg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ftpam_log_warning(const struct ftpam_login *lg, const char *what);
const char *ftpam_reason_name(enum ftpam_reason r);

#endif
