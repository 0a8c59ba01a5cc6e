/* Replays a fuzz target's seed corpus (FUZZ_CORPUS, a directory) through
 * its LLVMFuzzerTestOneInput without libFuzzer, so `make check` runs every
 * seed with the ordinary compiler.  TAP: one point per seed; a broken
 * invariant aborts. */
#include <config.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define SEED_MAX 65536U /* bytes read of one seed */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(void)
{
	static uint8_t buf[SEED_MAX];
	char path[4096];
	struct dirent *e;
	DIR *d = opendir(FUZZ_CORPUS);
	unsigned n = 0;
	size_t len;
	FILE *f;

	if (d == NULL) {
		printf("Bail out! cannot open %s\n", FUZZ_CORPUS);
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		(void)snprintf(
		    path, sizeof(path), "%s/%s", FUZZ_CORPUS, e->d_name);
		f = fopen(path, "rb");
		if (f == NULL) {
			printf("not ok %u - %s: cannot open\n", ++n, e->d_name);
			continue;
		}
		len = fread(buf, 1, sizeof(buf), f);
		(void)fclose(f);
		(void)LLVMFuzzerTestOneInput(buf, len);
		printf("ok %u - seed %s\n", ++n, e->d_name);
	}
	(void)closedir(d);
	printf("1..%u\n", n);
	return 0;
}
