/* libFuzzer target: the flowtotp(5) secret file parser.
 *
 * Any input must either be rejected with a message or parse into a valid
 * struct; a parsed file must serialize, and the serialized text must parse
 * back to the same struct (so the module and totp-enroll agree on what they
 * wrote).  Removing a backup entry must keep the rest in order. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rc.h"
#include "secretfile.h"
#include "wipe.h"

#define ERRLEN 256U

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_same(const struct ft_secret *a, const struct ft_secret *b)
{
	size_t i;

	if (a->keylen != b->keylen || memcmp(a->key, b->key, a->keylen) != 0 ||
	    a->algo != b->algo || a->digits != b->digits ||
	    a->period != b->period || a->created != b->created ||
	    a->nbackup != b->nbackup)
		abort();
	for (i = 0; i < a->nbackup; i++)
		if (strcmp(a->backup[i], b->backup[i]) != 0)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ft_secret s, again;
	char err[ERRLEN];
	char *text = NULL;
	size_t textlen = 0, n;

	err[0] = '\0';
	if (ft_secret_parse((const char *)data, size, &s, err, sizeof(err)) !=
	    FT_OK) {
		if (err[0] == '\0')
			abort(); /* every refusal says why */
		return 0;
	}
	if (ft_secret_serialize(&s, &text, &textlen) != FT_OK)
		abort();
	if (strlen(text) != textlen)
		abort();
	if (ft_secret_parse(text, textlen, &again, err, sizeof(err)) != FT_OK)
		abort();
	check_same(&s, &again);
	ft_wipe_free(text, textlen);
	if (s.nbackup > 0) {
		n = s.nbackup;
		if (ft_secret_remove_backup(&s, 0) != FT_OK ||
		    s.nbackup != n - 1)
			abort();
		if (n > 1 && strcmp(s.backup[0], again.backup[1]) != 0)
			abort();
	}
	ft_secret_wipe(&s);
	ft_secret_wipe(&again);
	return 0;
}
