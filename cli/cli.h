/* totp-enroll: declarations shared by the command files.
 *
 * The CLI is a thin face over common/: it resolves who acts on whom, takes
 * the right privileges for the store, talks to the person at the terminal
 * and prints.  Everything the module also needs lives in common/.
 *
 * Calls between the files go one way, top to bottom: totp-enroll.c (the
 * dispatcher) calls the cmd_*.c files, which call the helpers (unenrol,
 * report, verify, store, users, cache, ...), which call the leaves (msg,
 * timefmt, json, priv, prompt, log).  No file calls back up; the test
 * command checks the graph for cycles. */
#ifndef FLOWTOTP_CLI_H
#define FLOWTOTP_CLI_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "conf.h"
#include "otp.h"
#include "safefile.h"
#include "secretfile.h"
#include "secretstore.h"
#include "state.h"

#define CLI_PROG "totp-enroll"
#define CLI_ERRLEN 512U
#define CLI_NAME_MAX 256U /* bytes in a user name */
#define CLI_LABEL_MAX FT_CONF_STR_MAX
#define CLI_CHECK_WINDOW FT_WINDOW_MAX /* diagnostic window of `check` */
#define CLI_CODE_TRIES 3U	       /* attempts at a prompted code */
#define CLI_LINE_MAX 128U	       /* longest answer read at a prompt */
/* Empty answers in a row at a code prompt before it gives up (they do not
 * use up a try; the bound ends a stream of empty lines). */
#define CLI_BLANK_MAX 5U

/* Documented exit codes (totp-enroll(1), EXIT STATUS). */
enum cli_exit {
	CLI_EX_OK = 0,
	CLI_EX_FAIL = 1,	/* error, or a code was not accepted */
	CLI_EX_USAGE = 2,	/* bad option, argument or user name */
	CLI_EX_NOTENROLLED = 3, /* the user has no enrolment */
	CLI_EX_PERM = 4,	/* the caller may not do this */
	CLI_EX_EXISTS = 5,	/* already enrolled (use --force) */
	CLI_EX_DOC_WARN = 6,	/* doctor: warnings, no error */
	CLI_EX_DOC_ERROR = 7,	/* doctor: at least one error */
};

enum cli_qr_mode {
	CLI_QR_AUTO = 0,
	CLI_QR_UTF8,
	CLI_QR_ANSI,
	CLI_QR_NONE,
	CLI_QR_UTF8_INVERTED /* utf8 for a light terminal background */
};

/* Options seen on the command line, as bits, so each command can reject the
 * ones that do not apply to it. */
enum cli_optbit {
	CLI_O_USER = 1U << 0,
	CLI_O_FORCE = 1U << 1,
	CLI_O_YES = 1U << 2,
	CLI_O_NOCONFIRM = 1U << 3,
	CLI_O_JSON = 1U << 4,
	CLI_O_ISSUER = 1U << 5,
	CLI_O_LABEL = 1U << 6,
	CLI_O_ALGO = 1U << 7,
	CLI_O_DIGITS = 1U << 8,
	CLI_O_PERIOD = 1U << 9,
	CLI_O_QR = 1U << 10,
	CLI_O_OWNER = 1U << 11,
	CLI_O_RESET = 1U << 12,	    /* grace --reset */
	CLI_O_EXTEND = 1U << 13,    /* grace --extend DAYS */
	CLI_O_FROM = 1U << 14,	    /* import --from SYSTEM */
	CLI_O_USERSFILE = 1U << 15, /* import --from pam_oath --usersfile */
	CLI_O_SEALED = 1U << 16,    /* key init --sealed */
	CLI_O_PLAIN = 1U << 17,	    /* key init --plain */
	CLI_O_DELIVER = 1U << 18,   /* enroll --deliver ADDRESS */
};

struct cli_opts {
	unsigned seen;	    /* enum cli_optbit */
	const char *user;   /* --user */
	const char *issuer; /* --issuer */
	const char *label;  /* --label */
	const char *owner;  /* --owner (import) */
	enum ft_algo algo;
	unsigned digits;
	unsigned period;
	enum cli_qr_mode qr;
	bool force, yes, no_confirm, json;
	bool reset;	       /* grace --reset */
	unsigned extend_days;  /* grace --extend */
	const char *from;      /* import --from */
	const char *usersfile; /* import --usersfile */
	/* key init: where the new store key goes (cmd_key.c) */
	enum { CLI_KEY_AUTO = 0, CLI_KEY_SEALED, CLI_KEY_PLAIN } key_mode;
	const char *deliver; /* enroll --deliver ADDRESS */
};

/* The person running the command. */
struct cli_ctx {
	struct ft_config cfg;
	struct cli_opts o;
	uid_t uid; /* real uid of the caller */
	bool root; /* real (and effective) uid 0: an admin */
	/* Running as flowtotp-helper: effective uid 0 for the root store,
	 * acting for the real uid only, every code counted (helper.c). */
	bool helper;
	char name[CLI_NAME_MAX]; /* caller's login name */
	const char *config_path; /* --config, or the default */
};

/* The user a command acts on, and where their secret lives. */
struct cli_target {
	char name[CLI_NAME_MAX];
	uid_t uid;
	gid_t gid;
	char home[PATH_MAX];
	char path[PATH_MAX]; /* expanded secret= template */
	bool in_home;	     /* I/O with the user's privileges */
	struct ft_file_policy pol;
	const struct ft_config *cfg; /* the command's (store key, encrypt=) */
};

/* ---- commands (cmd_*.c); operands are the words after the command ---- */
int cmd_enroll(struct cli_ctx *ctx, int argc, char **argv);
int cmd_status(struct cli_ctx *ctx, int argc, char **argv);
int cmd_grace(struct cli_ctx *ctx, int argc, char **argv);
int cmd_list(struct cli_ctx *ctx, int argc, char **argv);
int cmd_reset(struct cli_ctx *ctx, int argc, char **argv);
int cmd_disable(struct cli_ctx *ctx, int argc, char **argv);
int cmd_backup(struct cli_ctx *ctx, int argc, char **argv);
int cmd_unlock(struct cli_ctx *ctx, int argc, char **argv);
int cmd_check(struct cli_ctx *ctx, int argc, char **argv);
int cmd_import(struct cli_ctx *ctx, int argc, char **argv);
int cmd_doctor(struct cli_ctx *ctx, int argc, char **argv);
/* import --from pam_oath (import_oath.c, called by cmd_import): the users
 * named (all when argc is 0) from the usersfile at the absolute path. */
int cli_import_oath(
    struct cli_ctx *ctx, const char *usersfile, int argc, char **argv);
int cmd_key(struct cli_ctx *ctx, int argc, char **argv);
int cmd_rename(struct cli_ctx *ctx, int argc, char **argv);

/* ---- seal.c: version-2 secrets of the root store (secretseal.h) ---- */
/* After a load: open a sealed secret with the store key (t->cfg), bound to
 * t->name.  A plain one is left alone; a sealed one in a home is refused. */
int cli_unseal(
    const struct cli_target *t, struct ft_secret *s, char *err, size_t errlen);
/* Before a save: seal s if t's file is in the root store and encrypt=
 * asks for it (auto: a store key exists).  s is sealed in place. */
int cli_seal_for_save(
    const struct cli_target *t, struct ft_secret *s, char *err, size_t errlen);

/* ---- enroll_deliver.c: enroll --deliver (a user without an app) ---- */
int cli_enroll_deliver(struct cli_ctx *ctx);

/* ---- helper_exec.c: totp-enroll run by a user, system store ---- */
/* For a non-root caller whose store only root may change, run the
 * self-service command through the set-uid helper: execs it (never
 * returns) when it applies; else returns -1 so the command runs here, or
 * an exit code (message printed) for options the helper does not take.
 * configured: --config or --option was given. */
int cli_helper_handoff(const struct cli_ctx *ctx, const char *cmd, int argc,
    char **argv, bool configured);

/* ---- unenrol.c ---- */
/* Remove a user's secret file and login state (reset, disable). */
int cli_unenrol(
    const struct cli_ctx *ctx, const struct cli_target *t, const char *action);

/* ---- msg.c: messages ---- */
/* "totp-enroll: MESSAGE\n" on stderr; returns ex. */
int cli_err(int ex, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The exit code for a negative ft_rc. */
int cli_exit_for(int rc);

/* ---- users.c: who may act on whom ---- */
/* Fill the caller fields of ctx.  CLI_EX_OK or an exit code. */
int cli_caller_init(struct cli_ctx *ctx);
/* The same for flowtotp-helper: the real uid is the caller (and the only
 * user it acts on); the effective uid must be 0. */
int cli_caller_helper(struct cli_ctx *ctx);
/* Resolve the user a command acts on: `name`, or the caller when NULL.
 * Non-root callers may only name themselves.  Prints the reason and returns
 * an exit code on failure. */
int cli_target(
    const struct cli_ctx *ctx, const char *name, struct cli_target *t);
/* Admin-only commands: CLI_EX_OK for root, else prints and CLI_EX_PERM. */
int cli_require_root(const struct cli_ctx *ctx, const char *what);
/* The one user operand a command takes (operand, --user, or NULL);
 * CLI_EX_USAGE with a message for more than one. */
int cli_one_user(const struct cli_ctx *ctx, int argc, char **argv,
    const char *cmd, const char **name);

/* Call fn(ctx, target, arg) for every user with a secret in the store (in
 * name order); stops at the first non-zero return and passes it on. */
typedef int (*cli_user_fn)(
    struct cli_ctx *ctx, const struct cli_target *t, void *arg);
int cli_foreach_enrolled(struct cli_ctx *ctx, cli_user_fn fn, void *arg);

/* ---- priv.c: the user's privileges for files in their home ---- */
struct cli_priv {
	bool dropped;
	uid_t euid;
	gid_t egid;
	int ngroups;
	gid_t *groups;
};
/* Switch to the target's uid/gid/groups when running as root and the
 * secret lives in the home (so root never creates files in a directory the
 * user controls); a no-op otherwise. */
int cli_priv_enter(
    const struct cli_target *t, struct cli_priv *p, char *err, size_t errlen);
/* Back to the saved ids; aborts the program if that fails. */
void cli_priv_leave(struct cli_priv *p);

/* ---- store.c: the target's secret file ---- */
/* Load the secret (with the right privileges).  FT_ERR_NOENT when not
 * enrolled. */
int cli_secret_load(
    const struct cli_target *t, struct ft_secret *s, char *err, size_t errlen);
/* May the caller write the target's store?  Prints the reason ("ask an
 * administrator, or ...") and returns an exit code if not. */
int cli_store_writable(const struct cli_ctx *ctx, const struct cli_target *t);
/* Before anything is shown: create the missing store directories (in a
 * home, every missing level below the home, 0700, as the user) and check
 * that the directory takes a new file.  CLI_EX_OK or an exit code, message
 * printed, so a QR code is never shown for an enrolment that cannot be
 * saved. */
int cli_secret_prepare(const struct cli_ctx *ctx, const struct cli_target *t);
/* Create missing store directories, then write atomically (0600, owned by
 * the user) with SIGINT/SIGTERM/SIGHUP held off. */
int cli_secret_save(const struct cli_ctx *ctx, const struct cli_target *t,
    const struct ft_secret *s, char *err, size_t errlen);
/* ft_secret_edit (the locked read-modify-write, see secretstore.h) with
 * the right privileges and SIGINT/SIGTERM/SIGHUP held off.  FT_OK (whether
 * or not fn asked for a write) or a negative ft_rc. */
int cli_secret_edit(const struct cli_target *t, ft_secret_edit_fn fn, void *arg,
    char *err, size_t errlen);
/* Remove the secret file.  FT_ERR_NOENT when there is none. */
int cli_secret_remove(const struct cli_target *t, char *err, size_t errlen);

/* An existing enrolment of t may be replaced only with --force: CLI_EX_OK
 * (with *existed set when there was one, readable or not) or an exit code,
 * message printed (CLI_EX_EXISTS, CLI_EX_PERM, CLI_EX_FAIL). */
int cli_check_existing(
    const struct cli_ctx *ctx, const struct cli_target *t, bool *existed);

/* ---- codes.c: new backup codes ---- */
/* count (at most FT_BACKUP_MAX) new codes: shown[] for the person, hash[]
 * for the secret file; *n how many.  CLI_EX_OK, or CLI_EX_FAIL with the
 * message printed. */
int cli_make_backup_codes(unsigned count,
    char shown[FT_BACKUP_MAX][FT_BACKUP_SHOWN_BUFSZ],
    char hash[FT_BACKUP_MAX][FT_BACKUP_HASH_BUFSZ], size_t *n);

/* ---- cache.c: the replay/lockout state ---- */
/* Open the state store if the caller may: root always; others only when
 * the gdbm cache directory already exists and belongs to them (so a user
 * never creates the root-owned cache directory), or for Redis.  FT_ERR_PERM
 * (err set) when the caller may not. */
int cli_state_open(
    const struct cli_ctx *ctx, struct ft_state **st, char *err, size_t errlen);
/* For the read-only commands (status, list, check): like cli_state_open,
 * but never creates anything, not even for root: a gdbm cache file that does
 * not exist yet is FT_OK with *st NULL (no login state recorded), and an
 * existing one is opened with FT_STATE_NO_CREATE. */
int cli_state_open_ro(
    const struct cli_ctx *ctx, struct ft_state **st, char *err, size_t errlen);
/* After a new secret is saved: the user's old login state goes (failures
 * and a last used step belong to the secret they were counted for; an old
 * step, perhaps of another period, would make new codes look like
 * replays), and step, if non-zero, is recorded as used (the confirmation
 * code).  Best effort, a warning on failure: the enrolment is saved. */
void cli_state_restart(
    const struct cli_ctx *ctx, const char *user, uint64_t step);

/* ---- verify.c: codes typed by a person ---- */
/* Strip spaces; FT_OK if exactly `digits` ASCII digits remain (written to
 * out), else FT_ERR_PARSE. */
int cli_code_clean(const char *in, unsigned digits, char *out, size_t outlen);
/* Ask for a TOTP code up to CLI_CODE_TRIES times and check it with the
 * given window; an empty line asks again without using up a try (at most
 * CLI_BLANK_MAX in a row, then it is the end of input).  Returns 1 (offset/step
 * set), 0 not accepted (message printed), FT_ERR_NOENT at end of input, another
 * negative ft_rc on error. */
int cli_ask_code(const struct ft_secret *s, unsigned window, const char *prompt,
    bool echo, int *offset, uint64_t *step);

/* A code checked through the state layer exactly as a login checks it
 * (ft_state_attempt): the attempt counts toward the lockout, and a match
 * is recorded as used, so a code used here cannot log in and the
 * reverse. */
struct cli_attempt {
	time_t now;
	enum ft_state_verdict verdict; /* ACCEPTED, REPLAY, LOCKED, PROCEED */
	int offset;		       /* of the match (ACCEPTED, REPLAY) */
	uint64_t step;
};
/* FT_OK with a->verdict set, or a negative ft_rc (err set): fail closed. */
int cli_code_attempt(const struct cli_ctx *ctx, const struct cli_target *t,
    const struct ft_secret *s, const char *code, struct cli_attempt *a);
/* The message for a counted code that was not accepted; returns ex. */
int cli_attempt_refused(
    const struct cli_target *t, const struct cli_attempt *a, int ex);

/* Self-service proof: a non-root caller must type a current code of the
 * enrolment (window from the config); root passes.  Through the helper the
 * code is counted (cli_code_attempt) and only one is read.  CLI_EX_OK or
 * an exit code (message printed). */
int cli_prove(const struct cli_ctx *ctx, const struct cli_target *t);

/* ---- prompt.c ---- */
/* Print prompt on stderr and read one line from stdin (without the
 * newline); no echo when !echo and stdin is a terminal.  FT_OK,
 * FT_ERR_NOENT at end of input, FT_ERR_TOOBIG for an overlong line. */
int cli_read_line(const char *prompt, bool echo, char *buf, size_t buflen);
/* Ask a yes/no question; true only for an answer starting with y/Y. */
bool cli_confirm(const char *question);

/* ---- qr.c ---- */
/* The mode `auto` stands for: utf8 in a UTF-8 locale, else ansi.
 * Call after setlocale(LC_CTYPE, ""). */
enum cli_qr_mode cli_qr_auto(void);
/* Print text as a QR code (error correction M, 8-bit mode, quiet zone 4
 * modules).  FT_OK or a negative ft_rc. */
int cli_qr_print(FILE *out, const char *text, enum cli_qr_mode mode);

/* ---- help.c ---- */
/* Print cmd's own --help text; false for an unknown command. */
bool cli_help_command(FILE *out, const char *cmd);

/* ---- json.c ---- */
/* s as a JSON string literal, quotes included. */
void cli_json_str(FILE *out, const char *s);

/* ---- timefmt.c: times in UTC ---- */
/* "2024-01-02T03:04:05Z" */
void cli_time_iso(time_t t, char *buf, size_t len);
/* "2024-01-02 03:04:05 UTC" */
void cli_time_text(time_t t, char *buf, size_t len);

/* ---- log.c: authpriv audit trail ---- */
void cli_log(const struct cli_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- report.c: one user's status (status and list) ---- */
struct cli_report {
	bool json;
	bool first; /* no JSON element printed yet */
	int worst;  /* highest exit code seen */
	struct ft_state *st;
	bool st_tried;
	bool st_ok; /* opened, or no cache file yet (st NULL: no state) */
	char st_err[CLI_ERRLEN];
};
void cli_report_begin(struct cli_report *r, bool json);
/* Print one user's line or JSON object; updates r->worst. */
void cli_report_user(
    struct cli_ctx *ctx, struct cli_report *r, const char *name);
/* The same for a target already resolved. */
void cli_report_target(
    struct cli_ctx *ctx, struct cli_report *r, const struct cli_target *t);
/* Close the JSON array; returns r->worst. */
int cli_report_end(struct cli_report *r);

#endif
