// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "config.h"

void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void net_default_mac(const struct net_spec *n, unsigned int index,
		     uint8_t mac[6])
{
	const char *name = n->user ? "user" : n->ifname;
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 16777619u;
	h = (h ^ index) * 16777619u;
	/* Locally administered, unicast: 02:6b:6e ("kn") + the hash. */
	mac[0] = 0x02;
	mac[1] = 0x6b;
	mac[2] = 0x6e;
	mac[3] = h >> 16;
	mac[4] = h >> 8;
	mac[5] = h;
}

void config_init(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cpus = 1;
	cfg->mem_size = KILN_DEFAULT_MEM;
	cfg->uid = cfg->gid = -1;
	cfg->jail_uid = cfg->jail_gid = -1;
}

const char *config_strdup(struct vm_config *cfg, const char *s)
{
	char **o, *c;

	if (!s)
		return NULL;
	o = realloc(cfg->owned, (cfg->nr_owned + 1) * sizeof(*o));
	if (!o)
		return NULL;
	cfg->owned = o;
	c = strdup(s);
	if (c)
		cfg->owned[cfg->nr_owned++] = c;
	return c;
}

int config_check_cpus(uint64_t n, char *err, size_t errlen)
{
	if (n >= 1 && n <= KILN_MAX_CPUS)
		return 0;
	set_err(err, errlen, "%" PRIu64 " vCPUs: give a number from 1 to %d", n,
		KILN_MAX_CPUS);
	return -EINVAL;
}

int config_check_balloon(uint64_t amount_mib, uint64_t mem_size, char *err,
			 size_t errlen)
{
	if (amount_mib > (mem_size >> 20)) {
		set_err(err, errlen,
			"balloon: %" PRIu64
			" MiB is more than the guest's %" PRIu64
			" MiB of RAM: give at most that",
			amount_mib, mem_size >> 20);
		return -EINVAL;
	}
	return 0;
}

int config_check_vsock(uint64_t cid, const char *uds_path, char *err,
		       size_t errlen)
{
	/* sun_path less the NUL and "_4294967295". */
	size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 12;

	if (cid < 3 || cid > UINT32_MAX) {
		set_err(err, errlen,
			"vsock guest CID %" PRIu64
			": give one from 3 to 4294967295 (0-2 are reserved)",
			cid);
		return -EINVAL;
	}
	if (!uds_path || !*uds_path || strlen(uds_path) > max) {
		set_err(err, errlen,
			"vsock socket path '%.40s': give a path of 1 to %zu characters",
			uds_path ? uds_path : "", max);
		return -EINVAL;
	}
	return 0;
}

int config_check_mem(uint64_t sz, char *err, size_t errlen)
{
	if (sz < KILN_MIN_MEM || sz > KILN_MAX_MEM) {
		set_err(err, errlen,
			"%" PRIu64
			" MiB of memory: give between 16 MiB (16M) and 1 TiB (1T)",
			sz >> 20);
		return -EINVAL;
	}
	if (sz & ((1ULL << 20) - 1)) {
		set_err(err, errlen,
			"%" PRIu64
			" bytes of memory: give a whole number of MiB, e.g. %" PRIu64
			" MiB",
			sz, (sz >> 20) + 1);
		return -EINVAL;
	}
	return 0;
}

int config_validate(const struct vm_config *cfg, char *err, size_t errlen)
{
	unsigned int i, j, roots = 0;

	if (config_check_cpus(cfg->cpus, err, errlen) ||
	    config_check_mem(cfg->mem_size, err, errlen))
		return -EINVAL;
	if (cfg->balloon.on && config_check_balloon(cfg->balloon.amount_mib,
						    cfg->mem_size, err, errlen))
		return -EINVAL;
	for (i = 0; i < cfg->nr_disks; i++) {
		roots += cfg->disks[i].root;
		for (j = 0; j < i; j++)
			if (cfg->disks[i].id && cfg->disks[j].id &&
			    !strcmp(cfg->disks[i].id, cfg->disks[j].id)) {
				set_err(err, errlen,
					"two drives are called '%s': give each its own id",
					cfg->disks[i].id);
				return -EINVAL;
			}
	}
	if (roots > 1) {
		set_err(err, errlen,
			"more than one root device: mark one drive is_root_device");
		return -EINVAL;
	}
	if (roots && cfg->run_argv) {
		set_err(err, errlen,
			"a root device and a command: the command's root is --rootfs");
		return -EINVAL;
	}
	return 0;
}

void config_free(struct vm_config *cfg)
{
	unsigned int i;

	free(cfg->run_argv_owned);
	cfg->run_argv_owned = NULL;
	for (i = 0; i < cfg->nr_owned; i++)
		free(cfg->owned[i]);
	free(cfg->owned);
	cfg->owned = NULL;
	cfg->nr_owned = 0;

	for (i = 0; i < cfg->nr_shares; i++) {
		free(cfg->shares[i].host);
		free(cfg->shares[i].guest);
	}
	cfg->nr_shares = 0;

	free(cfg->init_extra);
	cfg->init_extra = NULL;
	cfg->init_extra_len = 0;
	for (i = 0; i < cfg->nr_files; i++) {
		free(cfg->files[i].guest);
		free(cfg->files[i].data);
	}
	cfg->nr_files = 0;

	for (i = 0; i < cfg->nr_disks; i++) {
		free(cfg->disks[i].path);
		free(cfg->disks[i].id);
		free(cfg->disks[i].partuuid);
	}
	cfg->nr_disks = 0;
}

char *config_kernel_cmdline(const struct vm_config *cfg,
			    const char *arch_default)
{
	const char *base = cfg->cmdline ? cfg->cmdline : arch_default;
	size_t n = strlen(base) + 1;
	char *s;

	if (cfg->append)
		n += strlen(cfg->append) + 1;
	s = malloc(n);
	if (!s)
		return NULL;
	if (cfg->append && *base)
		snprintf(s, n, "%s %s", base, cfg->append);
	else if (cfg->append)
		snprintf(s, n, "%s", cfg->append);
	else
		snprintf(s, n, "%s", base);
	return s;
}
