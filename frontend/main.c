// SPDX-License-Identifier: MIT
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "boottimer.h"
#include "cli.h"
#include "config.h"
#include "jail.h"
#include "log.h"
#include "oci.h"
#include "run.h"
#include "vm.h"

int main(int argc, char **argv)
{
	struct vm_config cfg;
	char err[512];
	int r;

	boot_timer_start();
	/*
	 * One malloc arena for all threads (glibc's; musl has only one): the
	 * vCPU and I/O threads allocate almost nothing at run time, and an
	 * arena each costs resident pages.
	 */
#ifdef M_ARENA_MAX
	mallopt(M_ARENA_MAX, 1);
#endif
	if (argc < 2) {
		fputs(kiln_usage, stderr);
		return 2;
	}
	/* Firecracker's flags: kiln is its API server. */
	if (api_is_fc_flag(argv[1]))
		return api_main(argc, argv);
	/* runc's command line: kiln is an OCI runtime. */
	if (oci_is_command(argv[1]))
		return oci_main(argc, argv);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(kiln_usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("kiln %s\n", KILN_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "kconfig")) {
		fputs(kiln_kconfig, stdout);
		return 0;
	}
	if (strcmp(argv[1], "run")) {
		pr_err("unknown command '%s': see 'kiln --help'", argv[1]);
		return 2;
	}

	switch (config_parse_run(&cfg, argc - 2, argv + 2, err, sizeof(err))) {
	case CONFIG_HELP:
		fputs(kiln_run_usage, stdout);
		config_free(&cfg);
		return 0;
	case CONFIG_ERROR:
		pr_err("%s", err);
		config_free(&cfg);
		return 2;
	case CONFIG_OK:
		break;
	}
	if (cfg.verbose)
		log_set_level(cfg.verbose > 1 ? LOG_DEBUG : LOG_INFO);
	if (cfg.jail) {
		char *edir = vm_exe_dir();
		char *kpath = kernel_find(cfg.kernel, edir, err, sizeof(err));

		free(edir);
		/* Returns in the jailed child only. */
		if (!kpath || jail_enter(&cfg, kpath, err, sizeof(err))) {
			pr_err("%s", err);
			free(kpath);
			config_free(&cfg);
			return 1;
		}
		free(kpath);
	}
	r = vm_run(&cfg);
	config_free(&cfg);
	return r;
}
