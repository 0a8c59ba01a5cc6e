/* ft-pam-login SERVICE USER CONFDIR
 *
 * A tiny PAM application for tests: pam_start_confdir(SERVICE, USER, conv,
 * CONFDIR) and pam_authenticate().  Each prompt is answered with the next
 * line of stdin (without its newline); prompts and messages are echoed to
 * stderr as "prompt: TEXT" / "info: TEXT" / "error: TEXT".  Prints the
 * result name (e.g. "PAM_SUCCESS") on stdout.  Exit status: 0 success,
 * 1 authentication failure, 2 anything else.  The module's syslog lines
 * go to $FT_TEST_SYSLOG if set, else to stderr as "syslog: ..." (see
 * syslogcap.c).  FT_PAM_RHOST and FT_PAM_TTY, if set, become PAM_RHOST
 * and PAM_TTY (a remote host and a terminal, as sshd and sudo set them). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

#define LINE_MAX_ANSWER 65536

struct rcname {
	int rc;
	const char *name;
};

static const struct rcname rcnames[] = {
    {PAM_SUCCESS, "PAM_SUCCESS"},
    {PAM_OPEN_ERR, "PAM_OPEN_ERR"},
    {PAM_SYMBOL_ERR, "PAM_SYMBOL_ERR"},
    {PAM_SERVICE_ERR, "PAM_SERVICE_ERR"},
    {PAM_SYSTEM_ERR, "PAM_SYSTEM_ERR"},
    {PAM_BUF_ERR, "PAM_BUF_ERR"},
    {PAM_PERM_DENIED, "PAM_PERM_DENIED"},
    {PAM_AUTH_ERR, "PAM_AUTH_ERR"},
    {PAM_CRED_INSUFFICIENT, "PAM_CRED_INSUFFICIENT"},
    {PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL"},
    {PAM_USER_UNKNOWN, "PAM_USER_UNKNOWN"},
    {PAM_MAXTRIES, "PAM_MAXTRIES"},
    {PAM_ABORT, "PAM_ABORT"},
    {PAM_CONV_ERR, "PAM_CONV_ERR"},
    {PAM_IGNORE, "PAM_IGNORE"},
    {PAM_INCOMPLETE, "PAM_INCOMPLETE"},
};

static const char *
rc_name(int rc)
{
	size_t i;

	for (i = 0; i < sizeof(rcnames) / sizeof(rcnames[0]); i++)
		if (rcnames[i].rc == rc)
			return rcnames[i].name;
	return "PAM_OTHER";
}

static int
is_auth_failure(int rc)
{
	return rc == PAM_AUTH_ERR || rc == PAM_PERM_DENIED ||
	    rc == PAM_USER_UNKNOWN || rc == PAM_MAXTRIES ||
	    rc == PAM_CRED_INSUFFICIENT || rc == PAM_AUTHINFO_UNAVAIL;
}

static char *
next_line(void)
{
	char *buf = malloc(LINE_MAX_ANSWER);
	size_t n;

	if (buf == NULL)
		return NULL;
	if (fgets(buf, LINE_MAX_ANSWER, stdin) == NULL) {
		free(buf);
		return NULL;
	}
	n = strcspn(buf, "\n");
	buf[n] = '\0';
	return buf;
}

static void
free_resp(struct pam_response *r, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (r[i].resp != NULL) {
			memset(r[i].resp, 0, strlen(r[i].resp));
			free(r[i].resp);
		}
	free(r);
}

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	struct pam_response *r;
	int i;

	(void)data;
	if (n <= 0)
		return PAM_CONV_ERR;
	r = calloc((size_t)n, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			fprintf(stderr, "prompt: %s\n", msg[i]->msg);
			r[i].resp = next_line();
			if (r[i].resp == NULL) {
				free_resp(r, n);
				return PAM_CONV_ERR;
			}
			break;
		case PAM_ERROR_MSG:
			fprintf(stderr, "error: %s\n", msg[i]->msg);
			break;
		case PAM_TEXT_INFO:
			fprintf(stderr, "info: %s\n", msg[i]->msg);
			break;
		default: free_resp(r, n); return PAM_CONV_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* PAM item it from the environment variable name, if set. */
static int
item_from_env(pam_handle_t *pamh, int it, const char *name)
{
	const char *v = getenv(name);

	if (v == NULL)
		return PAM_SUCCESS;
	return pam_set_item(pamh, it, v);
}

int
main(int argc, char **argv)
{
	struct pam_conv pc = {conv, NULL};
	pam_handle_t *pamh = NULL;
	int rc;

	if (argc != 4) {
		fprintf(stderr, "usage: ft-pam-login SERVICE USER CONFDIR\n");
		return 2;
	}
	rc = pam_start_confdir(argv[1], argv[2], &pc, argv[3], &pamh);
	if (rc != PAM_SUCCESS) {
		printf("%s\n", rc_name(rc));
		return 2;
	}
	rc = item_from_env(pamh, PAM_RHOST, "FT_PAM_RHOST");
	if (rc == PAM_SUCCESS)
		rc = item_from_env(pamh, PAM_TTY, "FT_PAM_TTY");
	if (rc == PAM_SUCCESS)
		rc = pam_authenticate(pamh, 0);
	printf("%s\n", rc_name(rc));
	(void)pam_end(pamh, rc);
	if (rc == PAM_SUCCESS)
		return 0;
	return is_auth_failure(rc) ? 1 : 2;
}
