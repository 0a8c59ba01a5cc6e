/* totp-enroll doctor: check this machine's flowtotp setup before it locks
 * anyone out (root only: it reads root's files and runs sshd -T).  Each
 * finding has a severity, a place, what it means and the fix; the exit
 * status says the worst severity (totp-enroll(1), DOCTOR). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include "doctor.h"

int
cmd_doctor(struct cli_ctx *ctx, int argc, char **argv)
{
	struct doc_root *root = NULL;
	struct ft_config *cfg = NULL;
	struct doc_report rep;
	bool cfg_ok;
	int ex;

	(void)argv;
	doc_report_init(&rep);
	if (argc > 0)
		return cli_err(CLI_EX_USAGE, "doctor takes no operands");
	if ((ex = cli_require_root(ctx, "doctor")) != CLI_EX_OK)
		return ex;
	root = calloc(1, sizeof(*root));
	cfg = calloc(1, sizeof(*cfg));
	if (root == NULL || cfg == NULL) {
		ex = cli_err(CLI_EX_FAIL, "out of memory");
		goto out;
	}
	doc_root_get(root);
	/* The configuration first: the pam.d lines are read on top of it. */
	cfg_ok = doc_check_config(ctx->config_path, cfg, &rep);
	doc_check_pam(root, cfg, cfg_ok, &rep);
	doc_check_sshd(root, &rep);
	doc_check_sudo(root, &rep);
	doc_check_store(cfg, &rep);
	doc_check_cache(root, cfg, &rep);
	doc_check_redis(cfg, &rep);
	doc_check_clock(root, &rep);
	if (cfg_ok) {
		doc_check_storekey(ctx, cfg, &rep);
		doc_check_deliver(ctx, cfg, &rep);
		doc_check_coverage(ctx, cfg, &rep);
	}
	if (rep.oom) {
		ex = cli_err(CLI_EX_FAIL, "out of memory");
		goto out;
	}
	doc_print(&rep, stdout, ctx->o.json);
	ex = doc_exit(&rep);
out:
	doc_report_free(&rep);
	free(cfg);
	free(root);
	return ex;
}
