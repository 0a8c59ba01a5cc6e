/* One login through real libpam from a test program
 * (tests/lib/libpamconv.la, with libtestutil.la and libpam): a scripted
 * conversation and the module's syslog lines, which syslogcap.c (linked
 * into the program) appends to the file $FT_TEST_SYSLOG names. */
#ifndef FLOWTOTP_TESTS_LIB_PAMCONV_H
#define FLOWTOTP_TESTS_LIB_PAMCONV_H

#include <stdbool.h>
#include <stddef.h>

#include <security/pam_appl.h>

#define PT_PROMPT_MAX 256

/* The script: the answers, one a prompt, in order; a prompt past the last
 * fails the conversation.  Info and error messages are counted (and
 * written to the transcript), not answered. */
struct pt_conv {
	const char *const *ans;
	const size_t *lens; /* NULL: strlen; else exact (may hold NULs) */
	size_t nans;
	/* NULL, or what to answer instead of ans[i] (from the prompt text):
	 * NULL from it fails the conversation. */
	const char *(*hook)(void *arg, const char *prompt, const char *ans);
	void *hook_arg;
	bool fail;	  /* the conversation itself fails */
	char *transcript; /* NULL, or "[info]MSG\n" / "[prompt]MSG\n" lines */
	size_t tcap;
	/* what happened */
	size_t next, tlen;
	int nprompts, nmsgs;
	bool echo_on;
	char prompt[PT_PROMPT_MAX]; /* the first prompt */
};

/* The pam_conv function; appdata_ptr is a struct pt_conv. */
int pt_conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data);

/* One pam_authenticate: service from confdir, the test clock at now
 * (FLOWTOTP_TEST_NOW), env ("NAME=value") put in the PAM environment.
 * With log set, the capture file is emptied before and read into log
 * after; with authtok set, the PAM environment's PAM_AUTHTOK (which
 * pam_wrapper's pam_get_items puts there) is copied into it ("" if
 * unset). */
struct pt_login {
	const char *service;
	const char *user;
	const char *confdir;
	long now;
	const char *env;
	const char *logpath;
	char *log;
	size_t logcap;
	char *authtok;
	size_t authtokcap;
	bool has_authtok; /* out */
};
int pt_login(struct pt_login *l, struct pt_conv *cv);

/* A service directory for pam_start_confdir: made (0700) with an "other"
 * service that denies (libpam reads it for a missing service); and one
 * service file in it. */
void pt_confdir(const char *confdir);
void pt_service(const char *confdir, const char *name, const char *text);

/* Catch the module's syslog lines in root/syslog (path in out). */
void pt_capture_syslog(const char *root, char *out, size_t outlen);

#endif
