// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"

const char kiln_usage[] =
	"usage: kiln <command> [options]\n"
	"\n"
	"commands:\n"
	"  run        boot a Linux kernel in a microVM, or run a command in\n"
	"             one (kiln run --help)\n"
	"  kconfig    print the kernel config options kiln's guests need\n"
	"\n"
	"As an OCI runtime (runc's command line, for podman and containerd):\n"
	"  kiln [--root DIR] [--log FILE] [--log-format text|json] create |\n"
	"       start | state | kill | delete | exec | ps | list | pause |\n"
	"       resume | features | spec ...   (see README.md)\n"
	"As Firecracker: kiln --api-sock PATH | --config-file FILE ...\n"
	"\n"
	"options:\n"
	"  -h, --help     show this help\n"
	"  -V, --version  show the version\n";

const char kiln_run_usage[] =
	"usage: kiln run [--kernel PATH] [options]\n"
	"       kiln run [--kernel PATH] [options] -- CMD [ARGS...]\n"
	"\n"
	"Boots PATH (a bzImage, an ELF vmlinux, or a kernel build tree; default:\n"
	"the kernel 'make guest-kernel' built) with the serial console on this\n"
	"terminal. kiln exits when the guest reboots, powers off or panics.\n"
	"Press Ctrl-A x to quit, Ctrl-A Ctrl-A to send Ctrl-A.\n"
	"\n"
	"With -- CMD, kiln runs CMD in the microVM instead: its stdin, stdout and\n"
	"stderr are kiln's, its exit status is kiln's (255: the guest ended\n"
	"without one, 124: --timeout expired). The root is the host's / shared\n"
	"read-only under a throw-away layer, unless --rootfs says otherwise.\n"
	"\n"
	"options:\n"
	"  -k, --kernel PATH   kernel to boot (bzImage, ELF vmlinux, build tree)\n"
	"      --initrd PATH   initial ramdisk\n"
	"      --append STR    add STR to the kernel command line\n"
	"      --cmdline STR   replace the default kernel command line\n"
	"  -c, --cpus N        number of vCPUs (default 1, at most 254)\n"
	"  -m, --mem SIZE      guest RAM, e.g. 512M or 2G (default 256M)\n"
	"  -d, --disk PATH[,ro][,id=NAME]\n"
	"                      a raw disk image or block device (repeatable;\n"
	"                      the first is /dev/vda)\n"
	"  -n, --net tap=IFNAME[,mac=MAC] | user[,fwd=tcp:HOSTPORT:GUESTPORT]...\n"
	"                      a virtio-net NIC on a TAP device, or user-mode\n"
	"                      networking through passt (repeatable)\n"
	"      --console serial|virtio\n"
	"                      the guest console: ttyS0 (default) or hvc0\n"
	"      --no-acpi       no ACPI tables: the MP table, and virtio devices\n"
	"                      on the command line (kernels without ACPI)\n"
	"      --boot-timer    log the time and CPU kiln used until the guest\n"
	"                      writes the byte 123 at 0xcffff000 (kiln run --\n"
	"                      CMD: just before CMD starts)\n"
	"      --seccomp on|off\n"
	"                      system call filters for every thread (default on;\n"
	"                      off is for debugging)\n"
	"      --metrics PATH  counters as JSON lines (Firecracker's metrics),\n"
	"                      every 60 s and when kiln ends\n"
	"      --vsock PATH[,cid=N]\n"
	"                      a virtio-vsock device (guest CID N, default 3):\n"
	"                      host programs connect to PATH and send\n"
	"                      'CONNECT PORT'; the guest's connections to host\n"
	"                      port P reach PATH_P (Firecracker's scheme)\n"
	"      --balloon MIB[,deflate-on-oom][,stats=SECS][,reporting]\n"
	"                      a virtio-balloon: the guest gives MIB back to the\n"
	"                      host (a target the API can change); statistics\n"
	"                      every SECS; reporting: free pages go back without\n"
	"                      a target\n"
	"      --kernel-cache on|off\n"
	"                      decompress a compressed kernel once on the host\n"
	"                      and keep it (default on); off boots it as given\n"
	"      --jail DIR [--uid U] [--gid G] [--cgroup PATH[,cpu=PCT][,mem=SIZE]]\n"
	"                      run in new namespaces with DIR as the root,\n"
	"                      holding only the VM's files; no capabilities;\n"
	"                      as U:G; in a cgroup v2 with CPU/memory limits\n"
	"  -v, --verbose       more messages (twice: debug); with -- CMD, the\n"
	"                      guest kernel's messages on stderr\n"
	"  -h, --help          show this help\n"
	"\n"
	"with -- CMD:\n"
	"      --rootfs DIR|IMAGE[,ro]\n"
	"                      the root: a directory (shared over virtio-9p) or\n"
	"                      an ext4 image (virtio-blk); ro adds a throw-away\n"
	"                      layer over a directory\n"
	"      --share HOSTDIR[:GUESTDIR][,ro]\n"
	"                      share a host directory (repeatable); ro shares get\n"
	"                      a throw-away layer, the host's copy never changes\n"
	"  -e, --env K=V       set an environment variable (repeatable)\n"
	"  -w, --cwd DIR       working directory (default: this one, or /)\n"
	"  -u, --user UID[:GID]\n"
	"                      run CMD as this user (default: root)\n"
	"      --timeout SECS  stop the VM after SECS seconds, exit 124\n"
	"  -i, --interactive   keep stdin open even when it is a terminal\n"
	"  -t, --tty           give CMD a terminal\n"
	"      --console-log FILE\n"
	"                      write the guest kernel's messages to FILE\n";

const char kiln_kconfig[] =
	"# What a Linux kernel needs to boot under kiln (merge with\n"
	"# scripts/kconfig/merge_config.sh). Built in, not modules.\n"
	"CONFIG_64BIT=y\n"
	"CONFIG_SMP=y\n"
	"CONFIG_BLK_DEV_INITRD=y\n"
	"CONFIG_BINFMT_ELF=y\n"
	"CONFIG_BINFMT_SCRIPT=y\n"
	"CONFIG_HYPERVISOR_GUEST=y\n"
	"CONFIG_PARAVIRT=y\n"
	"CONFIG_KVM_GUEST=y\n"
	"CONFIG_X86_MPPARSE=y\n"
	"CONFIG_ACPI=y\n"
	"CONFIG_SERIAL_8250=y\n"
	"CONFIG_SERIAL_8250_CONSOLE=y\n"
	"CONFIG_VIRTIO_MENU=y\n"
	"CONFIG_VIRTIO=y\n"
	"CONFIG_VIRTIO_MMIO=y\n"
	"CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES=y\n"
	"CONFIG_BLOCK=y\n"
	"CONFIG_BLK_DEV=y\n"
	"CONFIG_VIRTIO_BLK=y\n"
	"CONFIG_TTY=y\n"
	"CONFIG_UNIX98_PTYS=y\n"
	"CONFIG_VIRTIO_CONSOLE=y\n"
	"CONFIG_HW_RANDOM=y\n"
	"CONFIG_HW_RANDOM_VIRTIO=y\n"
	"CONFIG_NET=y\n"
	"CONFIG_INET=y\n"
	"CONFIG_NETDEVICES=y\n"
	"CONFIG_VIRTIO_NET=y\n"
	"CONFIG_NET_9P=y\n"
	"CONFIG_NET_9P_VIRTIO=y\n"
	"CONFIG_9P_FS=y\n"
	"CONFIG_PROC_FS=y\n"
	"CONFIG_SYSFS=y\n"
	"CONFIG_DEVTMPFS=y\n"
	"CONFIG_TMPFS=y\n"
	"CONFIG_EXT4_FS=y\n"
	"CONFIG_OVERLAY_FS=y\n";

int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 20;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	switch (toupper((unsigned char)*end)) {
	case '\0':
		break;
	case 'B':
		shift = 0;
		end++;
		break;
	case 'K':
		shift = 10;
		end++;
		break;
	case 'M':
		shift = 20;
		end++;
		break;
	case 'G':
		shift = 30;
		end++;
		break;
	case 'T':
		shift = 40;
		end++;
		break;
	default:
		return -EINVAL;
	}
	if (shift && (!strcasecmp(end, "iB") || !strcasecmp(end, "B")))
		end += strlen(end);
	if (*end)
		return -EINVAL;
	if (v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_uint(const char *s, unsigned int *out)
{
	unsigned long v;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*out = v;
	return 0;
}

struct opt {
	const char *longname;
	char shortname;
	bool has_arg;
	int id;
};

enum {
	OPT_KERNEL,
	OPT_INITRD,
	OPT_APPEND,
	OPT_CMDLINE,
	OPT_CPUS,
	OPT_MEM,
	OPT_VERBOSE,
	OPT_HELP,
	OPT_DISK,
	OPT_CONSOLE,
	OPT_NET,
	OPT_ROOTFS,
	OPT_SHARE,
	OPT_ENV,
	OPT_CWD,
	OPT_USER,
	OPT_TIMEOUT,
	OPT_INTERACTIVE,
	OPT_TTY,
	OPT_CONSOLE_LOG,
	OPT_NO_ACPI,
	OPT_SECCOMP,
	OPT_KERNEL_CACHE,
	OPT_METRICS,
	OPT_JAIL,
	OPT_UID,
	OPT_GID,
	OPT_CGROUP,
	OPT_BOOT_TIMER,
	OPT_VSOCK,
	OPT_BALLOON,
};

static const struct opt run_opts[] = {
	{ "kernel", 'k', true, OPT_KERNEL },
	{ "initrd", 0, true, OPT_INITRD },
	{ "append", 0, true, OPT_APPEND },
	{ "cmdline", 0, true, OPT_CMDLINE },
	{ "cpus", 'c', true, OPT_CPUS },
	{ "mem", 'm', true, OPT_MEM },
	{ "verbose", 'v', false, OPT_VERBOSE },
	{ "help", 'h', false, OPT_HELP },
	{ "disk", 'd', true, OPT_DISK },
	{ "console", 0, true, OPT_CONSOLE },
	{ "net", 'n', true, OPT_NET },
	{ "rootfs", 0, true, OPT_ROOTFS },
	{ "share", 0, true, OPT_SHARE },
	{ "env", 'e', true, OPT_ENV },
	{ "cwd", 'w', true, OPT_CWD },
	{ "user", 'u', true, OPT_USER },
	{ "timeout", 0, true, OPT_TIMEOUT },
	{ "interactive", 'i', false, OPT_INTERACTIVE },
	{ "tty", 't', false, OPT_TTY },
	{ "console-log", 0, true, OPT_CONSOLE_LOG },
	{ "no-acpi", 0, false, OPT_NO_ACPI },
	{ "seccomp", 0, true, OPT_SECCOMP },
	{ "kernel-cache", 0, true, OPT_KERNEL_CACHE },
	{ "metrics", 0, true, OPT_METRICS },
	{ "vsock", 0, true, OPT_VSOCK },
	{ "balloon", 0, true, OPT_BALLOON },
	{ "jail", 0, true, OPT_JAIL },
	{ "uid", 0, true, OPT_UID },
	{ "gid", 0, true, OPT_GID },
	{ "cgroup", 0, true, OPT_CGROUP },
	{ "boot-timer", 0, false, OPT_BOOT_TIMER },
};

/* Finds the option an argument names; *val gets an inline "=value". */
static const struct opt *find_opt(const char *arg, const char **val)
{
	size_t i, n;

	*val = NULL;
	if (arg[0] == '-' && arg[1] == '-') {
		const char *name = arg + 2;
		const char *eq = strchr(name, '=');

		n = eq ? (size_t)(eq - name) : strlen(name);
		for (i = 0; i < sizeof(run_opts) / sizeof(run_opts[0]); i++) {
			if (strlen(run_opts[i].longname) == n &&
			    !strncmp(run_opts[i].longname, name, n)) {
				if (eq)
					*val = eq + 1;
				return &run_opts[i];
			}
		}
		return NULL;
	}
	if (arg[0] == '-' && arg[1] && !arg[2]) {
		for (i = 0; i < sizeof(run_opts) / sizeof(run_opts[0]); i++)
			if (run_opts[i].shortname == arg[1])
				return &run_opts[i];
	}
	return NULL;
}

/* --balloon MIB[,deflate-on-oom][,stats=SECS][,reporting] */
static int cli_balloon(struct vm_config *cfg, const char *val, char *err,
		       size_t errlen)
{
	char buf[128], *save = NULL, *tok, *end;
	struct balloon_spec b = { .on = 1 };

	if (cfg->balloon.on) {
		set_err(err, errlen,
			"--balloon: given twice: a VM has one balloon");
		return CONFIG_ERROR;
	}
	if (strlen(val) >= sizeof(buf))
		goto bad;
	snprintf(buf, sizeof(buf), "%s", val);
	tok = strtok_r(buf, ",", &save);
	if (!tok || !isdigit((unsigned char)*tok))
		goto bad;
	errno = 0;
	b.amount_mib = strtoull(tok, &end, 10);
	if (*end || errno || b.amount_mib > (1ULL << 20))
		goto bad;
	while ((tok = strtok_r(NULL, ",", &save))) {
		if (!strcmp(tok, "deflate-on-oom")) {
			b.deflate_on_oom = 1;
		} else if (!strcmp(tok, "reporting")) {
			b.reporting = 1;
		} else if (!strncmp(tok, "stats=", 6) &&
			   isdigit((unsigned char)tok[6])) {
			unsigned long s = strtoul(tok + 6, &end, 10);

			if (*end || s > 86400)
				goto bad;
			b.stats_interval_s = (unsigned int)s;
		} else {
			set_err(err, errlen,
				"--balloon: unknown option '%s': give deflate-on-oom, stats=SECS or reporting",
				tok);
			return CONFIG_ERROR;
		}
	}
	cfg->balloon = b;
	return 0;
bad:
	set_err(err, errlen,
		"--balloon '%s': give the MiB to take back, e.g. --balloon 128[,deflate-on-oom][,stats=5][,reporting]",
		val);
	return CONFIG_ERROR;
}

/* --vsock PATH[,cid=N] */
static int cli_vsock(struct vm_config *cfg, const char *val, char *err,
		     size_t errlen)
{
	const char *c = strstr(val, ",cid=");
	uint64_t cid = 3;
	char path[128];
	size_t len = c ? (size_t)(c - val) : strlen(val);

	if (cfg->vsock_uds) {
		set_err(err, errlen,
			"--vsock: given twice: a VM has one vsock device");
		return CONFIG_ERROR;
	}
	if (c) {
		char *end;

		errno = 0;
		cid = strtoull(c + 5, &end, 10);
		if (!c[5] || *end || errno || c[5] == '-') {
			set_err(err, errlen,
				"--vsock '%s': cid= takes a number from 3 to 4294967295",
				val);
			return CONFIG_ERROR;
		}
	}
	if (len >= sizeof(path))
		len = sizeof(path) - 1; /* too long: the check says so */
	memcpy(path, val, len);
	path[len] = 0;
	if (config_check_vsock(cid, path, err, errlen)) {
		char why[200];

		snprintf(why, sizeof(why), "%s", err);
		set_err(err, errlen, "--vsock: %s", why);
		return CONFIG_ERROR;
	}
	cfg->vsock_uds = config_strdup(cfg, path);
	cfg->vsock_cid = cid;
	if (!cfg->vsock_uds) {
		set_err(err, errlen, "out of memory");
		return CONFIG_ERROR;
	}
	return 0;
}

static int set_once(const char **slot, const char *val, const char *name,
		    char *err, size_t errlen)
{
	if (*slot) {
		set_err(err, errlen, "--%s given twice: give it once", name);
		return -1;
	}
	*slot = val;
	return 0;
}

enum config_result config_parse_run(struct vm_config *cfg, int argc,
				    char **argv, char *err, size_t errlen)
{
	bool have_cpus = false, have_mem = false;
	char e[200];
	int i;

	config_init(cfg);

	for (i = 0; i < argc; i++) {
		const char *arg = argv[i], *val;
		const struct opt *o;
		int rc = 0;

		if (!strcmp(arg, "--")) {
			if (i + 1 >= argc) {
				set_err(err, errlen,
					"nothing after '--': give a command, e.g. -- uname -a");
				return CONFIG_ERROR;
			}
			cfg->run_argv = argv + i + 1;
			cfg->run_argc = argc - i - 1;
			break;
		}
		o = find_opt(arg, &val);

		if (!o) {
			if (arg[0] == '-')
				set_err(err, errlen,
					"unknown option '%s': see 'kiln run --help'",
					arg);
			else
				set_err(err, errlen,
					"unexpected argument '%s': see 'kiln run --help'",
					arg);
			return CONFIG_ERROR;
		}
		if (o->has_arg && !val) {
			if (i + 1 >= argc) {
				set_err(err, errlen,
					"--%s needs a value: see 'kiln run --help'",
					o->longname);
				return CONFIG_ERROR;
			}
			val = argv[++i];
		} else if (!o->has_arg && val) {
			set_err(err, errlen, "--%s takes no value",
				o->longname);
			return CONFIG_ERROR;
		}

		switch (o->id) {
		case OPT_KERNEL:
			rc = set_once(&cfg->kernel, val, o->longname, err,
				      errlen);
			break;
		case OPT_INITRD:
			rc = set_once(&cfg->initrd, val, o->longname, err,
				      errlen);
			break;
		case OPT_APPEND:
			rc = set_once(&cfg->append, val, o->longname, err,
				      errlen);
			break;
		case OPT_CMDLINE:
			rc = set_once(&cfg->cmdline, val, o->longname, err,
				      errlen);
			break;
		case OPT_CPUS:
			if (have_cpus) {
				set_err(err, errlen,
					"--cpus given twice: give it once");
				return CONFIG_ERROR;
			}
			have_cpus = true;
			if (parse_uint(val, &cfg->cpus)) {
				set_err(err, errlen,
					"--cpus '%s': give a number from 1 to %d",
					val, KILN_MAX_CPUS);
				return CONFIG_ERROR;
			}
			if (config_check_cpus(cfg->cpus, e, sizeof(e))) {
				set_err(err, errlen, "--cpus '%s': %s", val, e);
				return CONFIG_ERROR;
			}
			break;
		case OPT_MEM: {
			uint64_t sz;
			int r;

			if (have_mem) {
				set_err(err, errlen,
					"--mem given twice: give it once");
				return CONFIG_ERROR;
			}
			have_mem = true;
			r = parse_size(val, &sz);
			if (r) {
				set_err(err, errlen,
					"--mem '%s': not a size; write it like 512M or 2G",
					val);
				return CONFIG_ERROR;
			}
			if (config_check_mem(sz, e, sizeof(e))) {
				set_err(err, errlen, "--mem '%s': %s", val, e);
				return CONFIG_ERROR;
			}
			cfg->mem_size = sz;
			break;
		}
		case OPT_VERBOSE:
			cfg->verbose++;
			break;
		case OPT_DISK:
			if (cfg->nr_disks == KILN_MAX_DISKS) {
				set_err(err, errlen,
					"too many --disk options: at most %d",
					KILN_MAX_DISKS);
				return CONFIG_ERROR;
			}
			if (parse_disk(val, &cfg->disks[cfg->nr_disks], err,
				       errlen))
				return CONFIG_ERROR;
			cfg->nr_disks++;
			break;
		case OPT_NET:
			if (cfg->nr_nics == KILN_MAX_NICS) {
				set_err(err, errlen,
					"too many --net options: at most %d",
					KILN_MAX_NICS);
				return CONFIG_ERROR;
			}
			if (parse_net(val, &cfg->nics[cfg->nr_nics], err,
				      errlen))
				return CONFIG_ERROR;
			cfg->nr_nics++;
			break;
		case OPT_CONSOLE:
			if (!strcmp(val, "serial")) {
				cfg->console = CONSOLE_SERIAL;
			} else if (!strcmp(val, "virtio")) {
				cfg->console = CONSOLE_VIRTIO;
			} else {
				set_err(err, errlen,
					"--console '%s': give serial or virtio",
					val);
				return CONFIG_ERROR;
			}
			break;
		case OPT_ROOTFS: {
			size_t n = strlen(val);

			rc = set_once(&cfg->rootfs, val, o->longname, err,
				      errlen);
			if (!rc && n > 3 && !strcmp(val + n - 3, ",ro")) {
				cfg->rootfs_ro = 1;
				cfg->rootfs_path_len = n - 3;
			} else {
				cfg->rootfs_path_len = n;
			}
			break;
		}
		case OPT_SHARE:
			if (cfg->nr_shares == KILN_MAX_SHARES) {
				set_err(err, errlen,
					"too many --share options: at most %d",
					KILN_MAX_SHARES);
				return CONFIG_ERROR;
			}
			if (parse_share(val, &cfg->shares[cfg->nr_shares], err,
					errlen))
				return CONFIG_ERROR;
			cfg->nr_shares++;
			break;
		case OPT_ENV:
			if (!strchr(val, '=') || *val == '=') {
				set_err(err, errlen,
					"--env '%s': write it as NAME=VALUE",
					val);
				return CONFIG_ERROR;
			}
			if (cfg->nr_env == KILN_MAX_ENV) {
				set_err(err, errlen,
					"too many --env options: at most %d",
					KILN_MAX_ENV);
				return CONFIG_ERROR;
			}
			cfg->env[cfg->nr_env++] = val;
			break;
		case OPT_CWD:
			rc = set_once(&cfg->cwd, val, o->longname, err, errlen);
			if (!rc && *val != '/') {
				set_err(err, errlen,
					"--cwd '%s': give an absolute path",
					val);
				return CONFIG_ERROR;
			}
			break;
		case OPT_USER:
			if (parse_user(val, &cfg->uid, &cfg->gid)) {
				set_err(err, errlen,
					"--user '%s': give UID or UID:GID as numbers",
					val);
				return CONFIG_ERROR;
			}
			break;
		case OPT_TIMEOUT:
			if (parse_seconds(val, &cfg->timeout)) {
				set_err(err, errlen,
					"--timeout '%s': give seconds, more than 0",
					val);
				return CONFIG_ERROR;
			}
			break;
		case OPT_INTERACTIVE:
			cfg->interactive = 1;
			break;
		case OPT_TTY:
			cfg->tty = 1;
			break;
		case OPT_CONSOLE_LOG:
			rc = set_once(&cfg->console_log, val, o->longname, err,
				      errlen);
			break;
		case OPT_NO_ACPI:
			cfg->no_acpi = 1;
			break;
		case OPT_SECCOMP:
			if (strcmp(val, "on") && strcmp(val, "off")) {
				set_err(err, errlen,
					"--seccomp '%s': give on or off", val);
				return CONFIG_ERROR;
			}
			cfg->no_seccomp = !strcmp(val, "off");
			break;
		case OPT_METRICS:
			rc = set_once(&cfg->metrics_path, val, o->longname, err,
				      errlen);
			break;
		case OPT_VSOCK:
			rc = cli_vsock(cfg, val, err, errlen);
			break;
		case OPT_BALLOON:
			rc = cli_balloon(cfg, val, err, errlen);
			break;
		case OPT_KERNEL_CACHE:
			if (strcmp(val, "on") && strcmp(val, "off")) {
				set_err(err, errlen,
					"--kernel-cache '%s': give on or off",
					val);
				return CONFIG_ERROR;
			}
			cfg->no_kernel_cache = !strcmp(val, "off");
			break;
		case OPT_JAIL:
			rc = set_once(&cfg->jail, val, o->longname, err,
				      errlen);
			break;
		case OPT_UID:
		case OPT_GID: {
			long *slot = o->id == OPT_UID ? &cfg->jail_uid :
							&cfg->jail_gid;
			char *end;

			errno = 0;
			*slot = strtol(val, &end, 10);
			if (errno || end == val || *end || *slot < 0 ||
			    *slot > 0x7fffffff) {
				set_err(err, errlen, "--%s '%s': give a number",
					o->longname, val);
				return CONFIG_ERROR;
			}
			break;
		}
		case OPT_BOOT_TIMER:
			cfg->boot_timer = 1;
			break;
		case OPT_CGROUP:
			if (parse_cgroup(val, &cfg->cgroup, err, errlen))
				return CONFIG_ERROR;
			break;
		case OPT_HELP:
			return CONFIG_HELP;
		}
		if (rc)
			return CONFIG_ERROR;
	}

	if (!cfg->jail &&
	    (cfg->jail_uid >= 0 || cfg->jail_gid >= 0 || cfg->cgroup.path[0])) {
		set_err(err, errlen,
			"--uid, --gid and --cgroup go with --jail DIR: add it");
		return CONFIG_ERROR;
	}
	if (!cfg->run_argv &&
	    (cfg->rootfs || cfg->nr_shares || cfg->nr_env || cfg->cwd ||
	     cfg->uid >= 0 || cfg->timeout || cfg->interactive || cfg->tty)) {
		set_err(err, errlen,
			"--rootfs, --share, --env, --cwd, --user, --timeout, -i and -t go with a command: add -- CMD");
		return CONFIG_ERROR;
	}
	if (config_validate(cfg, err, errlen))
		return CONFIG_ERROR;
	return CONFIG_OK;
}

int parse_cgroup(const char *arg, struct cgroup_spec *c, char *err,
		 size_t errlen)
{
	const char *p = arg, *comma;
	size_t n;

	memset(c, 0, sizeof(*c));
	comma = strchr(p, ',');
	n = comma ? (size_t)(comma - p) : strlen(p);
	if (n > strlen(KILN_CGROUP_ROOT) &&
	    !strncmp(p, KILN_CGROUP_ROOT "/", 15)) {
		p += 15;
		n -= 15;
	}
	while (n && *p == '/') {
		p++;
		n--;
	}
	if (!n || n >= sizeof(c->path) || memmem(p, n, "..", 2)) {
		set_err(err, errlen,
			"--cgroup '%s': give a cgroup path under " KILN_CGROUP_ROOT
			", e.g. kiln/vm1[,cpu=50][,mem=1G]",
			arg);
		return -1;
	}
	memcpy(c->path, p, n);
	while (comma) {
		char opt[64], *end;
		const char *v = comma + 1;

		comma = strchr(v, ',');
		n = comma ? (size_t)(comma - v) : strlen(v);
		if (n >= sizeof(opt))
			n = sizeof(opt) - 1;
		memcpy(opt, v, n);
		opt[n] = 0;
		if (!strncmp(opt, "cpu=", 4)) {
			unsigned long pct = strtoul(opt + 4, &end, 10);

			if (end == opt + 4 || (*end && strcmp(end, "%")) ||
			    !pct || pct > 100000) {
				set_err(err, errlen,
					"--cgroup: cpu=%s: give a percentage of one CPU, e.g. cpu=50 or cpu=200",
					opt + 4);
				return -1;
			}
			c->cpu_pct = pct;
		} else if (!strncmp(opt, "mem=", 4)) {
			if (parse_size(opt + 4, &c->mem) || !c->mem) {
				set_err(err, errlen,
					"--cgroup: mem=%s: give a size, e.g. mem=1G",
					opt + 4);
				return -1;
			}
		} else {
			set_err(err, errlen,
				"--cgroup: unknown option '%s': give cpu=PCT or mem=SIZE",
				opt);
			return -1;
		}
	}
	return 0;
}

int parse_disk(const char *arg, struct disk_spec *d, char *err, size_t errlen)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	int r = 0;

	memset(d, 0, sizeof(*d));
	if (!copy)
		return -ENOMEM;
	tok = strtok_r(copy, ",", &save);
	if (!tok || !*tok || *arg == ',') {
		set_err(err, errlen,
			"--disk '%s': give a path, e.g. --disk rootfs.ext4,ro",
			arg);
		r = -EINVAL;
		goto out;
	}
	d->path = strdup(tok);
	while (!r && (tok = strtok_r(NULL, ",", &save))) {
		if (!strcmp(tok, "ro")) {
			d->ro = 1;
		} else if (!strncmp(tok, "id=", 3) && tok[3] && !d->id) {
			if (strlen(tok + 3) > 20) {
				set_err(err, errlen,
					"--disk '%s': an id has at most 20 characters",
					arg);
				r = -EINVAL;
			}
			d->id = strdup(tok + 3);
		} else {
			set_err(err, errlen,
				"--disk '%s': unknown option '%s' (known: ro, id=NAME)",
				arg, tok);
			r = -EINVAL;
		}
	}
	if (!r && (!d->path || (strstr(arg, "id=") && !d->id)))
		r = -ENOMEM;
out:
	free(copy);
	if (r) {
		free(d->path);
		free(d->id);
		memset(d, 0, sizeof(*d));
	}
	return r;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char end;
	int i;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &end) != 6 ||
	    strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++)
		mac[i] = b[i];
	/* Multicast addresses cannot be a NIC's own. */
	return (mac[0] & 1) ? -EINVAL : 0;
}

int parse_net(const char *arg, struct net_spec *n, char *err, size_t errlen)
{
	char copy[512], *tok, *save = NULL;
	bool first = true;

	memset(n, 0, sizeof(*n));
	if (strlen(arg) >= sizeof(copy)) {
		set_err(err, errlen, "--net '%.40s...': too long", arg);
		return -EINVAL;
	}
	strcpy(copy, arg);
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save), first = false) {
		if (first && !strcmp(tok, "user")) {
			n->user = 1;
		} else if (first && !strncmp(tok, "tap=", 4)) {
			if (!tok[4] || strlen(tok + 4) >= sizeof(n->ifname) ||
			    strchr(tok + 4, '/')) {
				set_err(err, errlen,
					"--net '%s': give an interface name of 1 to 15 characters",
					arg);
				return -EINVAL;
			}
			strcpy(n->ifname, tok + 4);
		} else if (first) {
			break;
		} else if (!strncmp(tok, "mac=", 4)) {
			if (parse_mac(tok + 4, n->mac)) {
				set_err(err, errlen,
					"--net '%s': mac= wants a unicast address like 02:00:00:00:00:01",
					arg);
				return -EINVAL;
			}
			n->has_mac = 1;
		} else if (n->user && !strncmp(tok, "fwd=tcp:", 8)) {
			unsigned int h, g;
			char end;

			if (sscanf(tok + 8, "%u:%u%c", &h, &g, &end) != 2 ||
			    !h || !g || h > 65535 || g > 65535) {
				set_err(err, errlen,
					"--net '%s': write forwards as fwd=tcp:HOSTPORT:GUESTPORT",
					arg);
				return -EINVAL;
			}
			if (strlen(n->fwds) + 16 >= sizeof(n->fwds)) {
				set_err(err, errlen,
					"--net '%s': too many forwards", arg);
				return -EINVAL;
			}
			snprintf(n->fwds + strlen(n->fwds),
				 sizeof(n->fwds) - strlen(n->fwds), "%s%u:%u",
				 *n->fwds ? " " : "", h, g);
		} else {
			set_err(err, errlen,
				"--net '%s': unknown option '%s' (known: mac=, and fwd=tcp:H:G for user)",
				arg, tok);
			return -EINVAL;
		}
	}
	if (!n->user && !n->ifname[0]) {
		set_err(err, errlen,
			"--net '%s': give tap=IFNAME or user, e.g. --net tap=tap0",
			arg);
		return -EINVAL;
	}
	return 0;
}

int parse_share(const char *arg, struct share_spec *s, char *err, size_t errlen)
{
	size_t n = strlen(arg);
	char *copy, *colon;

	memset(s, 0, sizeof(*s));
	if (n > 3 && !strcmp(arg + n - 3, ",ro")) {
		s->ro = 1;
		n -= 3;
	}
	copy = strndup(arg, n);
	if (!copy)
		return -ENOMEM;
	colon = strchr(copy, ':');
	if (colon)
		*colon++ = 0;
	if (!*copy || strchr(copy, ',') || (colon && strchr(colon, ':'))) {
		set_err(err, errlen,
			"--share '%s': write it as HOSTDIR[:GUESTDIR][,ro]",
			arg);
		free(copy);
		return -EINVAL;
	}
	s->guest = strdup(colon ? colon : copy);
	if (!s->guest || *s->guest != '/') {
		set_err(err, errlen,
			"--share '%s': the guest directory must be an absolute path",
			arg);
		free(s->guest);
		free(copy);
		s->guest = NULL;
		return -EINVAL;
	}
	s->host = copy;
	return 0;
}

int parse_user(const char *arg, long *uid, long *gid)
{
	unsigned int u, g;
	const char *colon = strchr(arg, ':');
	char tmp[16];

	if (!colon) {
		if (parse_uint(arg, &u) || u > INT32_MAX)
			return -EINVAL;
		*uid = u;
		*gid = u;
		return 0;
	}
	if ((size_t)(colon - arg) >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, arg, colon - arg);
	tmp[colon - arg] = 0;
	if (parse_uint(tmp, &u) || parse_uint(colon + 1, &g) || u > INT32_MAX ||
	    g > INT32_MAX)
		return -EINVAL;
	*uid = u;
	*gid = g;
	return 0;
}

int parse_seconds(const char *arg, double *out)
{
	char *end;
	double v;

	if (!isdigit((unsigned char)*arg))
		return -EINVAL;
	errno = 0;
	v = strtod(arg, &end);
	if (errno || *end || !(v > 0) || v > 1e9)
		return -EINVAL;
	*out = v;
	return 0;
}
