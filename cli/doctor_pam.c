/* totp-enroll doctor: every PAM service that uses pam_flowtotp, checked as
 * the module and Linux-PAM would run it.
 *
 * The options of each pam_flowtotp line go through the module's own option
 * table (ft_config_*), on top of the configuration file, so a typo the
 * module would refuse (and deny every login for) is an error here.  The
 * stack shape matters as much: a failed password must stop the stack
 * before the code is asked, or a wrong password uses up a code and counts
 * toward the lockout. */
#include <config.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doctor.h"
#include "rc.h"
#include "safefile.h"

#define ARGV_MAX 64U		   /* arguments on one line */
#define SERVICE_LIST_MAX 512U	   /* bytes of the "used by" list */
#define SSHD_SERVICE "sshd"	   /* sshd's PAM service name */
#define ROLE_SPLIT "split"	   /* pam.d-only role words, as the */
#define ROLE_STASHED "use_stashed" /* module strips them */

enum role { ROLE_ALONE, ROLE_SPLIT_R, ROLE_STASHED_R };

static const struct doc_kind k_option = {"pam-option", DOC_ERROR,
    "correct the option (pam_flowtotp(8) lists them); until then the module "
    "refuses the line and denies every login through it"};
static const struct doc_kind k_sufficient = {"pam-sufficient", DOC_ERROR,
    "use \"required\": with \"sufficient\" a right code ends the stack with "
    "success, so the code alone lets a user in"};
static const struct doc_kind k_optional = {"pam-optional", DOC_ERROR,
    "use \"required\": an \"optional\" module's failure is ignored when "
    "another module succeeds, so a wrong code still logs in"};
static const struct doc_kind k_pw_goes_on = {"pam-password-continues",
    DOC_ERROR,
    "give the password line \"requisite\" or \"[success=ok default=die]\" "
    "(or use Debian's @include common-auth): a wrong password now goes on "
    "to the code prompt, uses up a code and counts toward the lockout"};
static const struct doc_kind k_pw_sufficient = {"pam-password-sufficient",
    DOC_ERROR,
    "use \"requisite\" on the password line: with \"sufficient\" the "
    "password alone ends the stack with success and the code is never "
    "asked"};
static const struct doc_kind k_split_alone = {"pam-split-no-stashed", DOC_ERROR,
    "add \"auth required pam_flowtotp.so use_stashed\" after the password "
    "line: the split instance checks nothing, so the code is never "
    "checked"};
static const struct doc_kind k_split_pw = {"pam-split-password", DOC_ERROR,
    "between \"split\" and \"use_stashed\" put the password module with "
    "use_first_pass and \"[success=ok default=die]\" (or \"requisite\"), "
    "as in pam_flowtotp(8)"};
static const struct doc_kind k_stashed_alone = {"pam-stashed-no-split",
    DOC_ERROR,
    "add \"auth required pam_flowtotp.so split\" before the password line: "
    "use_stashed alone has no code to check and denies every login"};
static const struct doc_kind k_forward = {"pam-forward-pass", DOC_ERROR,
    "use the split stack (split / password module use_first_pass / "
    "use_stashed, pam_flowtotp(8)): the module refuses forward_pass on a "
    "single line and denies every login"};
static const struct doc_kind k_nullok = {"pam-nullok", DOC_WARN,
    "remove nullok once every user who logs in here is enrolled: until "
    "then anyone without a secret file passes this line without a code"};
static const struct doc_kind k_secret = {"pam-secret-differs", DOC_WARN,
    "set secret= in the configuration file only: totp-enroll writes the "
    "file the configuration names, and this line reads another, so "
    "enrolled users are not found"};
static const struct doc_kind k_code_only = {"pam-code-only", DOC_WARN,
    "put the password check (Debian: @include common-auth) before "
    "pam_flowtotp: in this service the code is the only factor"};
static const struct doc_kind k_used = {"pam-services", DOC_INFO, ""};
static const struct doc_kind k_nodir = {"pam-unreadable", DOC_WARN,
    "run the doctor as root on a machine with a PAM service directory"};

/* What every line's check needs. */
struct pam_run {
	const struct doc_root *root;
	const struct ft_config *base; /* defaults + the configuration file */
	bool base_ok;
	struct doc_report *rep;
	const char *service; /* the one being checked */
};

struct pam_line {
	const struct doc_pam_entry *e;
	struct doc_where w;
	enum role role;
	struct ft_config cfg;
	bool cfg_ok;
};

static bool
module_is(const struct doc_pam_entry *e, const char *name)
{
	const char *base = strrchr(e->module, '/');

	return strcmp(base != NULL ? base + 1 : e->module, name) == 0;
}

/* word appears in s as a whole word (blanks and brackets around it). */
static bool
has_word(const char *s, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = strstr(s, word); p != NULL; p = strstr(p + 1, word))
		if ((p == s || strchr(" \t[", p[-1]) != NULL) &&
		    strchr(" \t]", p[n]) != NULL)
			return true;
	return false;
}

/* "[... key=value ...]" has key=value among its words. */
static bool
has_action(const char *control, const char *action)
{
	return control[0] == '[' && has_word(control, action);
}

static bool
stops(const char *control)
{
	return strcmp(control, "requisite") == 0 ||
	    has_action(control, "default=die");
}

/* Does a failure of the password entry at i end the stack?  Either its own
 * control says so, or (Debian's common-auth) it jumps over a "requisite
 * pam_deny.so" on success and falls onto it on failure, perhaps through
 * more password modules of the same shape. */
static bool
failure_stops(const struct doc_stack *st, size_t i)
{
	const struct doc_pam_entry *e;

	for (; i < st->n; i++) {
		e = &st->e[i];
		if (stops(e->control))
			return module_is(e, "pam_deny.so") ||
			    doc_is_password(e);
		if (!doc_is_password(e) ||
		    !has_action(e->control, "default=ignore") ||
		    strstr(e->control, "success=") == NULL)
			return false;
	}
	return false;
}

/* The nearest password module in [from, to), or SIZE_MAX. */
static size_t
password_before(const struct doc_stack *st, size_t from, size_t to)
{
	size_t i;

	for (i = to; i > from; i--)
		if (doc_is_password(&st->e[i - 1U]))
			return i - 1U;
	return SIZE_MAX;
}

/* Words of a line's arguments; "[a b]" is one word without the brackets,
 * as Linux-PAM reads it. */
static int
split_args(char *s, char **argv, int max)
{
	int n = 0;

	while (n < max) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		if (*s == '[') {
			argv[n++] = ++s;
			s += strcspn(s, "]");
		} else {
			argv[n++] = s;
			s += strcspn(s, " \t");
		}
		if (*s != '\0')
			*s++ = '\0';
	}
	return n;
}

/* The line's options as the module reads them: the role words out, then
 * defaults, the configuration file (or conf=), then every argument. */
static bool
line_config(const struct pam_run *r, struct pam_line *l, char **argv, int argc)
{
	char err[CLI_ERRLEN];
	const char *conf = NULL;
	int i, rc = FT_OK;

	l->role = ROLE_ALONE;
	for (i = 0; i < argc; i++)
		if (strncmp(argv[i], "conf=", sizeof("conf=") - 1U) == 0)
			conf = argv[i] + sizeof("conf=") - 1U;
	err[0] = '\0';
	if (conf != NULL) {
		ft_config_defaults(&l->cfg);
		rc = conf[0] == '/' ? ft_config_load_file(&l->cfg, conf, false,
					  err, sizeof(err))
				    : ft_seterr(err, sizeof(err), FT_ERR_PARSE,
					  "conf: must be an absolute path");
	} else if (!r->base_ok)
		return false; /* the configuration file's finding says why */
	else
		l->cfg = *r->base;
	for (i = 0; i < argc && rc == FT_OK; i++) {
		if (strcmp(argv[i], ROLE_SPLIT) == 0)
			l->role = ROLE_SPLIT_R;
		else if (strcmp(argv[i], ROLE_STASHED) == 0)
			l->role = ROLE_STASHED_R;
		else
			rc = ft_config_set_arg(
			    &l->cfg, argv[i], err, sizeof(err));
	}
	if (rc != FT_OK)
		doc_add(r->rep, &k_option, &l->w, "%s", err);
	return rc == FT_OK;
}

static void
check_control(const struct pam_run *r, const struct pam_line *l)
{
	const char *c = l->e->control;

	if (strcmp(c, "sufficient") == 0 || has_action(c, "success=done"))
		doc_add(r->rep, &k_sufficient, &l->w,
		    "pam_flowtotp is \"%s\": a right code alone succeeds", c);
	else if (strcmp(c, "optional") == 0 || has_action(c, "default=ignore"))
		doc_add(r->rep, &k_optional, &l->w,
		    "pam_flowtotp is \"%s\": a wrong code does not stop the "
		    "login",
		    c);
}

/* The password line in front of a lone (or split) instance. */
static void
check_password(const struct pam_run *r, const struct doc_stack *st,
    const struct pam_line *l, size_t pw)
{
	const struct doc_pam_entry *p = &st->e[pw];
	struct doc_where w = {p->file, p->line};

	if (strcmp(p->control, "sufficient") == 0 ||
	    has_action(p->control, "success=done"))
		doc_add(r->rep, &k_pw_sufficient, &w,
		    "%s is \"%s\" before pam_flowtotp (%s:%u): the password "
		    "alone logs in",
		    p->module, p->control, l->w.file, l->w.line);
	else if (!failure_stops(st, pw))
		doc_add(r->rep,
		    l->role == ROLE_ALONE ? &k_pw_goes_on : &k_split_pw, &w,
		    "%s is \"%s\" and nothing after it stops the stack when "
		    "the password is wrong, before pam_flowtotp (%s:%u)",
		    p->module, p->control, l->w.file, l->w.line);
}

static size_t
find_role(const struct doc_stack *st, size_t from, size_t to, const char *word)
{
	size_t i;

	for (i = from; i < to; i++)
		if (doc_is_flowtotp(&st->e[i]) && has_word(st->e[i].args, word))
			return i;
	return SIZE_MAX;
}

static void
check_role(const struct pam_run *r, const struct doc_stack *st, size_t i,
    const struct pam_line *l)
{
	size_t other, pw;

	if (l->role == ROLE_STASHED_R) {
		if (find_role(st, 0, i, ROLE_SPLIT) == SIZE_MAX)
			doc_add(r->rep, &k_stashed_alone, &l->w,
			    "use_stashed without a split instance before it");
		return;
	}
	if (l->role == ROLE_SPLIT_R) {
		other = find_role(st, i + 1U, st->n, ROLE_STASHED);
		if (other == SIZE_MAX) {
			doc_add(r->rep, &k_split_alone, &l->w,
			    "split without a use_stashed instance after it");
			return;
		}
		pw = password_before(st, i + 1U, other);
		if (pw == SIZE_MAX)
			doc_add(r->rep, &k_split_pw, &l->w,
			    "no password module between split and use_stashed");
		else
			check_password(r, st, l, pw);
		return;
	}
	pw = password_before(st, 0, i);
	if (pw != SIZE_MAX)
		check_password(r, st, l, pw);
	else if (strcmp(r->service, SSHD_SERVICE) != 0)
		doc_add(r->rep, &k_code_only, &l->w,
		    "no password module before pam_flowtotp");
}

static void
check_entry(const struct pam_run *r, const struct doc_stack *st, size_t i)
{
	struct pam_line *l = calloc(1, sizeof(*l));
	char args[DOC_TEXT_MAX];
	char *argv[ARGV_MAX];
	int argc;

	if (l == NULL) {
		r->rep->oom = true;
		return;
	}
	l->e = &st->e[i];
	l->w.file = l->e->file;
	l->w.line = l->e->line;
	(void)snprintf(args, sizeof(args), "%s", l->e->args);
	argc = split_args(args, argv, (int)ARGV_MAX);
	l->cfg_ok = line_config(r, l, argv, argc);
	check_control(r, l);
	if (l->cfg_ok && l->cfg.nullok)
		doc_add(r->rep, &k_nullok, &l->w,
		    "nullok: users without a secret file are not asked for a "
		    "code");
	if (l->cfg_ok && r->base_ok &&
	    strcmp(l->cfg.secret, r->base->secret) != 0)
		doc_add(r->rep, &k_secret, &l->w,
		    "this line reads secrets from %s, the configuration file "
		    "names %s",
		    l->cfg.secret, r->base->secret);
	if (l->cfg_ok && l->cfg.forward_pass && l->role == ROLE_ALONE)
		doc_add(r->rep, &k_forward, &l->w,
		    "forward_pass on a single pam_flowtotp line");
	else
		check_role(r, st, i, l);
	free(l);
}

/* The names PAM never takes as a service: dot files and the leftovers of
 * editors and package upgrades. */
static bool
is_service_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 0 && name[n - 1U] != '~' &&
	    strstr(name, ".dpkg-") == NULL && strstr(name, ".ucf-") == NULL;
}

static void
check_service(struct pam_run *r, const char *name, char *used, size_t usedlen)
{
	struct doc_stack st = {NULL, 0, 0};
	size_t i, n;

	if (doc_stack_load(r->root, name, &st, r->rep) == FT_ERR_NOMEM)
		r->rep->oom = true;
	if (doc_stack_flowtotp(&st) < st.n) {
		n = strlen(used);
		(void)snprintf(
		    used + n, usedlen - n, "%s%s", n > 0 ? ", " : "", name);
		r->service = name;
		for (i = 0; i < st.n; i++)
			if (doc_is_flowtotp(&st.e[i]))
				check_entry(r, &st, i);
	}
	doc_stack_free(&st);
}

/* Service names in order, so the report reads the same every time. */
static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
is_entry(const struct dirent *d)
{
	return is_service_name(d->d_name) &&
	    (d->d_type == DT_REG || d->d_type == DT_UNKNOWN);
}

void
doc_check_pam(const struct doc_root *root, const struct ft_config *cfg,
    bool cfg_ok, struct doc_report *rep)
{
	struct pam_run r = {root, cfg, cfg_ok, rep, NULL};
	struct dirent **names = NULL;
	char used[SERVICE_LIST_MAX] = "";
	struct doc_where w = {root->pamd, 0};
	int fd, n, i;

	fd = ft_open_dir_nosymlinks(root->pamd, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? scandirat(fd, ".", &names, is_entry, by_name) : -1;
	if (n < 0) {
		doc_add(rep, &k_nodir, &w, "cannot read the PAM services");
		goto out;
	}
	for (i = 0; i < n; i++) {
		check_service(&r, names[i]->d_name, used, sizeof(used));
		free(names[i]);
	}
	free(names);
	doc_add(rep, &k_used, &w, "pam_flowtotp is used by: %s",
	    used[0] != '\0' ? used : "no service (nobody is asked for a code)");
out:
	if (fd >= 0)
		(void)close(fd);
}
