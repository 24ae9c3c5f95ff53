/* SPDX-License-Identifier: MIT */
#ifndef KILN_CONFIG_H
#define KILN_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "ratelimit.h"

#define KILN_VERSION "0.1.0"

#define KILN_DEFAULT_MEM (256ULL << 20)
#define KILN_MIN_MEM (16ULL << 20)
#define KILN_MAX_MEM (1ULL << 40)
#define KILN_MAX_CPUS 254

#define KILN_MAX_DISKS 8

struct disk_spec {
	char *path; /* malloc'ed, like id */
	char *id;
	int ro;
	int root; /* the root device: first, and named by root= */
	char *partuuid; /* root=PARTUUID= instead of /dev/vda (malloc'ed) */
	struct rate_spec rl; /* its rate limiter (sizes 0: none) */
};

enum console_kind { CONSOLE_SERIAL, CONSOLE_VIRTIO };

#define KILN_MAX_NICS 4

struct net_spec {
	int user; /* 1: --net user (passt), 0: --net tap=IFNAME */
	char ifname[16];
	uint8_t mac[6];
	int has_mac;
	char fwds[256]; /* passt -t specs, space separated: "8080:80 2222:22" */
	char id[64]; /* the API's iface_id, "" for none */
	/* Rate limiters, guest-bound and host-bound (sizes 0: none). */
	struct rate_spec rx_rl, tx_rl;
};

/* The MAC a NIC gets when none is given: stable for the same set-up. */
void net_default_mac(const struct net_spec *n, unsigned int index,
		     uint8_t mac[6]);

#define KILN_MAX_SHARES 8
#define KILN_MAX_ENV 256
/* Host files copied into the guest (an OCI bundle's file bind mounts). */
#define KILN_MAX_FILES 16
#define KILN_MAX_FILE_SIZE (4U << 20)

/* A host file's content, put in the guest at guest (owned). */
struct file_spec {
	char *guest;
	void *data;
	size_t len;
	int ro;
};

/* A virtio-balloon (--balloon, PUT /balloon). */
struct balloon_spec {
	int on;
	uint64_t amount_mib; /* the target: MiB the guest gives back */
	int deflate_on_oom;
	unsigned int stats_interval_s; /* 0: no statistics queue */
	int reporting; /* free page reporting (VIRTIO_BALLOON_F_REPORTING) */
};

struct share_spec {
	char *host; /* malloc'ed, like guest */
	char *guest;
	int ro;
};

#define KILN_CGROUP_ROOT "/sys/fs/cgroup"

/* --cgroup PATH[,cpu=PERCENT][,mem=SIZE] */
struct cgroup_spec {
	char path[256]; /* relative to KILN_CGROUP_ROOT; "" for none */
	unsigned int cpu_pct; /* percent of one CPU, 0: no limit */
	uint64_t mem; /* bytes, 0: no limit */
};

/*
 * A VM's configuration, from any front end. The config file's and the
 * API's strings are its own (config_strdup; config_free releases them);
 * the command line's point into argv, which outlives the VM.
 */
struct vm_config {
	const char *kernel;
	const char *initrd;
	const char *append; /* extends the command line */
	const char *cmdline; /* replaces the default command line */
	unsigned int cpus;
	uint64_t mem_size;
	int verbose;
	struct disk_spec disks[KILN_MAX_DISKS];
	unsigned int nr_disks;
	enum console_kind console;
	int no_acpi; /* --no-acpi: MP table and command-line devices only */
	int no_seccomp; /* --seccomp=off */
	int no_kernel_cache; /* --kernel-cache=off: boot the kernel as given */
	const char *metrics_path; /* --metrics, PUT /metrics */
	const char *vsock_uds; /* --vsock, PUT /vsock: NULL for none */
	uint64_t vsock_cid;
	struct balloon_spec balloon;
	int boot_timer; /* --boot-timer */
	const char *jail; /* --jail DIR */
	long jail_uid, jail_gid; /* --uid, --gid: -1 to keep */
	struct cgroup_spec cgroup; /* --cgroup */
	struct net_spec nics[KILN_MAX_NICS];
	unsigned int nr_nics;

	/* `kiln run [options] -- CMD [ARGS...]`: run_argv is NULL without. */
	char **run_argv;
	int run_argc;
	const char *rootfs; /* a directory (9p) or an image (virtio-blk) */
	int rootfs_ro;
	size_t rootfs_path_len; /* rootfs without ",ro" */
	struct share_spec shares[KILN_MAX_SHARES];
	unsigned int nr_shares;
	const char *env[KILN_MAX_ENV];
	unsigned int nr_env;
	const char *cwd;
	long uid, gid; /* -1: root */
	double timeout; /* seconds, 0 for none */
	int interactive; /* -i */
	int tty; /* -t */
	const char *console_log;
	/*
	 * An OCI bundle's more: records for the guest init appended to the
	 * ones the run mode writes (NUL-terminated "key=value"; malloc'ed,
	 * freed by config_free), and files copied into the guest.
	 */
	char *init_extra;
	size_t init_extra_len;
	struct file_spec files[KILN_MAX_FILES];
	unsigned int nr_files;
	/* Its network namespace (a path, config_strdup'ed): the first NIC
	 * joins that network (frontend/netns.c). NULL: none. */
	const char *netns;

	/* Firecracker's logger ("logger", PUT /logger); NULL: stderr. */
	const char *log_path;
	int log_level; /* enum log_level + 2; 0: not given */
	int track_dirty_pages;
	/* Strings the configuration owns (config_strdup), and run_argv when
	 * it is the configuration's own array (not argv's). */
	char **owned;
	unsigned int nr_owned;
	char **run_argv_owned;
};

/*
 * A copy of s that cfg owns (freed by config_free), or NULL when out of
 * memory. NULL stays NULL.
 */
const char *config_strdup(struct vm_config *cfg, const char *s);

/* Defaults before any front end fills cfg (all but config_parse_run). */
void config_init(struct vm_config *cfg);

/*
 * The checks every front end shares, with the same words for the same
 * mistake (the command line adds the option it came from). Each returns
 * 0, or -EINVAL with err saying what is wrong and what to do.
 */
int config_check_cpus(uint64_t n, char *err, size_t errlen);
int config_check_mem(uint64_t bytes, char *err, size_t errlen);
/* A balloon target that fits in the guest's RAM. */
int config_check_balloon(uint64_t amount_mib, uint64_t mem_size, char *err,
			 size_t errlen);
/* A vsock device: the guest's CID (3 or more, 32 bits) and the host
 * socket's path (room left for the "_PORT" of guest connections). */
int config_check_vsock(uint64_t cid, const char *uds_path, char *err,
		       size_t errlen);
/* Conflicts between settings, once all are in. */
int config_validate(const struct vm_config *cfg, char *err, size_t errlen);

void config_free(struct vm_config *cfg);

/* Writes a one-line error message into err (errlen bytes; none if 0). */
void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * The kernel command line for this run: the arch default (or --cmdline),
 * then --append. Returns a malloc'ed string, NULL on allocation failure.
 */
char *config_kernel_cmdline(const struct vm_config *cfg,
			    const char *arch_default);

#endif
