/* One login through real libpam from a test program: see pamconv.h. */
#include <config.h>

#include "pamconv.h"
#include "util.h"

static void
note(struct pt_conv *cv, const char *tag, const char *msg)
{
	int n;

	if (cv->transcript == NULL)
		return;
	n = snprintf(cv->transcript + cv->tlen, cv->tcap - cv->tlen, "[%s]%s\n",
	    tag, msg);
	if (n > 0 && (size_t)n < cv->tcap - cv->tlen)
		cv->tlen += (size_t)n;
}

/* The next answer, malloc'd; NULL when the script has none. */
static char *
answer(struct pt_conv *cv, const char *prompt)
{
	const char *a;
	size_t len;
	char *r;

	if (cv->next >= cv->nans)
		return NULL;
	a = cv->ans[cv->next];
	len = cv->lens != NULL ? cv->lens[cv->next] : strlen(a);
	cv->next++;
	if (cv->hook != NULL) {
		a = cv->hook(cv->hook_arg, prompt, a);
		if (a == NULL)
			return NULL;
		len = strlen(a);
	}
	r = malloc(len + 1);
	if (r == NULL)
		bail_out("malloc");
	memcpy(r, a, len);
	r[len] = '\0';
	return r;
}

int
pt_conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	struct pt_conv *cv = data;
	struct pam_response *r;

	if (n <= 0 || cv->fail)
		return PAM_CONV_ERR;
	r = calloc((size_t)n, sizeof(*r));
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		int st = msg[i]->msg_style;

		if (st != PAM_PROMPT_ECHO_OFF && st != PAM_PROMPT_ECHO_ON) {
			cv->nmsgs++;
			note(cv, "info", msg[i]->msg);
			continue;
		}
		if (cv->nprompts++ == 0)
			tu_fmt(
			    cv->prompt, sizeof(cv->prompt), "%s", msg[i]->msg);
		note(cv, "prompt", msg[i]->msg);
		if (st == PAM_PROMPT_ECHO_ON)
			cv->echo_on = true;
		r[i].resp = answer(cv, msg[i]->msg);
		if (r[i].resp == NULL) {
			for (int j = 0; j < i; j++)
				free(r[j].resp);
			free(r);
			return PAM_CONV_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

int
pt_login(struct pt_login *l, struct pt_conv *cv)
{
	struct pam_conv pc = {pt_conv, cv};
	pam_handle_t *pamh = NULL;
	char nowbuf[32];
	const char *tok;
	int rc;

	tu_fmt(nowbuf, sizeof(nowbuf), "%ld", l->now);
	MUST(setenv("FLOWTOTP_TEST_NOW", nowbuf, 1));
	if (l->log != NULL)
		MUST(tu_write_file(l->logpath, "", 0, 0600));
	rc = pam_start_confdir(l->service, l->user, &pc, l->confdir, &pamh);
	if (rc != PAM_SUCCESS)
		bail_out("pam_start_confdir: %d", rc);
	if (l->env != NULL && pam_putenv(pamh, l->env) != PAM_SUCCESS)
		bail_out("pam_putenv");
	rc = pam_authenticate(pamh, 0);
	if (l->authtok != NULL) {
		tok = pam_getenv(pamh, "PAM_AUTHTOK");
		l->has_authtok = tok != NULL;
		tu_fmt(l->authtok, l->authtokcap, "%s", tok != NULL ? tok : "");
	}
	(void)pam_end(pamh, rc);
	if (l->log != NULL)
		tu_read_text(l->logpath, l->log, l->logcap);
	return rc;
}

void
pt_service(const char *confdir, const char *name, const char *text)
{
	char path[PATH_MAX];

	tu_fmt(path, sizeof(path), "%s/%s", confdir, name);
	MUST(tu_write_file(path, text, strlen(text), 0644));
}

void
pt_confdir(const char *confdir)
{
	MUST(mkdir(confdir, 0700));
	pt_service(confdir, "other", "auth required pam_deny.so\n");
}

void
pt_capture_syslog(const char *root, char *out, size_t outlen)
{
	tu_fmt(out, outlen, "%s/syslog", root);
	MUST(setenv("FT_TEST_SYSLOG", out, 1));
}
