/* Users from nss_wrapper: see nsswrap.h. */
#include <config.h>

#include <dlfcn.h>
#include <stdint.h>

#include "nsswrap.h"
#include "util.h"

#define USR_PREFIX "/usr/"

void
tu_lib_dirs(char *d1, size_t n1, char *d2, size_t n2)
{
	Dl_info info;
	char *slash;

	tu_fmt(d1, n1, "/usr/lib");
	tu_fmt(d2, n2, "/usr/lib64");
	if (dladdr((void *)(uintptr_t)&getpid, &info) == 0 ||
	    info.dli_fname == NULL)
		return;
	tu_fmt(d1, n1, "%s", info.dli_fname);
	slash = strrchr(d1, '/');
	if (slash != NULL)
		*slash = '\0';
	/* /lib/x86_64-linux-gnu -> /usr/lib/x86_64-linux-gnu */
	if (strncmp(d1, USR_PREFIX, strlen(USR_PREFIX)) != 0)
		tu_fmt(d2, n2, "/usr%s", d1);
	else
		tu_fmt(d2, n2, "%s", d1);
}

bool
tu_find_lib(const char *name, char *out, size_t outlen)
{
	char d1[PATH_MAX], d2[PATH_MAX];

	tu_lib_dirs(d1, sizeof(d1), d2, sizeof(d2));
	tu_fmt(out, outlen, "%s/%s", d1, name);
	if (access(out, R_OK) == 0)
		return true;
	tu_fmt(out, outlen, "%s/%s", d2, name);
	if (access(out, R_OK) == 0)
		return true;
	out[0] = '\0';
	return false;
}

void
tu_nss_preload(const char *root, const char *first)
{
	char nss[PATH_MAX], pre[PATH_MAX * 3];
	const char *old;

	if (!tu_find_lib("libnss_wrapper.so", nss, sizeof(nss))) {
		tu_rmrf(root);
		skip_all("libnss_wrapper.so not found (Debian libnss-wrapper)");
	}
	old = getenv("LD_PRELOAD");
	tu_fmt(pre, sizeof(pre), "%s%s%s%s%s", first != NULL ? first : "",
	    first != NULL ? ":" : "", nss,
	    old != NULL && old[0] != '\0' ? ":" : "", old != NULL ? old : "");
	MUST(setenv("LD_PRELOAD", pre, 1));
	/* sanitizer builds: the preload comes before the ASan runtime */
	old = getenv("ASAN_OPTIONS");
	tu_fmt(pre, sizeof(pre), "%s%sverify_asan_link_order=0",
	    old != NULL ? old : "", old != NULL && old[0] != '\0' ? ":" : "");
	MUST(setenv("ASAN_OPTIONS", pre, 1));
}

void
tu_users_begin(struct tu_users *u, const char *root)
{
	char path[PATH_MAX];

	tu_fmt(u->root, sizeof(u->root), "%s", root);
	tu_fmt(path, sizeof(path), "%s/home", root);
	MUST(mkdir(path, 0755));
	tu_fmt(path, sizeof(path), "%s/passwd", root);
	u->pw = fopen(path, "w");
	MUST(setenv("NSS_WRAPPER_PASSWD", path, 1));
	tu_fmt(path, sizeof(path), "%s/group", root);
	u->gr = fopen(path, "w");
	MUST(setenv("NSS_WRAPPER_GROUP", path, 1));
	if (u->pw == NULL || u->gr == NULL)
		bail_out("fopen");
	fprintf(u->gr, "ftgroup:x:%lu:\n", (unsigned long)getgid());
}

void
tu_users_add(
    struct tu_users *u, const char *name, unsigned long uid, int home_mode)
{
	bool mine = uid == (unsigned long)getuid();
	unsigned long gid = mine ? (unsigned long)getgid() : uid;
	char home[PATH_MAX];

	tu_fmt(home, sizeof(home), "%s/home/%s", u->root, name);
	if (home_mode >= 0) {
		MUST(mkdir(home, (mode_t)home_mode));
		if (!mine)
			MUST(chown(home, (uid_t)uid, (gid_t)gid));
	}
	fprintf(u->pw, "%s:x:%lu:%lu:test user:%s:/bin/false\n", name, uid, gid,
	    home);
	if (!mine)
		fprintf(u->gr, "%s:x:%lu:\n", name, gid);
}

void
tu_users_end(struct tu_users *u)
{
	if (fclose(u->pw) != 0 || fclose(u->gr) != 0)
		bail_out("fclose");
	u->pw = u->gr = NULL;
}
