/* The fake PAM handle of the fuzz-only libpam stubs (pam_stubs.c). */
#ifndef FLOWTOTP_FUZZ_PAM_STUBS_H
#define FLOWTOTP_FUZZ_PAM_STUBS_H

#include <pwd.h>
#include <stdint.h>
#include <time.h>

#define FUZZ_LOG_MAX 2048U

struct pam_handle {
	const char *service;
	const char *user;
	const char *rhost;
	char *authtok;	    /* malloc'd; freed by the harness */
	const char *answer; /* what the conversation answers */
	int conv_fails;
	struct passwd *pw;
	int dropped;
	unsigned prompts;
	unsigned authtok_sets;
	unsigned outcomes; /* "flowtotp: service=..." lines */
	char last[FUZZ_LOG_MAX];
	void (*check_line)(struct pam_handle *, const char *);
	const char *code; /* what must never appear in a log line */
	/* One pam_set_data slot: the module keeps at most the split code. */
	char *data_name;
	void *data;
	void (*data_cleanup)(struct pam_handle *, void *, int);
};

/* pam_end's part for the slot: run the cleanup, as libpam does. */
void fuzz_pam_end_data(struct pam_handle *pamh);

extern time_t fuzz_now;

#endif
