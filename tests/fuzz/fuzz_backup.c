/* libFuzzer target: backup-code input handling.
 *
 * Invariants: ft_backup_looks_like() agrees with ft_backup_normalize(); a
 * normalized code is FT_BACKUP_CHARS characters of the alphabet and
 * normalizes to itself; the stored-hash syntax check never crashes; and
 * verify() matches a fuzzed input against a known stored code only when it
 * normalizes to that code. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "rc.h"

#define KNOWN_CODE "k7qm4xwzr2pt"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char stored[FT_BACKUP_HASH_BUFSZ];

static void
init_stored(void)
{
	if (stored[0] != '\0')
		return;
	if (ft_backup_hash(KNOWN_CODE, FT_BACKUP_ITERATIONS_MIN, stored,
		sizeof(stored)) != FT_OK ||
	    ft_backup_hash_validate(stored) != FT_OK)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char norm[FT_BACKUP_NORM_BUFSZ], again[FT_BACKUP_NORM_BUFSZ];
	const char *list[1];
	size_t idx = 99, i;
	char *s;
	bool looks;
	int rc, v;

	init_stored();
	s = malloc(size + 1U);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	looks = ft_backup_looks_like(s);
	rc = ft_backup_normalize(s, norm, sizeof(norm));
	if (looks != (rc == FT_OK))
		abort();
	if (rc == FT_OK) {
		if (strlen(norm) != FT_BACKUP_CHARS)
			abort();
		for (i = 0; i < FT_BACKUP_CHARS; i++)
			if (strchr(FT_BACKUP_ALPHABET, norm[i]) == NULL)
				abort();
		if (ft_backup_normalize(norm, again, sizeof(again)) != FT_OK ||
		    strcmp(norm, again) != 0)
			abort();
		list[0] = stored;
		v = ft_backup_verify(s, list, 1, &idx);
		if (v < 0)
			abort();
		if ((v == 1) != (strcmp(norm, KNOWN_CODE) == 0))
			abort();
		if (v == 1 && idx != 0)
			abort();
	} else {
		/* Malformed input is "no match", never an error or a hit. */
		list[0] = stored;
		if (ft_backup_verify(s, list, 1, &idx) != 0)
			abort();
	}
	/* A too-small output buffer is refused. */
	if (ft_backup_normalize(s, again, FT_BACKUP_CHARS) == FT_OK)
		abort();
	(void)ft_backup_hash_validate(s);
	free(s);
	return 0;
}
