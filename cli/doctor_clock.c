/* totp-enroll doctor: is the clock kept right?  A drifting clock is the
 * commonest reason codes stop working.  Asked of systemd (timedatectl),
 * then chrony, then systemd-timesyncd's flag file; when none answers (no
 * systemd, a container) it cannot be known, which is information, not a
 * fault. */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "doctor.h"
#include "rc.h"
#include "safefile.h"
#include "wipe.h"

#define TIMEDATECTL "/usr/bin/timedatectl"
#define CHRONYC "/usr/bin/chronyc"
#define TIMESYNCD_FLAG "/run/systemd/timesync/synchronized"
#define ROOT_UID 0
#define VALUE_MAX 64U
#define OUT_MAX 4096U
#define GROUP_OTHER_WRITE 022

enum sync { SYNC_UNKNOWN, SYNC_YES, SYNC_NO };

static const struct doc_kind k_synced = {"clock-synced", DOC_INFO, ""};
static const struct doc_kind k_unsynced = {"clock-unsynced", DOC_WARN,
    "enable time synchronisation (timedatectl set-ntp true, or chrony): "
    "codes are accepted only within the window around this clock"};
static const struct doc_kind k_unknown = {"clock-unknown", DOC_INFO,
    "make sure something keeps this clock right (chrony, "
    "systemd-timesyncd, the host of this container)"};

static enum sync
from_timedatectl(const char *out)
{
	char v[VALUE_MAX];

	if (!doc_value(out, "NTPSynchronized", '=', v, sizeof(v)))
		return SYNC_UNKNOWN;
	return strcasecmp(v, "yes") == 0 ? SYNC_YES : SYNC_NO;
}

static enum sync
from_chrony(const char *out)
{
	char v[VALUE_MAX];

	if (!doc_value(out, "Leap status", ':', v, sizeof(v)))
		return SYNC_UNKNOWN;
	return strcasecmp(v, "Not synchronised") == 0 ? SYNC_NO : SYNC_YES;
}

/* The prepared answer of a test tree (what timedatectl show prints). */
static enum sync
from_file(const char *path, const char **how)
{
	struct ft_file_policy pol = {
	    ROOT_UID, true, GROUP_OTHER_WRITE, OUT_MAX};
	char err[CLI_ERRLEN];
	char *buf = NULL;
	size_t len = 0;
	enum sync s;

	*how = path;
	if (ft_safe_read(path, &pol, &buf, &len, err, sizeof(err)) != FT_OK)
		return SYNC_UNKNOWN;
	s = from_timedatectl(buf);
	ft_wipe_free(buf, len);
	return s;
}

static enum sync
ask(const struct doc_root *root, const char **how)
{
	static const char *const tdc[] = {TIMEDATECTL, "show", NULL};
	static const char *const chr[] = {CHRONYC, "-n", "tracking", NULL};
	char out[OUT_MAX];
	enum sync s;

	if (root->clock[0] != '\0')
		return from_file(root->clock, how);
	*how = "timedatectl";
	if (doc_run(tdc, out, sizeof(out)) == FT_OK &&
	    (s = from_timedatectl(out)) != SYNC_UNKNOWN)
		return s;
	*how = "chronyc";
	if (doc_run(chr, out, sizeof(out)) == FT_OK &&
	    (s = from_chrony(out)) != SYNC_UNKNOWN)
		return s;
	*how = "systemd-timesyncd";
	return access(TIMESYNCD_FLAG, F_OK) == 0 ? SYNC_YES : SYNC_UNKNOWN;
}

void
doc_check_clock(const struct doc_root *root, struct doc_report *rep)
{
	struct doc_where w = {NULL, 0};
	const char *how = "";

	switch (ask(root, &how)) {
	case SYNC_YES:
		doc_add(
		    rep, &k_synced, &w, "the clock is synchronised (%s)", how);
		break;
	case SYNC_NO:
		doc_add(rep, &k_unsynced, &w,
		    "the clock is not synchronised (%s)", how);
		break;
	case SYNC_UNKNOWN:
		doc_add(rep, &k_unknown, &w,
		    "whether the clock is synchronised cannot be known here "
		    "(no "
		    "answer from timedatectl, chronyc or systemd-timesyncd)");
		break;
	}
}
