/* test_dlopen MODULE.so: load the module as libpam would (RTLD_NOW, so
 * every symbol must resolve), find the PAM entry points, and make sure none
 * of the module's internals are visible.  Exit 0 if all is well; prints
 * what is wrong to stdout as TAP comments. */
#include <config.h>

#include <dlfcn.h>
#include <stdio.h>

static const char *const wanted[] = {"pam_sm_authenticate", "pam_sm_setcred"};
static const char *const hidden[] = {"ftpam_authenticate", "ftpam_log_outcome",
    "ftpam_answer_prompt", "ft_totp_match", "ft_state_open",
    "ft_state_gdbm_open", "ft_config_from_args", "ft_secret_load", "ft_now",
    "ft_wipe", "ft_backup_verify"};

int
main(int argc, char **argv)
{
	void *h;
	size_t i;
	int bad = 0;

	if (argc != 2) {
		printf("# usage: test_dlopen MODULE.so\n");
		return 2;
	}
	h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		printf("# dlopen: %s\n", dlerror());
		return 1;
	}
	for (i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
		if (dlsym(h, wanted[i]) == NULL) {
			printf("# missing %s\n", wanted[i]);
			bad++;
		}
	for (i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
		if (dlsym(h, hidden[i]) != NULL) {
			printf("# exported: %s\n", hidden[i]);
			bad++;
		}
	(void)dlclose(h);
	return bad == 0 ? 0 : 1;
}
