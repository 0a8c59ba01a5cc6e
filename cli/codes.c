/* New backup codes for enroll, import and backup-codes: shown once, kept
 * only as slow salted hashes (common/backup.c). */
#include <config.h>

#include "backup.h"
#include "cli.h"
#include "rc.h"

int
cli_make_backup_codes(unsigned count,
    char shown[FT_BACKUP_MAX][FT_BACKUP_SHOWN_BUFSZ],
    char hash[FT_BACKUP_MAX][FT_BACKUP_HASH_BUFSZ], size_t *n)
{
	int rc = ft_backup_new_set(count, shown, hash, n);

	if (rc != FT_OK)
		return cli_err(
		    CLI_EX_FAIL, "cannot make backup codes: %s", ft_rc_str(rc));
	return CLI_EX_OK;
}
