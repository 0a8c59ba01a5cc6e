/* Codes typed by a person: clean them up and check them. */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "cli.h"
#include "rc.h"
#include "wipe.h"

int
cli_code_clean(const char *in, unsigned digits, char *out, size_t outlen)
{
	size_t n = 0;

	for (; *in != '\0'; in++) {
		if (*in == ' ' || *in == '\t')
			continue; /* "123 456" as some apps show it */
		if (*in < '0' || *in > '9' || n + 1 >= outlen)
			goto bad;
		out[n++] = *in;
	}
	if (n != digits)
		goto bad;
	out[n] = '\0';
	return FT_OK;
bad:
	ft_wipe(out, outlen);
	return FT_ERR_PARSE;
}

int
cli_ask_code(const struct ft_secret *s, unsigned window, const char *prompt,
    bool echo, int *offset, uint64_t *step)
{
	struct ft_totp_params p;
	char line[CLI_LINE_MAX], code[FT_CODE_BUFSZ];
	unsigned tries;
	int rc = 0;

	ft_secret_totp_params(s, window, &p);
	for (tries = 0; tries < CLI_CODE_TRIES; tries++) {
		rc = cli_read_line(prompt, echo, line, sizeof(line));
		if (rc == FT_ERR_NOENT)
			break; /* end of input: the caller says so */
		if (rc == FT_OK)
			rc =
			    cli_code_clean(line, s->digits, code, sizeof(code));
		ft_wipe(line, sizeof(line));
		if (rc != FT_OK) {
			cli_warn("not a code: enter the %u digits the app "
				 "shows",
			    s->digits);
			rc = 0;
			continue;
		}
		rc = ft_totp_match(&p, ft_now(), code, offset, step);
		ft_wipe(code, sizeof(code));
		if (rc != 0)
			break;
		cli_warn("that code is not right (is the phone's clock "
			 "correct?)");
	}
	ft_wipe(line, sizeof(line));
	return rc;
}

int
cli_prove(const struct cli_ctx *ctx, const struct cli_target *t)
{
	struct ft_secret s;
	char err[CLI_ERRLEN], prompt[96];
	uint64_t step = 0;
	int off = 0, rc;

	if (ctx->root)
		return CLI_EX_OK;
	err[0] = '\0';
	rc = cli_secret_load(t, &s, err, sizeof(err));
	if (rc == FT_ERR_NOENT) {
		ft_secret_wipe(&s);
		return cli_err(
		    CLI_EX_NOTENROLLED, "%s is not enrolled", t->name);
	}
	if (rc != FT_OK) {
		ft_secret_wipe(&s);
		return cli_err(
		    cli_exit_for(rc) == CLI_EX_PERM ? CLI_EX_PERM : CLI_EX_FAIL,
		    "%s", err);
	}
	(void)snprintf(prompt, sizeof(prompt),
	    "Current %u-digit code from your app: ", s.digits);
	rc = cli_ask_code(&s, ctx->cfg.window, prompt, false, &off, &step);
	ft_secret_wipe(&s);
	if (rc == FT_ERR_NOENT)
		return cli_err(CLI_EX_FAIL, "no code given; nothing changed");
	if (rc < 0)
		return cli_err(
		    CLI_EX_FAIL, "cannot check the code: %s", ft_rc_str(rc));
	if (rc == 0)
		return cli_err(CLI_EX_FAIL,
		    "code not accepted; nothing "
		    "changed");
	return CLI_EX_OK;
}
