/* totp-enroll doctor: the root store of secret files (secret= outside the
 * homes): its ownership and mode, and files the module never reads because
 * their name is not the name the user database gives (the module looks a
 * secret up by the canonical pw_name, not by what was typed). */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doctor.h"
#include "safefile.h"

#define ROOT_UID 0
#define MODE_BITS 07777
#define GROUP_OTHER_WRITE 022
#define GROUP_OTHER_ANY 077
#define USER_ESCAPE "%u"

static const struct doc_kind k_home = {"store-in-home", DOC_INFO,
    "nothing to do: each user's secret file is in their home"};
static const struct doc_kind k_missing = {"store-missing", DOC_INFO,
    "nothing to do until the first enrolment: totp-enroll creates it "
    "(mode 0700)"};
static const struct doc_kind k_unsafe = {"store-unsafe", DOC_ERROR,
    "make the store a directory owned by root, mode 0700, with no symlink "
    "in its path"};
static const struct doc_kind k_mode = {"store-mode", DOC_WARN,
    "chmod 0700: others can see who is enrolled, or worse"};
static const struct doc_kind k_name = {"store-user-name", DOC_WARN,
    "re-enrol the user under their canonical name (totp-enroll --user "
    "NAME) and remove this file: the module never reads it"};

/* The store directory and the file name around %u; false when the template
 * is not of the form /dir/PREFIX%uSUFFIX. */
static bool
store_parts(const char *tpl, char *dir, size_t dirlen, const char **prefix,
    const char **suffix)
{
	const char *slash = strrchr(tpl, '/'), *u;

	if (slash == NULL || (u = strstr(slash, USER_ESCAPE)) == NULL ||
	    memchr(tpl, '%', (size_t)(slash - tpl)) != NULL ||
	    strchr(u + 2, '%') != NULL)
		return false;
	(void)snprintf(dir, dirlen, "%.*s", (int)(slash - tpl), tpl);
	*prefix = slash + 1;
	*suffix = u + 2;
	return true;
}

static void
check_name(const char *name, const char *prefix, const char *suffix,
    const struct doc_where *w, struct doc_report *rep)
{
	size_t np = strcspn(prefix, "%"), ns = strlen(suffix), n = strlen(name);
	char user[CLI_NAME_MAX];
	struct passwd *pw;

	if (n <= np + ns || strncmp(name, prefix, np) != 0 ||
	    strcmp(name + n - ns, suffix) != 0 || n - np - ns >= sizeof(user))
		return;
	(void)snprintf(
	    user, sizeof(user), "%.*s", (int)(n - np - ns), name + np);
	errno = 0;
	/* Single-threaded command: the static result is fine. */
	// cppcheck-suppress getpwnamCalled
	pw = getpwnam(user);
	if (pw == NULL)
		doc_add(rep, &k_name, w,
		    "%s: no user \"%s\" in the user database", name, user);
	else if (strcmp(pw->pw_name, user) != 0)
		doc_add(rep, &k_name, w,
		    "%s: the user database calls \"%s\" \"%s\"", name, user,
		    pw->pw_name);
}

static void
scan(int fd, const char *prefix, const char *suffix, const struct doc_where *w,
    struct doc_report *rep)
{
	struct dirent *d;
	DIR *dir = fdopendir(fd);

	if (dir == NULL) {
		(void)close(fd);
		return;
	}
	/* One directory stream, one thread: readdir is reentrant enough. */
	// cppcheck-suppress readdirCalled
	while ((d = readdir(dir)) != NULL)
		if (d->d_name[0] != '.' && d->d_type != DT_DIR)
			check_name(d->d_name, prefix, suffix, w, rep);
	(void)closedir(dir);
}

void
doc_check_store(const struct ft_config *cfg, struct doc_report *rep)
{
	char dir[PATH_MAX];
	const char *prefix, *suffix;
	struct doc_where w = {dir, 0};
	struct stat sb;
	int fd;

	if (ft_config_secret_in_home(cfg) ||
	    !store_parts(cfg->secret, dir, sizeof(dir), &prefix, &suffix)) {
		doc_add(rep, &k_home, &(struct doc_where){NULL, 0},
		    "secret=%s: not a root store", cfg->secret);
		return;
	}
	fd = ft_open_dir_nosymlinks(dir, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		doc_add(rep, &k_missing, &w, "the store does not exist yet");
		return;
	}
	if (fd < 0 || fstat(fd, &sb) != 0 || sb.st_uid != ROOT_UID ||
	    (sb.st_mode & GROUP_OTHER_WRITE) != 0) {
		doc_add(rep, &k_unsafe, &w, "%s",
		    fd < 0 ? strerror(errno)
			   : "not root's, or writable by others");
		if (fd >= 0)
			(void)close(fd);
		return;
	}
	if ((sb.st_mode & GROUP_OTHER_ANY) != 0)
		doc_add(rep, &k_mode, &w, "mode %04o",
		    (unsigned)(sb.st_mode & MODE_BITS));
	scan(fd, prefix, suffix, &w, rep);
}
