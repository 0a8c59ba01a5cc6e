/* Grace records (grace_days=): when a required, unenrolled user was first
 * seen past the first factor, one small root-owned file per user in a
 * root-owned 0700 directory (grace_dir=), persistent across reboots and
 * cache wipes.  One job: read, write, remove a record and say when its
 * grace ends; the module and totp-enroll share it. */
#ifndef FLOWTOTP_GRACE_H
#define FLOWTOTP_GRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

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

/* The store the configuration selects: with cache=redis the record is the
 * Redis key PREFIX:USER:grace (no TTL, the same text), so that every host
 * of a fleet sees one deadline; else the file in grace_dir.  The same
 * results as the file functions above. */
int ft_grace_load(const struct ft_config *c, const char *user,
    struct ft_grace *g, char *err, size_t errlen);
/* Write the record only if there is none (Redis SET NX; a file is
 * written unless one exists).  *created false: another login wrote one
 * first (the caller reads it). */
int ft_grace_create(const struct ft_config *c, const char *user,
    const struct ft_grace *g, bool *created, char *err, size_t errlen);
int ft_grace_save(const struct ft_config *c, const char *user,
    const struct ft_grace *g, char *err, size_t errlen);
int ft_grace_delete(
    const struct ft_config *c, const char *user, char *err, size_t errlen);
/* "redis" or "file": where ft_grace_load looks, for status lines. */
const char *ft_grace_source(const struct ft_config *c);

/* When the grace ends: first + (days + extend_days) days; saturates. */
int64_t ft_grace_end(const struct ft_grace *g, unsigned days);

#endif
