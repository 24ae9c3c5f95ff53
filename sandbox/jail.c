// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include "jail.h"
#include "log.h"

#if defined(__SANITIZE_ADDRESS__)
/*
 * LeakSanitizer stops the world with ptrace at exit, which the jailed
 * process, without capabilities, may not do: in the jail, sanitizer builds
 * keep ASan and UBSan but check no leaks.
 */
static int lsan_off;

int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return lsan_off;
}
#define LSAN_OFF() (lsan_off = 1)
#else
#define LSAN_OFF() ((void)0)
#endif

/* The host's KVM device (KILN_KVM_DEVICE: tests point it elsewhere). */
static const char *kvm_path(void)
{
	const char *p = getenv("KILN_KVM_DEVICE");

	return p && *p ? p : "/dev/kvm";
}

static int add_bind(struct jail_plan *plan, const char *host,
		    const char *inside, int ro, char *err, size_t errlen)
{
	struct jail_bind *b;
	struct stat st;

	if (plan->nr == JAIL_MAX_BINDS) {
		set_err(err, errlen, "--jail: too many paths");
		return -1;
	}
	if (stat(host, &st)) {
		set_err(err, errlen, "--jail: '%s': %s", host, strerror(errno));
		return -1;
	}
	b = &plan->binds[plan->nr];
	b->host = realpath(host, NULL);
	b->inside = strdup(inside);
	b->dir = S_ISDIR(st.st_mode);
	b->dev = S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode);
	b->ro = ro;
	if (!b->host || !b->inside) {
		free(b->host);
		free(b->inside);
		set_err(err, errlen, "--jail: '%s': %s", host,
			strerror(errno ? errno : ENOMEM));
		return -1;
	}
	plan->nr++;
	return 0;
}

void jail_plan_free(struct jail_plan *plan)
{
	unsigned int i;

	for (i = 0; i < plan->nr; i++) {
		free(plan->binds[i].host);
		free(plan->binds[i].inside);
	}
	plan->nr = 0;
}

/* Replaces *slot (malloc'ed or argv) with a new malloc'ed copy of s. */
static int set_path(char **slot, const char *s, int owned)
{
	char *c = strdup(s);

	if (!c)
		return -1;
	if (owned)
		free(*slot);
	*slot = c;
	return 0;
}

int jail_plan(struct vm_config *cfg, const char *kernel, struct jail_plan *plan,
	      char *err, size_t errlen)
{
	char inside[64], *s;
	unsigned int i;
	int tap = 0;

	memset(plan, 0, sizeof(*plan));
	if (cfg->run_argv && !cfg->rootfs) {
		set_err(err, errlen,
			"--jail with a command needs --rootfs: the host's / is not in the jail");
		return -1;
	}
	for (i = 0; i < cfg->nr_nics; i++) {
		if (cfg->nics[i].user) {
			set_err(err, errlen,
				"--jail: --net user (passt) does not run in the jail: use --net tap=IFNAME");
			return -1;
		}
		tap = 1;
	}
	plan->new_net = cfg->nr_nics == 0;

	if (add_bind(plan, kvm_path(), "/dev/kvm", 0, err, errlen) ||
	    add_bind(plan, "/dev/null", "/dev/null", 0, err, errlen) ||
	    (tap &&
	     add_bind(plan, "/dev/net/tun", "/dev/net/tun", 0, err, errlen)))
		goto fail;
	if (add_bind(plan, kernel, "/kernel", 1, err, errlen))
		goto fail;
	cfg->kernel = "/kernel";
	/* The metrics file, made here (a bind needs it), written inside. */
	if (cfg->metrics_path) {
		int fd = open(cfg->metrics_path,
			      O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK |
				      O_CLOEXEC,
			      0600);

		if (fd < 0) {
			set_err(err, errlen,
				"--metrics '%s': %s (give a writable file or FIFO)",
				cfg->metrics_path, strerror(errno));
			goto fail;
		}
		close(fd);
		if (add_bind(plan, cfg->metrics_path, "/metrics", 0, err,
			     errlen))
			goto fail;
		cfg->metrics_path = "/metrics";
	}
	/* vsock: the socket's directory, where host programs find it and
	 * the guest's connections find theirs (PATH_PORT). */
	if (cfg->vsock_uds) {
		const char *slash = strrchr(cfg->vsock_uds, '/');
		char *dir = slash ? strndup(cfg->vsock_uds,
					    slash == cfg->vsock_uds ?
						    1 :
						    (size_t)(slash -
							     cfg->vsock_uds)) :
				    strdup(".");
		int r;

		if (!dir)
			goto oom;
		r = add_bind(plan, dir, "/vsock", 0, err, errlen);
		free(dir);
		if (r)
			goto fail;
		if (asprintf(&s, "/vsock/%s",
			     slash ? slash + 1 : cfg->vsock_uds) < 0)
			goto oom;
		cfg->vsock_uds = s; /* lives as long as the process */
	}
	if (cfg->initrd) {
		if (add_bind(plan, cfg->initrd, "/initrd", 1, err, errlen))
			goto fail;
		cfg->initrd = "/initrd";
	}
	for (i = 0; i < cfg->nr_disks; i++) {
		snprintf(inside, sizeof(inside), "/disks/%u", i);
		if (add_bind(plan, cfg->disks[i].path, inside, cfg->disks[i].ro,
			     err, errlen) ||
		    set_path(&cfg->disks[i].path, inside, 1))
			goto fail;
	}
	for (i = 0; i < cfg->nr_shares; i++) {
		snprintf(inside, sizeof(inside), "/shares/%u", i);
		if (add_bind(plan, cfg->shares[i].host, inside,
			     cfg->shares[i].ro, err, errlen) ||
		    set_path(&cfg->shares[i].host, inside, 1))
			goto fail;
	}
	if (cfg->rootfs) {
		char *host = strndup(cfg->rootfs, cfg->rootfs_path_len);
		int r;

		if (!host)
			goto oom;
		r = add_bind(plan, host, "/rootfs", cfg->rootfs_ro, err,
			     errlen);
		free(host);
		if (r)
			goto fail;
		if (asprintf(&s, "/rootfs%s",
			     cfg->rootfs + cfg->rootfs_path_len) < 0)
			goto oom;
		cfg->rootfs = s; /* lives as long as the process */
		cfg->rootfs_path_len = strlen("/rootfs");
	}
	if (cfg->console_log) {
		/* kiln writes it: it must exist to be bound in. */
		int fd = open(cfg->console_log, O_WRONLY | O_CREAT | O_CLOEXEC,
			      0644);

		if (fd < 0) {
			set_err(err, errlen,
				"--console-log '%s': %s: give a writable path",
				cfg->console_log, strerror(errno));
			goto fail;
		}
		close(fd);
		if (add_bind(plan, cfg->console_log, "/console.log", 0, err,
			     errlen))
			goto fail;
		cfg->console_log = "/console.log";
	}
	return 0;
oom:
	set_err(err, errlen, "out of memory");
fail:
	jail_plan_free(plan);
	return -1;
}

/* ---- the cgroup ---- */

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

/* Creates the cgroup if need be and sets its limits; *made if created. */
static int cgroup_prepare(const struct cgroup_spec *c, int *made, char *err,
			  size_t errlen)
{
	char dir[512], file[600], parent[512], val[64];
	int r;

	*made = 0;
	snprintf(dir, sizeof(dir), KILN_CGROUP_ROOT "/%s", c->path);
	if (access(KILN_CGROUP_ROOT "/cgroup.controllers", F_OK)) {
		set_err(err, errlen,
			"--cgroup: no cgroup v2 hierarchy at " KILN_CGROUP_ROOT
			": mount it (mount -t cgroup2 none " KILN_CGROUP_ROOT
			")");
		return -1;
	}
	/* The parent must hand the controllers down. */
	snprintf(parent, sizeof(parent), "%s", dir);
	*strrchr(parent, '/') = 0;
	if (c->cpu_pct || c->mem) {
		snprintf(file, sizeof(file), "%s/cgroup.subtree_control",
			 parent);
		r = write_file(file, c->mem && c->cpu_pct ? "+cpu +memory" :
				     c->mem		  ? "+memory" :
							    "+cpu");
		if (r) {
			set_err(err, errlen,
				"--cgroup: cannot enable the %s controller in %s: %s",
				c->mem ? "memory" : "cpu", parent,
				strerror(-r));
			return -1;
		}
	}
	if (mkdir(dir, 0755) == 0)
		*made = 1;
	else if (errno != EEXIST) {
		set_err(err, errlen, "--cgroup: cannot create %s: %s", dir,
			strerror(errno));
		return -1;
	}
	if (c->cpu_pct) {
		snprintf(file, sizeof(file), "%s/cpu.max", dir);
		snprintf(val, sizeof(val), "%u 100000", c->cpu_pct * 1000);
		if ((r = write_file(file, val)))
			goto fail_write;
	}
	if (c->mem) {
		snprintf(file, sizeof(file), "%s/memory.max", dir);
		snprintf(val, sizeof(val), "%llu", (unsigned long long)c->mem);
		if ((r = write_file(file, val)))
			goto fail_write;
	}
	return 0;
fail_write:
	set_err(err, errlen, "--cgroup: cannot write %s: %s", file,
		strerror(-r));
	if (*made)
		rmdir(dir);
	*made = 0;
	return -1;
}

/* The calling process joins ("0": the writer, whatever its PID namespace). */
static int cgroup_join(const struct cgroup_spec *c, char *err, size_t errlen)
{
	char file[600];
	int r;

	snprintf(file, sizeof(file), KILN_CGROUP_ROOT "/%s/cgroup.procs",
		 c->path);
	r = write_file(file, "0");
	if (r)
		set_err(err, errlen, "--cgroup: cannot join %s: %s", file,
			strerror(-r));
	return r ? -1 : 0;
}

/* Removes a cgroup kiln made, once the jailed process is gone. */
static void cgroup_remove(const struct cgroup_spec *c, int made)
{
	char dir[512];

	if (!made)
		return;
	snprintf(dir, sizeof(dir), KILN_CGROUP_ROOT "/%s", c->path);
	if (rmdir(dir))
		pr_warn("--cgroup: cannot remove %s: %s", dir, strerror(errno));
}

/* ---- the child: mounts, pivot, privileges ---- */

static int mkdirs(const char *path)
{
	char buf[512], *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0755) && errno != EEXIST ? -1 : 0;
}

static int bind_in(const char *root, const struct jail_bind *b, char *err,
		   size_t errlen)
{
	char target[512], *slash;
	unsigned long fl = MS_BIND | MS_NOSUID;

	snprintf(target, sizeof(target), "%s%s", root, b->inside);
	if (b->dir) {
		if (mkdirs(target))
			goto fail;
	} else {
		int fd;

		slash = strrchr(target, '/');
		*slash = 0;
		if (mkdirs(target))
			goto fail;
		*slash = '/';
		fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			goto fail;
		close(fd);
	}
	if (mount(b->host, target, NULL, MS_BIND, NULL))
		goto fail;
	/* Read-only and nosuid need a remount of the bind. */
	if (b->ro)
		fl |= MS_RDONLY;
	/* Device nodes: /dev/kvm and the like, and host block devices as
	 * disks. */
	if (!b->dev)
		fl |= MS_NODEV;
	if (mount(NULL, target, NULL, fl | MS_REMOUNT, NULL))
		goto fail;
	return 0;
fail:
	set_err(err, errlen, "--jail: cannot put %s in the jail at %s: %s",
		b->host, b->inside, strerror(errno));
	return -1;
}

/* The bounding set: needs CAP_SETPCAP, so before giving up root. */
static int drop_bounding_set(void)
{
	int cap;

	for (cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
			return -1;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) &&
	    errno != EINVAL)
		return -1;
	return 0;
}

/* Permitted, effective and inheritable: all empty. */
static int drop_caps(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	return syscall(SYS_capset, &h, d);
}

static int limit(int res, rlim_t v)
{
	struct rlimit rl = { v, v };

	return setrlimit(res, &rl);
}

static int jail_child(const char *dir, struct vm_config *cfg,
		      const struct jail_plan *plan, char *err, size_t errlen)
{
	int flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;
	unsigned int i;

	/*
	 * The parent stays in the host's namespaces (pivot_root moves every
	 * process of a mount namespace), so these are the child's alone.
	 */
	if (plan->new_net)
		flags |= CLONE_NEWNET;
	if (unshare(flags)) {
		set_err(err, errlen,
			"--jail: cannot create namespaces: %s (a kernel without namespaces, or kiln inside a restricted container?)",
			strerror(errno));
		return -1;
	}
	if (cfg->cgroup.path[0] && cgroup_join(&cfg->cgroup, err, errlen))
		return -1;
	/* In the jail, KVM is at /dev/kvm whatever the host called it. */
	unsetenv("KILN_KVM_DEVICE");
	/* Nothing of ours propagates back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		set_err(err, errlen,
			"--jail: cannot make the mounts private: %s",
			strerror(errno));
		return -1;
	}
	if (mount("kiln-jail", dir, "tmpfs", MS_NOSUID | MS_NODEV,
		  "mode=0755,size=1m")) {
		set_err(err, errlen, "--jail: cannot mount a tmpfs on %s: %s",
			dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < plan->nr; i++)
		if (bind_in(dir, &plan->binds[i], err, errlen))
			return -1;
	/* A /proc of the new PID namespace: 9P's setattr reopens by fd. */
	{
		char p[512];

		snprintf(p, sizeof(p), "%s/proc", dir);
		if (mkdirs(p) ||
		    mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "hidepid=2")) {
			set_err(err, errlen, "--jail: cannot mount /proc: %s",
				strerror(errno));
			return -1;
		}
	}
	if (chdir(dir) || syscall(SYS_pivot_root, ".", ".") ||
	    umount2(".", MNT_DETACH) || chdir("/")) {
		set_err(err, errlen, "--jail: cannot pivot into %s: %s", dir,
			strerror(errno));
		return -1;
	}
	/* The jail's own tree is fixed from here on. */
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL)) {
		set_err(err, errlen,
			"--jail: cannot make the jail read-only: %s",
			strerror(errno));
		return -1;
	}
	if (sethostname("kiln", 4)) {
		/* Cosmetic. */
	}
	/* 9P keeps up to 4096 fids open; no core files of guest memory. */
	if (limit(RLIMIT_NOFILE, 8192) || limit(RLIMIT_CORE, 0) ||
	    limit(RLIMIT_NPROC, 1024)) {
		set_err(err, errlen, "--jail: setrlimit: %s", strerror(errno));
		return -1;
	}
#ifndef KILN_TEST_HOOKS
	/* Guest RAM plus room for the monitor (sanitizers reserve more). */
	if (limit(RLIMIT_AS, cfg->mem_size + (4ULL << 30) +
				     (uint64_t)cfg->cpus * (64ULL << 20))) {
		set_err(err, errlen, "--jail: setrlimit: %s", strerror(errno));
		return -1;
	}
#endif
	LSAN_OFF();
	if (drop_bounding_set()) {
		set_err(err, errlen,
			"--jail: cannot drop the capability bounding set: %s",
			strerror(errno));
		return -1;
	}
	if (cfg->jail_gid >= 0 || cfg->jail_uid >= 0) {
		gid_t g = cfg->jail_gid >= 0 ? cfg->jail_gid : getgid();
		uid_t u = cfg->jail_uid >= 0 ? cfg->jail_uid : getuid();

		if (setgroups(0, NULL) || setresgid(g, g, g) ||
		    setresuid(u, u, u)) {
			set_err(err, errlen, "--jail: cannot become %u:%u: %s",
				(unsigned)u, (unsigned)g, strerror(errno));
			return -1;
		}
	}
	if (drop_caps()) {
		set_err(err, errlen, "--jail: cannot drop capabilities: %s",
			strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		set_err(err, errlen, "--jail: no_new_privs: %s",
			strerror(errno));
		return -1;
	}
	return 0;
}

static volatile pid_t jailed_pid;

static void forward_signal(int sig)
{
	if (jailed_pid > 0)
		kill(jailed_pid, sig);
}

int jail_enter(struct vm_config *cfg, const char *kernel, char *err,
	       size_t errlen)
{
	static const int fwd[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	int made = 0, st, r;
	struct jail_plan plan;
	struct sigaction sa;
	struct stat dst;
	char *dir;
	size_t i;
	pid_t pid;

	if (geteuid() != 0) {
		set_err(err, errlen,
			"--jail needs root (it creates namespaces and mounts): run kiln as root, or leave --jail out");
		return -1;
	}
	if (stat(cfg->jail, &dst) || !S_ISDIR(dst.st_mode)) {
		set_err(err, errlen,
			"--jail '%s': not a directory: give an existing directory (it is left untouched)",
			cfg->jail);
		return -1;
	}
	dir = realpath(cfg->jail, NULL);
	if (!dir || !strcmp(dir, "/")) {
		set_err(err, errlen,
			"--jail '%s': give a directory other than /",
			cfg->jail);
		free(dir);
		return -1;
	}
	if (jail_plan(cfg, kernel, &plan, err, errlen)) {
		free(dir);
		return -1;
	}
	if (cfg->cgroup.path[0] &&
	    cgroup_prepare(&cfg->cgroup, &made, err, errlen))
		goto fail;
	/* Children only: the jailed process will be PID 1 of its own. */
	if (unshare(CLONE_NEWPID)) {
		set_err(err, errlen,
			"--jail: cannot create a PID namespace: %s (a kernel without namespaces, or kiln inside a restricted container?)",
			strerror(errno));
		goto fail;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		set_err(err, errlen, "--jail: fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		r = jail_child(dir, cfg, &plan, err, errlen);
		jail_plan_free(&plan);
		free(dir);
		return r;
	}
	jail_plan_free(&plan);
	free(dir);

	/* The parent: wait, forward the lifecycle signals, pass on. */
	jailed_pid = pid;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward_signal;
	for (i = 0; i < sizeof(fwd) / sizeof(fwd[0]); i++)
		sigaction(fwd[i], &sa, NULL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	cgroup_remove(&cfg->cgroup, made);
	/*
	 * _exit: nothing of the parent's is left to flush, and its children
	 * would go to the PID namespace whose init just ended (a sanitizer's
	 * leak check at exit clones, and that fails).
	 */
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
fail:
	cgroup_remove(&cfg->cgroup, made);
	jail_plan_free(&plan);
	free(dir);
	return -1;
}
