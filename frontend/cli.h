/* SPDX-License-Identifier: MIT */
#ifndef KILN_CLI_H
#define KILN_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/*
 * The command line: `kiln run`'s options into a struct vm_config, and the
 * syntax of their values (sizes, disks, NICs, shares), which the config
 * file's reader shares for the same checks and words.
 */

/*
 * Parses "tap=IFNAME[,mac=XX:..]" or "user[,fwd=tcp:HOST:GUEST]...".
 * Returns 0, or -EINVAL with err saying why.
 */
int parse_net(const char *arg, struct net_spec *n, char *err, size_t errlen);

/*
 * Parses "HOSTDIR[:GUESTDIR][,ro]" (GUESTDIR defaults to HOSTDIR and must
 * be absolute). Returns 0, or -EINVAL with err saying why.
 */
int parse_share(const char *arg, struct share_spec *s, char *err,
		size_t errlen);

/* Parses a --cgroup value. Returns 0, or -1 with err saying why. */
int parse_cgroup(const char *arg, struct cgroup_spec *c, char *err,
		 size_t errlen);

/* Parses "UID[:GID]". Returns 0 or -EINVAL. */
int parse_user(const char *arg, long *uid, long *gid);

/* Parses seconds ("2", "0.5"), more than 0. Returns 0 or -EINVAL. */
int parse_seconds(const char *arg, double *out);

/*
 * Parses "PATH[,ro][,id=NAME]". Returns 0, or -EINVAL with err saying why.
 * The strings in *d are malloc'ed (config_free releases them).
 */
int parse_disk(const char *arg, struct disk_spec *d, char *err, size_t errlen);

enum config_result {
	CONFIG_OK = 0,
	CONFIG_HELP = 1, /* --help was asked for: print usage, exit 0 */
	CONFIG_ERROR = -1,
};

/*
 * Parses a size such as "512M", "2G", "1048576K" or "256" (a bare number is
 * MiB, as with QEMU's -m). Suffixes K, M, G, T are binary, optionally
 * followed by "iB" or "B". Returns 0 and sets *out, or -EINVAL / -ERANGE.
 */
int parse_size(const char *s, uint64_t *out);

/*
 * Parses the arguments that follow "run" (argv[0] is the first option).
 * Fills cfg (defaults applied first). On CONFIG_ERROR, err holds one line
 * saying what is wrong and what to do.
 */
enum config_result config_parse_run(struct vm_config *cfg, int argc,
				    char **argv, char *err, size_t errlen);

extern const char kiln_run_usage[];
extern const char kiln_kconfig[];
extern const char kiln_usage[];

#endif
