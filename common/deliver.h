/* Codes delivered by a command (deliver=, pam_flowtotp(8)): the code, its
 * keyed hash, the key, the command's safety check and its run.
 *
 * The stored hash is HMAC-SHA256 under a root-only random key file
 * (deliver_key=, FT_DELIVER_KEY_BYTES bytes) over the user name, a NUL and
 * the code.  The key is not in the cache, so whoever reads the cache (a
 * Redis client, a copy of /dev/shm) cannot try the 10^digits codes
 * offline; the user name in the input makes a hash good for its user
 * only.  One key for every user (not one derived from the secret file):
 * a user without an app has no secret to derive it from, and a secret
 * file in the home can be read by its user. */
#ifndef FLOWTOTP_DELIVER_H
#define FLOWTOTP_DELIVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "otp.h"
#include "state.h"

#define FT_DELIVER_KEY_BYTES 32U
/* The answer that asks for a code, besides an empty one. */
#define FT_DELIVER_WORD "send"

/* A uniform random code of `digits` decimal digits (RAND_bytes, rejection
 * sampling per digit) into out (room for digits + 1). */
int ft_deliver_code(unsigned digits, char *out, size_t outlen);

/* HMAC-SHA256(key, user NUL code). */
int ft_deliver_mac(const uint8_t key[FT_DELIVER_KEY_BYTES], const char *user,
    const char *code, uint8_t mac[FT_DELIVER_MAC_LEN]);

/* Read the key: a regular file owned by root, no group/other bits,
 * exactly FT_DELIVER_KEY_BYTES bytes. */
int ft_deliver_key_load(const char *path, uint8_t key[FT_DELIVER_KEY_BYTES],
    char *err, size_t errlen);

/* The key exists and loads, or (missing) is created: random bytes, root,
 * mode 0600, written atomically.  *created says which. */
int ft_deliver_key_ensure(
    const char *path, int *created, char *err, size_t errlen);

/* The command may be run as root's choice: an absolute path whose every
 * directory and the file itself are root's, not writable by group or
 * others, and no symlink on the way (so nobody but root can swap it
 * between this check and the exec); the file is a regular executable. */
int ft_deliver_command_ok(const char *path, char *err, size_t errlen);

/* One run of the command. */
struct ft_deliver_run {
	const char *path;  /* checked with ft_deliver_command_ok */
	uid_t uid;	   /* run as (deliver_user) */
	gid_t gid;	   /* its primary group; no supplementary groups */
	const char *input; /* standard input: "USER\nADDRESS\nCODE\n" */
	size_t inputlen;   /* at most FT_DELIVER_INPUT_MAX */
	unsigned timeout_s;
};
#define FT_DELIVER_INPUT_MAX 1024U

/* Run it with an empty environment, stdin a pipe holding the input,
 * stdout and stderr /dev/null, no other descriptor, and wait at most
 * timeout_s (a pidfd: no signal handler, no SIGCHLD).  FT_OK only when it
 * exited 0; otherwise err says how it failed (exit status, signal,
 * time-out: then it is killed and reaped).  Never says the input. */
int ft_deliver_spawn(const struct ft_deliver_run *r, char *err, size_t errlen);

#endif
