/* SPDX-License-Identifier: MIT */
#ifndef KILN_JAIL_H
#define KILN_JAIL_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/*
 * kiln run --jail DIR [--uid U] [--gid G] [--cgroup PATH[,cpu=PCT][,mem=SIZE]]
 *
 * kiln forks; the child is PID 1 of new mount, PID, IPC and UTS namespaces
 * (and of an empty network namespace when the VM has no NIC). It mounts a
 * tmpfs on DIR (in its own mount namespace: the host's DIR is untouched),
 * bind-mounts in only what the VM needs (kernel, initrd, disks, root
 * filesystem, shares, console log, /dev/kvm, /dev/null, /dev/net/tun),
 * pivots into it, drops every capability and the bounding set, sets
 * no_new_privs and rlimits, and becomes U:G. Then it runs the VM as usual,
 * seccomp filters included. The parent only waits, forwards SIGINT, SIGTERM
 * and SIGHUP, exits with the child's status and removes a cgroup it made.
 */

#define JAIL_MAX_BINDS (8 + KILN_MAX_DISKS + KILN_MAX_SHARES)

struct jail_bind {
	char *host; /* absolute host path (malloc'ed) */
	char *inside; /* absolute path in the jail (malloc'ed) */
	int dir; /* a directory (else a file or device) */
	int dev; /* a device node: its bind is not nodev */
	int ro;
};

struct jail_plan {
	struct jail_bind binds[JAIL_MAX_BINDS];
	unsigned int nr;
	int new_net; /* no NIC: an empty network namespace */
};

/*
 * Works out what the jail holds and rewrites cfg's host paths to their
 * places in it. kernel is the host kernel image kiln found. Returns 0, or
 * -1 with err saying what to do.
 */
int jail_plan(struct vm_config *cfg, const char *kernel, struct jail_plan *plan,
	      char *err, size_t errlen);
void jail_plan_free(struct jail_plan *plan);

/*
 * Enters the jail (see above); kernel is the image kiln found. Returns 0 in the jailed child, which goes on
 * to run the VM; the parent never returns. -1 with err on failure, nothing
 * left behind.
 */
int jail_enter(struct vm_config *cfg, const char *kernel, char *err,
	       size_t errlen);

#endif
