/* Grace records (grace_days=): when a required, unenrolled user was first
 * seen past the first factor, one small root-owned file per user in a
 * root-owned 0700 directory (grace_dir=), persistent across reboots and
 * cache wipes.  One job: read, write, remove a record and say when its
 * grace ends; the module and totp-enroll share it. */
#ifndef FLOWTOTP_GRACE_H
#define FLOWTOTP_GRACE_H

#include <stddef.h>
#include <stdint.h>

#define FT_GRACE_DIR_DEFAULT "/var/lib/flowtotp/grace"
#define FT_GRACE_DAYS_MAX 3650U /* ten years: past that, use require= */
#define FT_GRACE_DAY_SECONDS 86400

struct ft_grace {
	int64_t first;	      /* first login the requirement applied (epoch) */
	unsigned extend_days; /* added by totp-enroll grace --extend */
};

/* FT_OK, FT_ERR_NOENT (no record), FT_ERR_CORRUPT (does not parse: the
 * caller must treat the grace as over), or the ft_safe_read errors (unsafe
 * file: owner, mode, link, size). */
int ft_grace_read(const char *dir, const char *user, struct ft_grace *g,
    char *err, size_t errlen);

/* Write the record atomically (temp file, fsync, rename), creating dir
 * 0700 root if missing (its parent must exist). */
int ft_grace_write(const char *dir, const char *user, const struct ft_grace *g,
    char *err, size_t errlen);

/* Remove the record: the next login starts the grace again.  FT_ERR_NOENT
 * if there is none. */
int ft_grace_remove(
    const char *dir, const char *user, char *err, size_t errlen);

/* When the grace ends: first + (days + extend_days) days; saturates. */
int64_t ft_grace_end(const struct ft_grace *g, unsigned days);

#endif
