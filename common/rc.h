/* Result codes shared by every function in common/.  Zero is success; every
 * failure is a distinct negative value so callers can map it to a log reason
 * without parsing strings.  Functions that can fail also take an error buffer
 * (char *err, size_t errlen) that receives one human-readable line; it never
 * contains a secret or a code. */
#ifndef FLOWTOTP_RC_H
#define FLOWTOTP_RC_H

#include <stddef.h>

enum ft_rc {
	FT_OK = 0,
	FT_ERR_ARG = -1,   /* caller passed an invalid argument */
	FT_ERR_NOMEM = -2, /* allocation failed */
	FT_ERR_NOENT =
	    -3, /* the file does not exist (e.g. user not enrolled) */
	FT_ERR_UNSAFE =
	    -4, /* file exists but is unsafe: link, owner, mode, type */
	FT_ERR_TOOBIG = -5, /* size bound exceeded */
	FT_ERR_PARSE = -6,  /* malformed content */
	FT_ERR_IO = -7,	    /* read/write/fsync/rename failed */
	FT_ERR_CRYPTO = -8, /* OpenSSL failed */
	FT_ERR_LOCKED = -9, /* a lock could not be taken within the bound */
	/* state store damaged (the file was set aside), or one record
	 * malformed (only its user is refused) */
	FT_ERR_CORRUPT = -10,
	FT_ERR_BACKEND = -11, /* state backend unavailable (e.g. Redis down) */
	FT_ERR_UNSUPPORTED = -12, /* feature not built in */
	FT_ERR_PERM = -13,	  /* permission denied */
	FT_ERR_VERSION = -14,	  /* a record of a newer version than we read */
};

/* Static, never NULL. */
const char *ft_rc_str(int rc);

/* printf into err (if non-NULL), always NUL-terminated; returns rc so that
 * call sites can write: return ft_seterr(err, errlen, FT_ERR_PARSE, "..."); */
int ft_seterr(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
