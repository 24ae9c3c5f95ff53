/* SPDX-License-Identifier: MIT */
#ifndef KILN_BUNDLE_H
#define KILN_BUNDLE_H

#include <stddef.h>

#include "config.h"

/*
 * An OCI bundle (runtime-spec 1.x config.json) as a `kiln run -- CMD`
 * configuration: the container's process is the command, root.path the
 * guest's root (shared over 9p), bind mounts of host directories are
 * shares, of host files copies in the guest's initramfs, and proc, sysfs,
 * tmpfs, devpts, mqueue and cgroup mounts are made by the guest's init.
 * linux.resources size the VM; annotations kiln.kernel, kiln.cpus,
 * kiln.memory and kiln.append override; a network namespace's path is
 * the network the VM joins (cfg->netns). What a VM makes moot (the other
 * namespaces, cgroups paths, devices, masked paths, capabilities, the
 * seccomp profile, hooks) is ignored; what kiln cannot honour is refused.
 */

/* The guest's RAM when the bundle sets no memory limit. */
#define BUNDLE_DEFAULT_MEM (512ULL << 20)

/*
 * Fills cfg (config_init'ed; the caller config_free's it either way) from
 * the bundle in dir: reads dir/config.json. Returns 0, or -errno with err
 * saying what is wrong in one line.
 */
int bundle_load(const char *dir, struct vm_config *cfg, char *err,
		size_t errlen);

/* The same from config.json's text (len bytes); dir resolves root.path. */
int bundle_parse(const char *dir, const char *text, size_t len,
		 struct vm_config *cfg, char *err, size_t errlen);

/*
 * A process object alone (`exec --process FILE`): args, env, cwd, user,
 * terminal into cfg, the rest as init records in cfg->init_extra.
 */
int bundle_process(const char *text, size_t len, struct vm_config *cfg,
		   char *err, size_t errlen);

/*
 * Reads a whole file of at most max bytes: returns a malloc'ed,
 * NUL-terminated buffer (length in *len) or NULL with errno set (EFBIG
 * when larger).
 */
char *bundle_read_file(const char *path, size_t max, size_t *len);

#endif
