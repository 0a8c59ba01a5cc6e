/* libFuzzer target: the option parser shared by the pam.d line,
 * flowtotp.conf and totp-enroll.
 *
 * The first byte picks a mode.  Every line of the input is fed to
 * ft_config_set_arg (the pam.d argument form); the whole input is fed to
 * the config file parser (conf_parse is static, so this file includes
 * conf.c to reach it without writing root-owned files); and the secret=
 * template is expanded for a fuzzed user and home.  Invariant: an option
 * that is refused says why. */
#include <config.h>

#include "../../common/conf.c"

#include <stdint.h>
#include <stdlib.h>

#define ERRLEN 256U
#define TOKEN_MAX 4096U

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_args(const char *buf, size_t size)
{
	static struct ft_config c;
	char tok[TOKEN_MAX + 1U];
	char err[ERRLEN];
	const char *nl;
	size_t pos = 0, n;

	ft_config_defaults(&c);
	while (pos < size) {
		nl = memchr(buf + pos, '\n', size - pos);
		n = nl != NULL ? (size_t)(nl - (buf + pos)) : size - pos;
		if (n <= TOKEN_MAX) {
			memcpy(tok, buf + pos, n);
			tok[n] = '\0';
			err[0] = '\0';
			if (ft_config_set_arg(&c, tok, err, sizeof(err)) !=
				FT_OK &&
			    err[0] == '\0')
				abort();
		}
		pos += n + 1U;
	}
}

static void
fuzz_file(const char *buf, size_t size)
{
	static struct ft_config c;
	char err[ERRLEN];

	ft_config_defaults(&c);
	err[0] = '\0';
	if (conf_parse(&c, "fuzz.conf", buf, size, err, sizeof(err)) != FT_OK &&
	    err[0] == '\0')
		abort();
}

/* Input: TEMPLATE \n USER \n HOME */
static void
fuzz_path(const char *buf, size_t size)
{
	static struct ft_config c;
	const char *user, *home;
	char *copy, *p;
	char out[PATH_MAX], err[ERRLEN];
	struct passwd pw;

	copy = malloc(size + 1U);
	if (copy == NULL)
		return;
	memcpy(copy, buf, size);
	copy[size] = '\0';
	user = home = "";
	if ((p = strchr(copy, '\n')) != NULL) {
		*p = '\0';
		user = p + 1;
		if ((p = strchr(user, '\n')) != NULL) {
			*p = '\0';
			home = p + 1;
		}
	}
	ft_config_defaults(&c);
	memset(&pw, 0, sizeof(pw));
	pw.pw_name = (char *)(uintptr_t)user;
	pw.pw_dir = (char *)(uintptr_t)home;
	err[0] = '\0';
	if (ft_config_set(&c, "secret", copy, err, sizeof(err)) == FT_OK &&
	    ft_config_secret_path(
		&c, &pw, out, sizeof(out), err, sizeof(err)) == FT_OK) {
		/* An expanded path never escapes through the user name. */
		if (strchr(user, '/') != NULL || user[0] == '.')
			abort();
		if (strlen(out) >= sizeof(out))
			abort();
	}
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data + 1;

	if (size < 1)
		return 0;
	switch (data[0] % 3U) {
	case 0: fuzz_args(buf, size - 1U); break;
	case 1: fuzz_file(buf, size - 1U); break;
	default: fuzz_path(buf, size - 1U); break;
	}
	return 0;
}
