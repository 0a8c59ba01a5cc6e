/* New backup codes for enroll, import and backup-codes: shown once, kept
 * only as slow salted hashes (common/backup.c). */
#include <config.h>

#include "backup.h"
#include "cli.h"
#include "rc.h"
#include "wipe.h"

int
cli_make_backup_codes(unsigned count,
    char shown[FT_BACKUP_MAX][FT_BACKUP_SHOWN_BUFSZ],
    char hash[FT_BACKUP_MAX][FT_BACKUP_HASH_BUFSZ], size_t *n)
{
	char norm[FT_BACKUP_NORM_BUFSZ];
	size_t i, want = count;
	int rc = FT_OK;

	if (want > FT_BACKUP_MAX)
		want = FT_BACKUP_MAX;
	*n = 0;
	for (i = 0; rc == FT_OK && i < want; i++) {
		rc = ft_backup_generate(shown[i], FT_BACKUP_SHOWN_BUFSZ);
		if (rc == FT_OK)
			rc = ft_backup_normalize(shown[i], norm, sizeof(norm));
		if (rc == FT_OK)
			rc = ft_backup_hash(norm, FT_BACKUP_ITERATIONS_DEFAULT,
			    hash[i], FT_BACKUP_HASH_BUFSZ);
	}
	ft_wipe(norm, sizeof(norm));
	if (rc != FT_OK)
		return cli_err(
		    CLI_EX_FAIL, "cannot make backup codes: %s", ft_rc_str(rc));
	*n = want;
	return CLI_EX_OK;
}
