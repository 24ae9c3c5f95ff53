/* SPDX-License-Identifier: MIT */
#ifndef KILN_SECCOMP_H
#define KILN_SECCOMP_H

#include <linux/filter.h>
#include <stddef.h>

/*
 * seccomp-BPF filters, one per thread role. Each thread installs its own
 * filter (no TSYNC) before it touches guest-controlled data:
 *   - the vCPU threads before their first KVM_RUN,
 *   - the I/O thread before its first epoll_wait,
 *   - the main thread once every other thread has started (threads inherit
 *     the filters of the thread that creates them).
 * A system call outside a role's list traps: the SIGSYS handler writes one
 * line naming the thread role and the call, and ends kiln with status 159
 * (128 + SIGSYS). The filters are built by hand; see seccomp.c for the lists.
 */

enum seccomp_role {
	SECCOMP_MAIN,
	SECCOMP_VCPU,
	SECCOMP_IO,
	SECCOMP_API, /* the main thread when it serves the API too */
	SECCOMP_NR_ROLES,
};

#define SECCOMP_EXIT_STATUS 159
#define SECCOMP_MAX_INSNS 512

const char *seccomp_role_name(enum seccomp_role role);

/*
 * Writes the filter for role into prog (room for max instructions).
 * Returns the instruction count, or -ENOSPC.
 */
int seccomp_build(enum seccomp_role role, struct sock_filter *prog, size_t max);

/* The SIGSYS handler; once per process, before any filter. */
void seccomp_install_handler(void);

/* no_new_privs plus the role's filter on the calling thread: 0 or -errno. */
int seccomp_apply(enum seccomp_role role);

/* "read", "openat", ...; NULL for a number this build does not know. */
const char *seccomp_syscall_name(long nr);

/*
 * Test builds only (KILN_TEST_HOOKS): when the environment variable
 * KILN_TEST_SECCOMP names this role, makes a call outside every list.
 */
void seccomp_test_hook(enum seccomp_role role);

#endif
