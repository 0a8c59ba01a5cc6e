/* The origin digest of remember= (remember.h). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "clock.h"
#include "rc.h"
#include "remember.h"
#include "wipe.h"

#define BOOT_ID_LEN 36U /* 8-4-4-4-12 hex digits */
#define HOST_MAX 256U
#define SHA256_LEN 32U
/* A version word first: a later layout of the input can never produce the
 * digest of this one. */
#define DOMAIN "flowtotp-remember 1"
#define FIELDS 7U
#define MSG_MAX 4096U /* a longer origin is not remembered */

static bool
is_uuid(const char *s)
{
	size_t i;

	for (i = 0; i < BOOT_ID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-'
			 : !((s[i] >= '0' && s[i] <= '9') ||
			       (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

int
ft_remember_boot_id(
    const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
	char buf[BOOT_ID_LEN + 2];
	ssize_t n;
	int fd;

	if (outlen <= BOOT_ID_LEN)
		return ft_seterr(
		    err, errlen, FT_ERR_ARG, "no room for a boot id");
	/* /proc reports size 0, so ft_safe_read's size check does not fit;
	 * the content is checked instead. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return ft_seterr(err, errlen, FT_ERR_IO, "boot id %s: %s", path,
		    strerror(errno));
	n = read(fd, buf, sizeof(buf));
	(void)close(fd);
	if (n < (ssize_t)BOOT_ID_LEN || !is_uuid(buf) ||
	    (n > (ssize_t)BOOT_ID_LEN && buf[BOOT_ID_LEN] != '\n') ||
	    n > (ssize_t)BOOT_ID_LEN + 1)
		return ft_seterr(
		    err, errlen, FT_ERR_PARSE, "boot id %s: not a UUID", path);
	memcpy(out, buf, BOOT_ID_LEN);
	out[BOOT_ID_LEN] = '\0';
	return FT_OK;
}

static const char *
field(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : "-";
}

/* The digest's input: the fields, each followed by a NUL, so that no two
 * different origins give the same bytes. */
static int
message(const struct ft_remember_origin *o, const char *host, const char *boot,
    char *msg, size_t msglen, size_t *len)
{
	const char *f[FIELDS];
	size_t i, n, off = 0;

	f[0] = DOMAIN;
	f[1] = field(o->user);
	f[2] = field(o->service);
	f[3] = host;
	f[4] = boot;
	f[5] = field(o->rhost);
	f[6] = field(o->tty);
	for (i = 0; i < FIELDS; i++) {
		n = strlen(f[i]) + 1U;
		if (n > msglen - off)
			return FT_ERR_TOOBIG;
		memcpy(msg + off, f[i], n);
		off += n;
	}
	*len = off;
	return FT_OK;
}

int
ft_remember_digest(const uint8_t *key, size_t keylen,
    const struct ft_remember_origin *o, uint8_t out[FT_REMEMBER_DIGEST_LEN],
    char *err, size_t errlen)
{
	char host[HOST_MAX + 1], boot[BOOT_ID_LEN + 1];
	char msg[MSG_MAX];
	uint8_t mac[SHA256_LEN];
	size_t len = 0, maclen = 0;
	int rc;

	rc = ft_remember_boot_id(
	    ft_boot_id_file(), boot, sizeof(boot), err, errlen);
	if (rc != FT_OK)
		return rc;
	if (gethostname(host, sizeof(host) - 1U) != 0)
		return ft_seterr(
		    err, errlen, FT_ERR_IO, "host name: %s", strerror(errno));
	host[sizeof(host) - 1U] = '\0';
	if (message(o, host, boot, msg, sizeof(msg), &len) != FT_OK)
		return ft_seterr(err, errlen, FT_ERR_TOOBIG,
		    "remember: origin fields too long");
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, keylen,
		(const unsigned char *)msg, len, mac, sizeof(mac),
		&maclen) == NULL ||
	    maclen != sizeof(mac))
		rc = ft_seterr(
		    err, errlen, FT_ERR_CRYPTO, "remember: HMAC failed");
	else
		memcpy(out, mac, FT_REMEMBER_DIGEST_LEN);
	ft_wipe(mac, sizeof(mac));
	return rc;
}
