/* totp-enroll [enroll]: a new secret, shown as a QR code, the secret and the
 * URI; saved only after the person proves their app has it (unless
 * --no-confirm), together with the hashes of fresh backup codes, which are
 * printed once.  Nothing is written before the confirmation, and the write
 * is atomic, so Ctrl-C or a failure anywhere leaves the old enrolment. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup.h"
#include "base32.h"
#include "clock.h"
#include "cli.h"
#include "random.h"
#include "rc.h"
#include "uri.h"
#include "wipe.h"

#define CONFIRM_WINDOW 1U /* steps either side when confirming */
#define B32_BUFSZ 64U	  /* base32 of FT_KEY_DEFAULT bytes + NUL */
#define GROUP 4U	  /* secret shown in groups of four */
#define HOSTNAME_BUFSZ 256U

struct enroll {
	struct cli_target t;
	uint8_t key[FT_KEY_DEFAULT];
	char b32[B32_BUFSZ];
	char *uri;
	char host[HOSTNAME_BUFSZ];
	char issuer[CLI_LABEL_MAX];
	char account[CLI_LABEL_MAX + HOSTNAME_BUFSZ];
	struct ft_secret s;
	char codes[FT_BACKUP_MAX][FT_BACKUP_SHOWN_BUFSZ];
	bool existed;
	bool confirmed;
	uint64_t step;
};

static void
enroll_wipe(struct enroll *e)
{
	ft_wipe_free_str(e->uri);
	ft_wipe(e, sizeof(*e));
}

static int
make_names(const struct cli_ctx *ctx, struct enroll *e)
{
	const char *issuer = ctx->o.issuer;

	if (gethostname(e->host, sizeof(e->host) - 1) != 0)
		(void)snprintf(e->host, sizeof(e->host), "localhost");
	e->host[sizeof(e->host) - 1] = '\0';
	if (issuer == NULL)
		issuer = ctx->cfg.issuer[0] != '\0' ? ctx->cfg.issuer : e->host;
	if (strchr(issuer, ':') != NULL)
		return cli_err(CLI_EX_USAGE,
		    "the issuer must not contain ':' "
		    "(apps split the label there): %s",
		    issuer);
	(void)snprintf(e->issuer, sizeof(e->issuer), "%s", issuer);
	/* The hostname is in the account unless it already is the issuer. */
	if (ctx->o.label != NULL)
		(void)snprintf(
		    e->account, sizeof(e->account), "%s", ctx->o.label);
	else if (strcmp(e->issuer, e->host) == 0)
		(void)snprintf(e->account, sizeof(e->account), "%s", e->t.name);
	else
		(void)snprintf(e->account, sizeof(e->account), "%s@%s",
		    e->t.name, e->host);
	return CLI_EX_OK;
}

static int
make_secret(const struct cli_ctx *ctx, struct enroll *e)
{
	const struct ft_totp_params p = {.algo = ctx->o.algo,
	    .digits = ctx->o.digits,
	    .period = ctx->o.period};
	int rc;

	if ((rc = ft_random_bytes(e->key, sizeof(e->key))) != FT_OK ||
	    (rc = ft_base32_encode(e->key, sizeof(e->key), false, e->b32,
		 sizeof(e->b32))) != FT_OK ||
	    (rc = ft_otpauth_uri(e->issuer, e->account, e->b32, &p, &e->uri)) !=
		FT_OK)
		return cli_err(
		    CLI_EX_FAIL, "cannot make a secret: %s", ft_rc_str(rc));
	memcpy(e->s.key, e->key, sizeof(e->key));
	e->s.keylen = sizeof(e->key);
	e->s.algo = ctx->o.algo;
	e->s.digits = ctx->o.digits;
	e->s.period = ctx->o.period;
	e->s.created = (int64_t)ft_now();
	return CLI_EX_OK;
}

static void
print_grouped(FILE *out, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i > 0 && i % GROUP == 0)
			(void)fputc(' ', out);
		(void)fputc(s[i], out);
	}
}

/* The secret in text, then the QR code last: the confirmation prompt comes
 * right under the code, so that on an 80 x 24 terminal the whole code and
 * the prompt are on screen together (the text above may scroll away; it is
 * also in the scrollback). */
static int
show_secret(const struct cli_ctx *ctx, const struct enroll *e)
{
	enum cli_qr_mode qr = ctx->o.qr;
	int rc;

	(void)printf(
	    "Enrolling %s (secret file %s).\n\n", e->t.name, e->t.path);
	(void)printf("Secret for manual entry: ");
	print_grouped(stdout, e->b32);
	(void)printf("\nAccount: %s  Issuer: %s  (%s, %u digits, every %u "
		     "seconds)\nURI: %s\n\n",
	    e->account, e->issuer, ft_algo_name(e->s.algo), e->s.digits,
	    e->s.period, e->uri);
	if (qr != CLI_QR_NONE) {
		(void)printf("Light terminal background? Use "
			     "--qr=utf8-inverted (or --qr=ansi, --qr=none).\n"
			     "Scan this QR code with your authenticator "
			     "app:\n");
		if ((rc = cli_qr_print(stdout, e->uri, qr)) != FT_OK)
			return cli_err(CLI_EX_FAIL,
			    "cannot draw the QR code "
			    "(%s); try a shorter --label or --qr=none",
			    ft_rc_str(rc));
	}
	(void)fflush(stdout);
	return CLI_EX_OK;
}

static int
confirm(struct enroll *e)
{
	char prompt[80];
	int off = 0, rc;

	(void)snprintf(prompt, sizeof(prompt),
	    "Enter the %u-digit code from the app to confirm: ", e->s.digits);
	rc = cli_ask_code(&e->s, CONFIRM_WINDOW, prompt, true, &off, &e->step);
	if (rc == FT_ERR_NOENT)
		return cli_err(CLI_EX_FAIL,
		    "not enrolled: no code given; "
		    "nothing was saved");
	if (rc < 0)
		return cli_err(
		    CLI_EX_FAIL, "cannot check the code: %s", ft_rc_str(rc));
	if (rc == 0)
		return cli_err(CLI_EX_FAIL,
		    "not enrolled: the app's codes "
		    "did not match; nothing was saved");
	e->confirmed = true;
	return CLI_EX_OK;
}

static void
print_result_text(const struct enroll *e)
{
	size_t i;

	(void)printf("Enrolled %s.\n", e->t.name);
	if (e->s.nbackup == 0)
		return;
	(void)printf(
	    "\nBackup codes: each works once, for when the phone is "
	    "not at hand.\nThey are shown only now; keep them somewhere "
	    "safe.\n\n");
	for (i = 0; i < e->s.nbackup; i++)
		(void)printf("  %s\n", e->codes[i]);
}

static void
print_result_json(const struct enroll *e)
{
	char when[64];
	size_t i;

	cli_time_iso((time_t)e->s.created, when, sizeof(when));
	(void)printf("{\"user\":");
	cli_json_str(stdout, e->t.name);
	(void)printf(",\"path\":");
	cli_json_str(stdout, e->t.path);
	(void)printf(",\"secret\":\"%s\",\"uri\":", e->b32);
	cli_json_str(stdout, e->uri);
	(void)printf(",\"issuer\":");
	cli_json_str(stdout, e->issuer);
	(void)printf(",\"account\":");
	cli_json_str(stdout, e->account);
	(void)printf(",\"algorithm\":\"%s\",\"digits\":%u,\"period\":%u,"
		     "\"created\":%lld,\"created_utc\":\"%s\",\"confirmed\":%s,"
		     "\"replaced\":%s,\"backup_codes\":[",
	    ft_algo_name(e->s.algo), e->s.digits, e->s.period,
	    (long long)e->s.created, when, e->confirmed ? "true" : "false",
	    e->existed ? "true" : "false");
	for (i = 0; i < e->s.nbackup; i++)
		(void)printf("%s\"%s\"", i > 0 ? "," : "", e->codes[i]);
	(void)printf("]}\n");
}

/* Through the helper, enrolment into the root store is for users not yet
 * enrolled, and only where the administrator turned self_enroll on:
 * whoever has a user's password and a shell could otherwise bind their
 * own phone before the user does. */
static int
self_enroll_allowed(const struct cli_ctx *ctx, const struct cli_target *t)
{
	if (!ctx->helper || ctx->cfg.self_enroll)
		return CLI_EX_OK;
	return cli_err(CLI_EX_PERM,
	    "enrolling yourself from a shell is turned off here "
	    "(self_enroll): ask an administrator to run '" CLI_PROG
	    " --user %s'",
	    t->name);
}

static int
enroll(struct cli_ctx *ctx, struct enroll *e)
{
	const struct cli_opts *o = &ctx->o;
	char err[CLI_ERRLEN];
	int ex, rc;

	if ((ex = cli_target(ctx, o->user, &e->t)) != CLI_EX_OK ||
	    (ex = self_enroll_allowed(ctx, &e->t)) != CLI_EX_OK ||
	    (ex = cli_store_writable(ctx, &e->t)) != CLI_EX_OK ||
	    (ex = cli_check_existing(ctx, &e->t, &e->existed)) != CLI_EX_OK ||
	    (ex = cli_secret_prepare(ctx, &e->t)) != CLI_EX_OK ||
	    (ex = make_names(ctx, e)) != CLI_EX_OK ||
	    (ex = make_secret(ctx, e)) != CLI_EX_OK)
		return ex;
	if (o->algo != FT_ALGO_SHA1 || o->digits != FT_DIGITS_DEFAULT ||
	    o->period != FT_PERIOD_DEFAULT)
		cli_warn("warning: many authenticator apps accept only SHA1, "
			 "6 digits and a 30 second period, and some silently "
			 "ignore other values");
	if (!o->json && (ex = show_secret(ctx, e)) != CLI_EX_OK)
		return ex;
	if (!o->no_confirm && (ex = confirm(e)) != CLI_EX_OK)
		return ex;
	if ((ex = cli_make_backup_codes(ctx->cfg.backup_codes, e->codes,
		 e->s.backup, &e->s.nbackup)) != CLI_EX_OK)
		return ex;
	err[0] = '\0';
	rc = cli_secret_save(ctx, &e->t, &e->s, err, sizeof(err));
	if (rc != FT_OK)
		return cli_err(
		    cli_exit_for(rc) == CLI_EX_PERM ? CLI_EX_PERM : CLI_EX_FAIL,
		    "not enrolled: cannot save %s: %s", e->t.path, err);
	cli_log(
	    ctx, "%s %s", e->existed ? "re-enrolled" : "enrolled", e->t.name);
	cli_state_restart(ctx, e->t.name, e->confirmed ? e->step : 0);
	if (o->json)
		print_result_json(e);
	else
		print_result_text(e);
	return CLI_EX_OK;
}

int
cmd_enroll(struct cli_ctx *ctx, int argc, char **argv)
{
	struct enroll *e;
	int ex;

	(void)argv;
	if (argc > 0)
		return cli_err(CLI_EX_USAGE,
		    "enroll takes no operands (use "
		    "--user NAME)");
	if (ctx->o.deliver != NULL)
		return cli_enroll_deliver(ctx);
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return cli_err(CLI_EX_FAIL, "out of memory");
	ex = enroll(ctx, e);
	enroll_wipe(e);
	free(e);
	return ex;
}
