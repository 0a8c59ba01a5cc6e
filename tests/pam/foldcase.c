/* A case-insensitive user database for the tests, as SSSD or winbind
 * against Active Directory is: preloaded ahead of nss_wrapper, it folds the
 * name asked for to lower case before nss_wrapper looks it up, so "ALICE",
 * "Alice" and "alice" all find the one account whose pw_name is "alice". */
#include <config.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <pwd.h>
#include <stddef.h>
#include <string.h>

#define FOLD_NAME_MAX 256U

typedef int (*getpwnam_r_fn)(
    const char *, struct passwd *, char *, size_t, struct passwd **);
typedef struct passwd *(*getpwnam_fn)(const char *);

int getpwnam_r(const char *name, struct passwd *pwd, char *buf, size_t buflen,
    struct passwd **result);
struct passwd *getpwnam(const char *name);

/* false if the name does not fit (then nothing is found) */
static bool
fold(const char *name, char *out, size_t outlen)
{
	size_t i, n = strlen(name);

	if (n >= outlen)
		return false;
	for (i = 0; i <= n; i++)
		out[i] = (char)(name[i] >= 'A' && name[i] <= 'Z'
			? name[i] - 'A' + 'a'
			: name[i]);
	return true;
}

int
getpwnam_r(const char *name, struct passwd *pwd, char *buf, size_t buflen,
    struct passwd **result)
{
	getpwnam_r_fn next = (getpwnam_r_fn)dlsym(RTLD_NEXT, "getpwnam_r");
	char low[FOLD_NAME_MAX];

	*result = NULL;
	if (next == NULL)
		return ENOSYS;
	if (!fold(name, low, sizeof(low)))
		return 0; /* not found */
	return next(low, pwd, buf, buflen, result);
}

struct passwd *
getpwnam(const char *name)
{
	getpwnam_fn next = (getpwnam_fn)dlsym(RTLD_NEXT, "getpwnam");
	char low[FOLD_NAME_MAX];

	if (next == NULL || !fold(name, low, sizeof(low)))
		return NULL;
	return next(low);
}
