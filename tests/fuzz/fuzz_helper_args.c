/* libFuzzer target: flowtotp-helper's argument grammar (cli/helper_args.c),
 * the first code of the set-uid helper to see the caller's words.
 *
 * The input is split at NUL bytes into an argv (as execve would hand it
 * over).  Whatever it is, the parser either refuses it with a message, or
 * accepts exactly a verb of the grammar followed by allowed flags, and then
 * parsing the canonical form of what it accepted gives the same request. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "helper.h"

#define ARGV_MAX 16U /* more than the grammar allows, to test the limit */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_accepted(int argc, const struct cli_helper_req *req)
{
	/* Indexed by enum cli_helper_qr (helper.h). */
	static const char *const qr[] = {
	    NULL, "--qr=utf8", "--qr=ansi", "--qr=none", "--qr=utf8-inverted"};
	const char *canon[CLI_HELPER_ARGC_MAX + 1];
	struct cli_helper_req again;
	const char *why = NULL;
	int n = 0;

	if (req->verb_name == NULL || argc < 2 ||
	    (unsigned)argc > CLI_HELPER_ARGC_MAX)
		abort();
	canon[n++] = "flowtotp-helper";
	canon[n++] = req->verb_name;
	if (req->json)
		canon[n++] = "--json";
	if (req->qr != CLI_HQR_AUTO)
		canon[n++] = qr[req->qr];
	canon[n] = NULL;
	if (n != argc) /* every accepted word changed the request */
		abort();
	if (cli_helper_parse(n, canon, &again, &why) != 0 ||
	    again.verb != req->verb || again.json != req->json ||
	    again.qr != req->qr)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *argv[ARGV_MAX + 1];
	struct cli_helper_req req;
	const char *why = NULL;
	char *buf;
	size_t i, start = 0;
	int argc = 0;

	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (i = 0; i <= size && argc < (int)ARGV_MAX; i++)
		if (buf[i] == '\0') {
			argv[argc++] = buf + start;
			start = i + 1;
		}
	argv[argc] = NULL;
	if (cli_helper_parse(argc, argv, &req, &why) == 0)
		check_accepted(argc, &req);
	else if (why == NULL || why[0] == '\0')
		abort();
	free(buf);
	return 0;
}
