/* remember=SECONDS: after a successful code the same user is not asked
 * again for SECONDS on the same service, from the same origin, on the same
 * host since the same boot.  This file makes the key of one such origin: a
 * keyed digest of user, service, host name, boot id, remote host and tty,
 * so the state store holds neither the remote host nor the tty in clear
 * and an entry made on one host or before a reboot matches nothing. */
#ifndef FLOWTOTP_REMEMBER_H
#define FLOWTOTP_REMEMBER_H

#include <stddef.h>
#include <stdint.h>

#define FT_REMEMBER_SECONDS_MAX 604800U /* 7 days: past that, re-ask */
#define FT_REMEMBER_DIGEST_LEN 16U	/* 128 bits of HMAC-SHA-256 */
#define FT_REMEMBER_BOOT_ID_FILE "/proc/sys/kernel/random/boot_id"

/* Where a login comes from; NULL or "" fields count as "-". */
struct ft_remember_origin {
	const char *user;
	const char *service; /* PAM_SERVICE */
	const char *rhost;   /* PAM_RHOST */
	const char *tty;     /* PAM_TTY */
};

/* HMAC-SHA-256 under key (the user's TOTP key: a new enrolment makes every
 * old entry of the user match nothing) over the origin, this host's name
 * and boot id, truncated to FT_REMEMBER_DIGEST_LEN.  FT_OK, or an error
 * (boot id or host name unreadable, OpenSSL) with err set: the caller then
 * asks for a code. */
int ft_remember_digest(const uint8_t *key, size_t keylen,
    const struct ft_remember_origin *o, uint8_t out[FT_REMEMBER_DIGEST_LEN],
    char *err, size_t errlen);

/* The boot id (36 characters of a UUID) from path into out (at least 37
 * bytes). */
int ft_remember_boot_id(
    const char *path, char *out, size_t outlen, char *err, size_t errlen);

#endif
