#include <config.h>

#include <stdarg.h>
#include <stdio.h>

#include "rc.h"

const char *
ft_rc_str(int rc)
{
	switch (rc) {
	case FT_OK: return "ok";
	case FT_ERR_ARG: return "invalid argument";
	case FT_ERR_NOMEM: return "out of memory";
	case FT_ERR_NOENT: return "not found";
	case FT_ERR_UNSAFE: return "unsafe file";
	case FT_ERR_TOOBIG: return "too big";
	case FT_ERR_PARSE: return "malformed";
	case FT_ERR_IO: return "i/o error";
	case FT_ERR_CRYPTO: return "crypto error";
	case FT_ERR_LOCKED: return "lock busy";
	case FT_ERR_CORRUPT: return "corrupt state";
	case FT_ERR_BACKEND: return "state backend unavailable";
	case FT_ERR_UNSUPPORTED: return "not supported by this build";
	case FT_ERR_PERM: return "permission denied";
	case FT_ERR_VERSION: return "record of a newer version";
	default: return "unknown error";
	}
}

int
ft_seterr(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return rc;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}
