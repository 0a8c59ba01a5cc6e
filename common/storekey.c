/* The store key file: parse, write, look keys up. */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "random.h"
#include "rc.h"
#include "safefile.h"
#include "storekey.h"
#include "wipe.h"

#define KEYFILE_HEADER                                                         \
	"# flowtotp store key, see flowtotp(5); the last line is current\n"
#define KEYFILE_MODE 0600
/* Owner read/write only: an executable bit or any group/other bit refuses
 * the file (it is the key of every secret). */
#define KEYFILE_FORBIDDEN 0177
#define KEY_HEX_LEN (2U * FT_SC_KEYLEN)
#define LINE_MAX_LEN (FT_KEY_ID_MAX + KEY_HEX_LEN + 16U)
#define ID_RANDOM_BYTES 4U
#define ID_TRIES 8

static int
kerr(char *err, size_t errlen, unsigned lineno, const char *what)
{
	return ft_seterr(
	    err, errlen, FT_ERR_PARSE, "key file line %u: %s", lineno, what);
}

/* One non-comment line "ID HEX" (already NUL-terminated, no '\n'). */
static int
parse_key_line(struct ft_keyring *kr, char *line, unsigned lineno, char *err,
    size_t errlen)
{
	char *sp = strchr(line, ' ');
	size_t n = 0;
	struct ft_store_key *k;

	if (sp == NULL)
		return kerr(err, errlen, lineno, "expected \"ID HEX\"");
	*sp = '\0';
	if (!ft_key_id_valid(line))
		return kerr(err, errlen, lineno, "malformed key id");
	if (ft_keyring_find(kr, line) != NULL)
		return kerr(err, errlen, lineno, "duplicate key id");
	if (kr->n >= FT_STOREKEY_MAX)
		return kerr(err, errlen, lineno, "too many keys");
	k = &kr->k[kr->n];
	if (strlen(sp + 1) != KEY_HEX_LEN ||
	    ft_hex_decode(sp + 1, k->key, sizeof(k->key), &n) != FT_OK ||
	    n != FT_SC_KEYLEN) {
		ft_wipe(k, sizeof(*k));
		return kerr(err, errlen, lineno,
		    "the key must be 64 hex digits (32 bytes)");
	}
	memcpy(k->id, line, strlen(line) + 1U);
	kr->n++;
	return FT_OK;
}

int
ft_keyring_parse(const char *buf, size_t len, struct ft_keyring *kr, char *err,
    size_t errlen)
{
	char line[LINE_MAX_LEN + 1U];
	size_t pos = 0, n;
	unsigned lineno = 0;
	const char *nl;
	int rc = FT_OK;

	ft_keyring_wipe(kr);
	while (rc == FT_OK && pos < len) {
		lineno++;
		nl = memchr(buf + pos, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - (buf + pos)) : len - pos;
		if (n > LINE_MAX_LEN || memchr(buf + pos, '\0', n) != NULL) {
			rc = kerr(err, errlen, lineno, "malformed line");
			break;
		}
		memcpy(line, buf + pos, n);
		line[n] = '\0';
		pos += n + (nl != NULL ? 1U : 0U);
		if (n == 0 || line[0] == '#')
			continue;
		rc = parse_key_line(kr, line, lineno, err, errlen);
	}
	if (rc == FT_OK && kr->n == 0)
		rc = ft_seterr(
		    err, errlen, FT_ERR_PARSE, "key file holds no key");
	ft_wipe(line, sizeof(line));
	if (rc != FT_OK)
		ft_keyring_wipe(kr);
	return rc;
}

int
ft_keyring_serialize(const struct ft_keyring *kr, char **out, size_t *outlen)
{
	size_t cap = sizeof(KEYFILE_HEADER) + FT_STOREKEY_MAX * LINE_MAX_LEN;
	char hex[KEY_HEX_LEN + 1U];
	char *buf;
	size_t used, i;
	int n, rc = FT_OK;

	*out = NULL;
	*outlen = 0;
	if (kr->n == 0 || kr->n > FT_STOREKEY_MAX)
		return FT_ERR_ARG;
	if ((buf = malloc(cap)) == NULL)
		return FT_ERR_NOMEM;
	used = (size_t)snprintf(buf, cap, "%s", KEYFILE_HEADER);
	for (i = 0; rc == FT_OK && i < kr->n; i++) {
		rc =
		    ft_hex_encode(kr->k[i].key, FT_SC_KEYLEN, hex, sizeof(hex));
		n = snprintf(
		    buf + used, cap - used, "%s %s\n", kr->k[i].id, hex);
		if (rc == FT_OK && (n < 0 || (size_t)n >= cap - used))
			rc = FT_ERR_ARG;
		if (rc == FT_OK)
			used += (size_t)n;
	}
	ft_wipe(hex, sizeof(hex));
	if (rc != FT_OK) {
		ft_wipe_free(buf, cap);
		return rc;
	}
	*out = buf;
	*outlen = used;
	return FT_OK;
}

int
ft_keyring_read(
    const char *path, struct ft_keyring *kr, char *err, size_t errlen)
{
	struct ft_file_policy pol;
	char *buf = NULL, msg[256];
	size_t len = 0;
	int rc;

	ft_keyring_wipe(kr);
	memset(&pol, 0, sizeof(pol));
	pol.owner = 0;
	pol.allow_root = true;
	pol.forbidden_mode = KEYFILE_FORBIDDEN;
	pol.max_size = FT_STOREKEY_MAX_SIZE;
	if ((rc = ft_safe_read(path, &pol, &buf, &len, err, errlen)) != FT_OK)
		return rc;
	rc = ft_keyring_parse(buf, len, kr, msg, sizeof(msg));
	ft_wipe_free(buf, len);
	if (rc != FT_OK)
		return ft_seterr(err, errlen, rc, "%s: %s", path, msg);
	(void)snprintf(kr->path, sizeof(kr->path), "%s", path);
	return FT_OK;
}

int
ft_keyring_load(const char *primary, const char *fallback,
    struct ft_keyring *kr, char *err, size_t errlen)
{
	int rc = ft_keyring_read(primary, kr, err, errlen);

	if (rc != FT_ERR_NOENT)
		return rc;
	if (fallback != NULL && fallback[0] != '\0')
		rc = ft_keyring_read(fallback, kr, err, errlen);
	if (rc == FT_ERR_NOENT)
		return ft_seterr(err, errlen, FT_ERR_NOENT,
		    "neither %s nor %s exists", primary,
		    fallback != NULL && fallback[0] != '\0' ? fallback
							    : "a fallback");
	return rc;
}

const struct ft_store_key *
ft_keyring_find(const struct ft_keyring *kr, const char *id)
{
	size_t i;

	for (i = 0; i < kr->n; i++)
		if (strcmp(kr->k[i].id, id) == 0)
			return &kr->k[i];
	return NULL;
}

const struct ft_store_key *
ft_keyring_current(const struct ft_keyring *kr)
{
	return kr->n > 0 ? &kr->k[kr->n - 1U] : NULL;
}

int
ft_keyring_add_random(struct ft_keyring *kr)
{
	uint8_t r[ID_RANDOM_BYTES];
	char id[FT_KEY_ID_BUFSZ];
	struct ft_store_key *k;
	int tries, rc;

	if (kr->n >= FT_STOREKEY_MAX)
		return FT_ERR_TOOBIG;
	memset(id, 0, sizeof(id));
	for (tries = 0; tries < ID_TRIES; tries++) {
		if ((rc = ft_random_bytes(r, sizeof(r))) != FT_OK)
			return rc;
		id[0] = 'k';
		if ((rc = ft_hex_encode(
			 r, sizeof(r), id + 1, sizeof(id) - 1U)) != FT_OK)
			return rc;
		if (ft_keyring_find(kr, id) == NULL)
			break;
	}
	if (tries == ID_TRIES)
		return FT_ERR_CRYPTO;
	k = &kr->k[kr->n];
	if ((rc = ft_random_bytes(k->key, sizeof(k->key))) != FT_OK)
		return rc;
	memcpy(k->id, id, sizeof(id));
	kr->n++;
	return FT_OK;
}

int
ft_keyring_remove(struct ft_keyring *kr, const char *id)
{
	const struct ft_store_key *k = ft_keyring_find(kr, id);
	size_t idx;

	if (k == NULL)
		return FT_ERR_NOENT;
	idx = (size_t)(k - kr->k);
	memmove(&kr->k[idx], &kr->k[idx + 1U],
	    (kr->n - idx - 1U) * sizeof(kr->k[0]));
	kr->n--;
	ft_wipe(&kr->k[kr->n], sizeof(kr->k[0]));
	return FT_OK;
}

int
ft_keyring_write(
    const char *path, const struct ft_keyring *kr, char *err, size_t errlen)
{
	struct ft_file_owner own = {KEYFILE_MODE, 0, 0};
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if ((rc = ft_keyring_serialize(kr, &buf, &len)) != FT_OK)
		return ft_seterr(err, errlen, rc, "%s: cannot serialize: %s",
		    path, ft_rc_str(rc));
	rc = ft_atomic_write(path, buf, len, &own, err, errlen);
	ft_wipe_free(buf, len);
	return rc;
}

void
ft_keyring_wipe(struct ft_keyring *kr)
{
	if (kr != NULL)
		ft_wipe(kr, sizeof(*kr));
}
