/* Secrets at rest: the AES-256-GCM seal against a known answer computed by
 * an independent implementation (python3-cryptography's AESGCM, see the
 * comment at KAT_BLOB), every bound field and every flipped byte refused,
 * the version-2 file format (exact text, round trip, malformed files), and
 * the store key file parser. */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "rc.h"
#include "secretcrypt.h"
#include "secretfile.h"
#include "secretseal.h"
#include "storekey.h"
#include "tap.h"
#include "util.h"
#include "wipe.h"

#define KEY20 "12345678901234567890"
/* key = 00 01 .. 1f, nonce = a0 .. ab, AAD "flowtotp-secret\0" "2\0" "k1\0"
 * "alice", plaintext KEY20:
 *   AESGCM(key).encrypt(nonce, pt, aad), prefixed with the nonce. */
#define KAT_BLOB                                                               \
	"a0a1a2a3a4a5a6a7a8a9aaabd72a4f1970fd35875b55b6e1344ef5e8479460208a"   \
	"f73b7c89c7be3e4ac0b3154b782825"
#define KAT_FILE                                                               \
	"# flowtotp secret file, see flowtotp(5)\n"                            \
	"version = 2\nkey_id = k1\nsecret_enc = " KAT_BLOB "\n"                \
	"algorithm = SHA1\ndigits = 6\nperiod = 30\ncreated = 1700000000\n"
#define TAIL "algorithm = SHA1\ndigits = 6\nperiod = 30\ncreated = 1\n"
#define KEYHEX                                                                 \
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static void
kat_key(uint8_t key[FT_SC_KEYLEN])
{
	size_t i;

	for (i = 0; i < FT_SC_KEYLEN; i++)
		key[i] = (uint8_t)i;
}

static void
test_kat(void)
{
	uint8_t key[FT_SC_KEYLEN], nonce[FT_SC_NONCELEN];
	uint8_t out[64], pt[64], want[64];
	struct ft_sc_aad aad = {2, "k1", "alice"};
	struct ft_sc_buf p = {(uint8_t *)(uintptr_t)KEY20, 20};
	struct ft_sc_buf o = {out, sizeof(out)}, back = {pt, sizeof(pt)};
	size_t wantlen = 0, i;

	kat_key(key);
	for (i = 0; i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)(0xa0U + i);
	(void)ft_hex_decode(KAT_BLOB, want, sizeof(want), &wantlen);
	is_int(ft_sc_seal(key, nonce, &aad, &p, &o), FT_OK, "seal");
	ok(o.len == wantlen && memcmp(out, want, wantlen) == 0,
	    "known answer (python3-cryptography AESGCM)");
	struct ft_sc_buf in = {out, o.len};
	ok(ft_sc_open(key, &aad, &in, &back) == FT_OK && back.len == 20 &&
		memcmp(pt, KEY20, 20) == 0,
	    "opens to the plaintext");
	for (i = 0; i < o.len; i++) {
		out[i] ^= 0x01U;
		back.len = sizeof(pt);
		if (ft_sc_open(key, &aad, &in, &back) != FT_ERR_CRYPTO)
			break;
		out[i] ^= 0x01U;
	}
	is_int(i, o.len, "every flipped byte (nonce, ciphertext, tag) refused");
	struct ft_sc_aad other[] = {{2, "k1", "bob"}, {2, "k2", "alice"},
	    {1, "k1", "alice"}, {2, "k1", "alicE"}};
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		back.len = sizeof(pt);
		ok(ft_sc_open(key, &other[i], &in, &back) == FT_ERR_CRYPTO,
		    "bound: version %u key %s user %s refused",
		    other[i].version, other[i].key_id, other[i].user);
	}
	key[0] ^= 0x80U;
	back.len = sizeof(pt);
	ok(ft_sc_open(key, &aad, &in, &back) == FT_ERR_CRYPTO, "wrong key");
	in.len = FT_SC_OVERHEAD;
	ok(ft_sc_open(key, &aad, &in, &back) == FT_ERR_PARSE, "too short");
}

static void
kat_ring(struct ft_keyring *kr)
{
	char err[256];
	static const char text[] = "# c\n\nk0 " KEYHEX "\nk1 " KEYHEX "\n";

	if (ft_keyring_parse(text, strlen(text), kr, err, sizeof(err)) != FT_OK)
		bail_out("keyring: %s", err);
	kr->k[0].key[0] = 0xffU; /* k0 differs from k1 */
}

static void
test_file(void)
{
	struct ft_keyring kr;
	struct ft_secret s;
	char err[512] = "", *text = NULL;
	size_t len = 0;

	kat_ring(&kr);
	is_int(
	    ft_secret_parse(KAT_FILE, strlen(KAT_FILE), &s, err, sizeof(err)),
	    FT_OK, "version 2 file parses (%s)", err);
	ok(s.sealed && s.keylen == 0 && strcmp(s.key_id, "k1") == 0,
	    "sealed, key not yet open");
	ok(ft_secret_serialize(&s, &text, &len) == FT_OK &&
		strcmp(text, KAT_FILE) == 0,
	    "written back byte for byte without opening it");
	ft_wipe_free(text, len);
	ok(ft_secret_unseal(&s, "bob", &kr, err, sizeof(err)) ==
		    FT_ERR_UNSAFE &&
		contains(err, "decrypt_failed") && s.keylen == 0,
	    "another user's name: decrypt_failed");
	is_int(ft_secret_unseal(&s, "alice", &kr, err, sizeof(err)), FT_OK,
	    "opens for alice");
	ok(s.keylen == 20 && memcmp(s.key, KEY20, 20) == 0, "the key");
	is_int(ft_secret_seal(&s, "alice", &kr.k[0], err, sizeof(err)), FT_OK,
	    "resealed under k0");
	s.keylen = 0;
	ft_wipe(s.key, sizeof(s.key));
	ok(ft_secret_unseal(&s, "alice", &kr, err, sizeof(err)) == FT_OK &&
		strcmp(s.key_id, "k0") == 0 && memcmp(s.key, KEY20, 20) == 0,
	    "opens under k0 (fresh nonce)");
	(void)ft_keyring_remove(&kr, "k0");
	ok(ft_secret_unseal(&s, "alice", &kr, err, sizeof(err)) ==
		    FT_ERR_UNSAFE &&
		contains(err, "key_unknown"),
	    "key id not in the key file: key_unknown");
	ft_secret_wipe(&s);
	ft_keyring_wipe(&kr);
}

struct bad {
	const char *text;
	const char *frag;
};

static void
test_malformed(void)
{
	static const struct bad bads[] = {
	    {"version = 1\nkey_id = k1\nsecret_enc = " KAT_BLOB "\n" TAIL,
		"needs version = 2"},
	    {"version = 2\nsecret_enc = " KAT_BLOB "\n" TAIL, "without key_id"},
	    {"version = 2\nkey_id = k1\nsecret = GEZDGNBVGY3TQOJQ\n" TAIL,
		"key_id without secret_enc"},
	    {"version = 2\nkey_id = k1\nsecret = GEZDGNBVGY3TQOJQ\n"
	     "secret_enc = " KAT_BLOB "\n" TAIL,
		"both secret and secret_enc"},
	    {"version = 2\nkey_id = k1\nsecret_enc = a0a\n" TAIL,
		"truncated: secret_enc has an odd length"},
	    {"version = 2\nkey_id = k1\nsecret_enc = a0a1a2a3\n" TAIL,
		"truncated: secret_enc too short"},
	    {"version = 2\nkey_id = k1\nsecret_enc = zz\n" TAIL, "not hex"},
	    {"version = 2\nkey_id = k/1\nsecret_enc = " KAT_BLOB "\n" TAIL,
		"malformed key_id"},
	    {"version = 2\nkey_id = k1\nkey_id = k1\nsecret_enc = " KAT_BLOB
	     "\n" TAIL,
		"duplicate key key_id"},
	};
	struct ft_secret s;
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		err[0] = '\0';
		ok(ft_secret_parse(bads[i].text, strlen(bads[i].text), &s, err,
		       sizeof(err)) == FT_ERR_PARSE &&
			contains(err, bads[i].frag),
		    "refused: %s (%s)", bads[i].frag, err);
	}
	static const char v2plain[] =
	    "version = 2\nsecret = GEZDGNBVGY3TQOJQ\n" TAIL;
	ok(ft_secret_parse(v2plain, strlen(v2plain), &s, err, sizeof(err)) ==
		    FT_OK &&
		!s.sealed,
	    "version 2 with a plain secret parses");
}

static void
test_keyfile(void)
{
	static const struct bad bads[] = {
	    {"", "holds no key"},
	    {"# only\n", "holds no key"},
	    {"k1 00\n", "64 hex digits"},
	    {"k1 " KEYHEX "0\n", "64 hex digits"},
	    {"k1 " KEYHEX "\nk1 " KEYHEX "\n", "line 2: duplicate key id"},
	    {"k1\n", "expected"},
	    {"k/1 " KEYHEX "\n", "malformed key id"},
	    {"k1  " KEYHEX "\n", "64 hex digits"},
	};
	struct ft_keyring kr;
	char err[256], *text = NULL;
	size_t i, len = 0;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		err[0] = '\0';
		ok(ft_keyring_parse(bads[i].text, strlen(bads[i].text), &kr,
		       err, sizeof(err)) == FT_ERR_PARSE &&
			contains(err, bads[i].frag) && !contains(err, KEYHEX),
		    "key file refused: %s (%s)", bads[i].frag, err);
	}
	kat_ring(&kr);
	ok(kr.n == 2 && strcmp(ft_keyring_current(&kr)->id, "k1") == 0,
	    "two keys, the last is current");
	is_int(ft_keyring_add_random(&kr), FT_OK, "add a random key");
	ok(kr.n == 3 && ft_key_id_valid(kr.k[2].id), "new id %s", kr.k[2].id);
	ok(ft_keyring_serialize(&kr, &text, &len) == FT_OK, "serialize");
	struct ft_keyring back;
	ok(ft_keyring_parse(text, len, &back, err, sizeof(err)) == FT_OK &&
		back.n == 3 && memcmp(back.k, kr.k, sizeof(kr.k)) == 0,
	    "round trip");
	ft_wipe_free(text, len);
	ft_keyring_wipe(&kr);
	ft_keyring_wipe(&back);
}

int
main(void)
{
	test_kat();
	test_file();
	test_malformed();
	test_keyfile();
	return done_testing();
}
