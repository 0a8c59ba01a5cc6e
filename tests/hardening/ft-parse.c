/* ft-parse FILE: read FILE and run the real secret-file parser on it (no
 * ownership policy: the crash tests only ask "is it a whole file?").
 * Prints "secret=BASE32 backups=N" and exits 0, or "error: MESSAGE" and
 * exits 1.  Test-only; prints a secret because the tests compare it. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include "base32.h"
#include "rc.h"
#include "secretfile.h"
#include "wipe.h"

#define ERRLEN 256U
#define B32_MAX 256U

int
main(int argc, char **argv)
{
	static struct ft_secret s;
	static char buf[FT_SECRETFILE_MAX_SIZE + 1U];
	char err[ERRLEN], b32[B32_MAX];
	size_t len;
	FILE *f;
	int rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: ft-parse FILE\n");
		return 2;
	}
	if ((f = fopen(argv[1], "rb")) == NULL) {
		printf("error: cannot open\n");
		return 1;
	}
	len = fread(buf, 1, sizeof(buf), f);
	(void)fclose(f);
	err[0] = '\0';
	if (ft_secret_parse(buf, len, &s, err, sizeof(err)) != FT_OK) {
		printf("error: %s\n", err);
		goto out;
	}
	if (ft_base32_encode(s.key, s.keylen, false, b32, sizeof(b32)) !=
	    FT_OK) {
		printf("error: encode\n");
		goto out;
	}
	printf("secret=%s backups=%zu\n", b32, s.nbackup);
	rc = 0;
out:
	ft_secret_wipe(&s);
	ft_wipe(buf, sizeof(buf));
	ft_wipe(b32, sizeof(b32));
	return rc;
}
