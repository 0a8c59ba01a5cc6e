/* totp-enroll doctor: declarations shared by cmd_doctor.c and doctor_*.c.
 *
 * Calls go one way: cmd_doctor.c calls the checks (doctor_pam.c,
 * doctor_sshd.c, doctor_storekey.c, doctor_deliver.c, ...), which call
 * the helpers (doctor_pamparse.c, doctor_run.c), which call the leaves
 * (doctor_root.c or, in the test build only, doctor_test_root.c;
 * doctor_report.c). */
#ifndef FLOWTOTP_DOCTOR_H
#define FLOWTOTP_DOCTOR_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli.h"

#define DOC_TEXT_MAX 768U  /* one finding's message */
#define DOC_OUT_MAX 65536U /* bytes kept of a program's output */
/* Linux-PAM's and systemd's fixed places, whatever --sysconfdir says. */
#define DOC_PAMD "/etc/pam.d"
#define DOC_TMPFILES_ETC "/etc/tmpfiles.d/flowtotp.conf"
#define DOC_TMPFILES_LIB "/usr/lib/tmpfiles.d/flowtotp.conf"
#define DOC_INCLUDE_DEPTH 8U /* @include nesting PAM itself allows */

enum doc_sev { DOC_INFO = 0, DOC_WARN, DOC_ERROR };

/* A kind of finding: its id (stable, documented in totp-enroll(1)), how bad
 * it is and what to do about it. */
struct doc_kind {
	const char *id;
	enum doc_sev sev;
	const char *fix;
};

/* Where a finding is: a file and a line (0: the whole file; NULL file: the
 * machine). */
struct doc_where {
	const char *file;
	unsigned line;
};

struct doc_finding {
	const struct doc_kind *kind;
	char file[PATH_MAX];
	unsigned line;
	char what[DOC_TEXT_MAX];
};

struct doc_report {
	struct doc_finding *f;
	size_t n, cap;
	bool oom; /* a finding could not be kept: the run failed */
};

/* What the checks look at.  The installed binary has the real machine
 * (doctor_root.c); the test build lets FT_TEST_DOCTOR_ROOT name a prepared
 * tree instead (doctor_test_root.c). */
struct doc_root {
	char pamd[PATH_MAX];		  /* the PAM service directory */
	char sshd_config[PATH_MAX];	  /* "" : sshd's own default */
	char sshd_hostkey[PATH_MAX];	  /* "" : sshd's own default */
	char clock[PATH_MAX];		  /* "" : ask timedatectl/chronyc */
	char tmpfiles[2][PATH_MAX];	  /* where a tmpfiles.d rule may be */
	char ordinary_user[CLI_NAME_MAX]; /* "" : the first uid >= 1000 */
};

/* ---- doctor_root.c / doctor_test_root.c ---- */
void doc_root_get(struct doc_root *r);

/* ---- doctor_report.c ---- */
void doc_report_init(struct doc_report *r);
void doc_report_free(struct doc_report *r);
/* Keep one finding (the same id at the same place only once: a file
 * included by several services is reported once). */
void doc_add(struct doc_report *r, const struct doc_kind *k,
    const struct doc_where *w, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void doc_print(const struct doc_report *r, FILE *out, bool json);
/* 0 (nothing worse than information), CLI_EX_DOC_WARN or
 * CLI_EX_DOC_ERROR. */
int doc_exit(const struct doc_report *r);

/* ---- doctor_run.c: a program's standard output ---- */
/* Run argv[0] (an absolute path, no shell) with stdin and stderr on
 * /dev/null; out gets at most outlen-1 bytes of its stdout.  FT_OK when it
 * ran and exited 0, FT_ERR_NOENT when it is not installed, else FT_ERR_IO. */
int doc_run(const char *const *argv, char *out, size_t outlen);
/* The value of "key<sep>value" on a line of text (key compared without
 * case), blanks around the value trimmed; false if there is none. */
bool doc_value(
    const char *text, const char *key, char sep, char *val, size_t vallen);

/* A copy of ctx (malloc'd; NULL when out of memory) that acts on cfg, the
 * configuration file's settings the module reads, not the command
 * line's: for the checks that walk the store with cli_foreach_enrolled. */
struct cli_ctx *doc_ctx_for(
    const struct cli_ctx *ctx, const struct ft_config *cfg);

/* ---- doctor_pamparse.c: PAM service files ---- */
struct doc_pam_entry {
	char file[PATH_MAX];
	unsigned line;
	char control[CLI_LABEL_MAX]; /* "required", "[success=1 ...]" */
	char module[PATH_MAX];
	char args[DOC_TEXT_MAX]; /* as written, blanks between */
};

struct doc_stack {
	struct doc_pam_entry *e;
	size_t n, cap;
};

/* The auth stack of one service with every @include/include/substack
 * expanded in place.  Files that cannot be read safely are reported into
 * rep.  FT_OK, FT_ERR_NOENT (no such service), FT_ERR_NOMEM. */
int doc_stack_load(const struct doc_root *root, const char *service,
    struct doc_stack *st, struct doc_report *rep);
void doc_stack_free(struct doc_stack *st);
/* Is this entry pam_flowtotp (the module file's name)? */
bool doc_is_flowtotp(const struct doc_pam_entry *e);
/* Does this entry check a password (pam_unix, pam_sss, ...)? */
bool doc_is_password(const struct doc_pam_entry *e);
/* Index of the first pam_flowtotp entry, or st->n. */
size_t doc_stack_flowtotp(const struct doc_stack *st);

/* ---- checks ---- */
/* Every service in root->pamd that uses pam_flowtotp; cfg is what the
 * configuration file gives (after doc_check_config). */
void doc_check_pam(const struct doc_root *root, const struct ft_config *cfg,
    bool cfg_ok, struct doc_report *rep);
void doc_check_sudo(const struct doc_root *root, struct doc_report *rep);
void doc_check_sshd(const struct doc_root *root, struct doc_report *rep);
/* Parse, ownership and mode of the configuration file; cfg gets its
 * values.  False when it cannot be used (the module then denies). */
bool doc_check_config(
    const char *path, struct ft_config *cfg, struct doc_report *rep);
void doc_check_store(const struct ft_config *cfg, struct doc_report *rep);
void doc_check_cache(const struct doc_root *root, const struct ft_config *cfg,
    struct doc_report *rep);
/* cache=redis: the server reached as the module does, its eviction
 * policy and persistence (doctor_redis.c). */
void doc_check_redis(const struct ft_config *cfg, struct doc_report *rep);
void doc_check_clock(const struct doc_root *root, struct doc_report *rep);
/* With a rollout configured (require=, exempt=, grace_days=): the required
 * users without enrolment and their grace (doctor_coverage.c). */
void doc_check_coverage(const struct cli_ctx *ctx, const struct ft_config *cfg,
    struct doc_report *rep);

/* Secrets at rest: the root store's sealed and plain files against the
 * store key logins read (doctor_storekey.c). */
void doc_check_storekey(const struct cli_ctx *ctx, const struct ft_config *cfg,
    struct doc_report *rep);
/* deliver=: the command, deliver_user and deliver_key as the module needs
 * them, and users with an address (doctor_deliver.c). */
void doc_check_deliver(const struct cli_ctx *ctx, const struct ft_config *cfg,
    struct doc_report *rep);

#endif
