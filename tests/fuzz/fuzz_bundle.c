// SPDX-License-Identifier: MIT
/*
 * An OCI bundle's config.json, as an image's author shapes much of it
 * (its command, environment, user, working directory, volumes): whatever
 * the text, bundle_parse either fills the configuration or says why in a
 * non-empty line, and the guest's records it writes are well formed
 * (NUL-terminated "key=value"). The bundle directory is a fixed empty
 * root, so bind mounts of host paths go wherever the input says under
 * /nonexistent, and fail as they should.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bundle.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char dir[] = "/tmp/kiln-fuzz-bundle";
	struct vm_config cfg;
	char err[512] = "";
	size_t i;
	int r;

	mkdir(dir, 0755);
	mkdir("/tmp/kiln-fuzz-bundle/rootfs", 0755);
	config_init(&cfg);
	r = bundle_parse(dir, (const char *)data, size, &cfg, err, sizeof(err));
	if (r && !err[0])
		abort();
	if (!r) {
		if (!cfg.run_argc || !cfg.run_argv || !cfg.cwd ||
		    cfg.cwd[0] != '/' || !cfg.rootfs)
			abort();
		if (cfg.init_extra_len &&
		    cfg.init_extra[cfg.init_extra_len - 1] != 0)
			abort();
		for (i = 0; i < cfg.init_extra_len;
		     i += strlen(cfg.init_extra + i) + 1)
			if (!strchr(cfg.init_extra + i, '='))
				abort();
	}
	config_free(&cfg);
	return 0;
}
