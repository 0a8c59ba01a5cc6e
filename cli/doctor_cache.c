/* totp-enroll doctor: the replay and lockout cache directory (cache= a gdbm
 * file): owned by root and private, created at boot by a tmpfiles.d rule
 * (in world-writable /dev/shm anyone could claim the name first), and with
 * room on its file system (a full one denies new users). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "doctor.h"
#include "rc.h"
#include "safefile.h"
#include "wipe.h"

#define ROOT_UID 0
#define MODE_BITS 07777
#define GROUP_OTHER_ANY 077
#define FREE_MIN (4ULL * 1024ULL * 1024ULL) /* a few thousand records */
#define MIB (1024ULL * 1024ULL)
#define TMPFILES_MAX (64U * 1024U)
#define GROUP_OTHER_WRITE 022

static const struct doc_kind k_missing = {"cache-missing", DOC_WARN,
    "run \"systemd-tmpfiles --create\" (with the flowtotp tmpfiles.d rule "
    "installed): until the directory exists logins that need the cache are "
    "denied"};
static const struct doc_kind k_unsafe = {"cache-unsafe", DOC_ERROR,
    "remove it and let the tmpfiles.d rule create it (root, mode 0700): "
    "someone else's directory can hold forged lockout and replay state"};
static const struct doc_kind k_norule = {"cache-no-tmpfiles", DOC_WARN,
    "install contrib/tmpfiles.d/flowtotp.conf (naming this directory) in "
    "/etc/tmpfiles.d: after a reboot the directory is gone and anyone may "
    "create it first"};
static const struct doc_kind k_space = {"cache-space", DOC_WARN,
    "free space on the cache's file system (or make the tmpfs larger): a "
    "full one denies users who have no record yet"};
static const struct doc_kind k_room = {"cache-free", DOC_INFO, ""};

/* Does a tmpfiles.d file have a line for dir ("d DIR MODE ...")? */
static bool
rule_names(const char *path, const char *dir)
{
	struct ft_file_policy pol = {
	    ROOT_UID, true, GROUP_OTHER_WRITE, TMPFILES_MAX};
	char err[CLI_ERRLEN], type[CLI_LABEL_MAX], p[PATH_MAX];
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	bool found = false;

	if (path[0] == '\0' ||
	    ft_safe_read(path, &pol, &buf, &len, err, sizeof(err)) != FT_OK)
		return false;
	for (line = strtok_r(buf, "\n", &save); line != NULL && !found;
	     line = strtok_r(NULL, "\n", &save))
		/* %255s / %4095s: the sizes of type and p */
		found = sscanf(line, "%255s %4095s", type, p) == 2 &&
		    type[0] == 'd' && strcmp(p, dir) == 0;
	ft_wipe_free(buf, len);
	return found;
}

static void
check_space(const char *dir, const struct doc_where *w, struct doc_report *rep)
{
	struct statvfs vfs;
	unsigned long long avail;

	if (statvfs(dir, &vfs) != 0)
		return;
	avail = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
	if (avail < FREE_MIN || vfs.f_favail == 0)
		doc_add(rep, &k_space, w, "%llu KiB free, %llu inodes",
		    avail / 1024ULL, (unsigned long long)vfs.f_favail);
	else
		doc_add(rep, &k_room, w,
		    "%llu MiB free on the cache's file system", avail / MIB);
}

void
doc_check_cache(const struct doc_root *root, const struct ft_config *cfg,
    struct doc_report *rep)
{
	char dir[PATH_MAX];
	struct doc_where w = {dir, 0};
	const char *slash;
	struct stat sb;
	int fd;

	/* A Redis server is doc_check_redis's (doctor_redis.c). */
	if (strcmp(cfg->cache, FT_CACHE_REDIS) == 0)
		return;
	slash = strrchr(cfg->cache, '/');
	(void)snprintf(dir, sizeof(dir), "%.*s",
	    slash != NULL ? (int)(slash - cfg->cache) : 0, cfg->cache);
	if (!rule_names(root->tmpfiles[0], dir) &&
	    !rule_names(root->tmpfiles[1], dir))
		doc_add(rep, &k_norule, &w, "no tmpfiles.d rule creates it");
	fd = ft_open_dir_nosymlinks(dir, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		doc_add(
		    rep, &k_missing, &w, "the cache directory does not exist");
		return;
	}
	if (fd < 0 || fstat(fd, &sb) != 0 || sb.st_uid != ROOT_UID ||
	    (sb.st_mode & GROUP_OTHER_ANY) != 0)
		doc_add(rep, &k_unsafe, &w, "%s",
		    fd < 0 ? strerror(errno) : "not root's, or not mode 0700");
	else
		check_space(dir, &w, rep);
	if (fd >= 0)
		(void)close(fd);
}
