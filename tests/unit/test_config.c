// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "jail.h"
#include "unit.h"

static void test_parse_size_units(void)
{
	uint64_t v;

	CU_ASSERT_EQUAL(parse_size("512M", &v), 0);
	CU_ASSERT_EQUAL(v, 512ULL << 20);
	CU_ASSERT_EQUAL(parse_size("2G", &v), 0);
	CU_ASSERT_EQUAL(v, 2ULL << 30);
	CU_ASSERT_EQUAL(parse_size("2g", &v), 0);
	CU_ASSERT_EQUAL(v, 2ULL << 30);
	CU_ASSERT_EQUAL(parse_size("1024K", &v), 0);
	CU_ASSERT_EQUAL(v, 1ULL << 20);
	CU_ASSERT_EQUAL(parse_size("1T", &v), 0);
	CU_ASSERT_EQUAL(v, 1ULL << 40);
	CU_ASSERT_EQUAL(parse_size("256", &v), 0); /* bare number: MiB */
	CU_ASSERT_EQUAL(v, 256ULL << 20);
	CU_ASSERT_EQUAL(parse_size("4096B", &v), 0);
	CU_ASSERT_EQUAL(v, 4096);
	CU_ASSERT_EQUAL(parse_size("3GiB", &v), 0);
	CU_ASSERT_EQUAL(v, 3ULL << 30);
	CU_ASSERT_EQUAL(parse_size("8MB", &v), 0);
	CU_ASSERT_EQUAL(v, 8ULL << 20);
}

static void test_parse_size_bad(void)
{
	uint64_t v = 77;

	CU_ASSERT_EQUAL(parse_size("", &v), -EINVAL);
	CU_ASSERT_EQUAL(parse_size("M", &v), -EINVAL);
	CU_ASSERT_EQUAL(parse_size("-1G", &v), -EINVAL);
	CU_ASSERT_EQUAL(parse_size(" 1G", &v), -EINVAL);
	CU_ASSERT_EQUAL(parse_size("1Q", &v), -EINVAL);
	CU_ASSERT_EQUAL(parse_size("1GG", &v), -EINVAL);
	CU_ASSERT_EQUAL(parse_size("1.5G", &v), -EINVAL);
	CU_ASSERT_EQUAL(parse_size("99999999999999999999999", &v), -ERANGE);
	CU_ASSERT_EQUAL(parse_size("17179869184T", &v), -ERANGE);
	CU_ASSERT_EQUAL(parse_size(NULL, &v), -EINVAL);
	CU_ASSERT_EQUAL(v, 77); /* untouched on error */
}

static enum config_result parse(struct vm_config *c, char *err, ...)
{
	/* Static: the config keeps pointers into argv. */
	static char *argv[32];
	int argc = 0;
	va_list ap;
	char *a;

	va_start(ap, err);
	while ((a = va_arg(ap, char *)) && argc < 32)
		argv[argc++] = a;
	va_end(ap);
	err[0] = 0;
	return config_parse_run(c, argc, argv, err, 256);
}

static void test_run_defaults(void)
{
	struct vm_config c;
	char err[256];

	CU_ASSERT_EQUAL(parse(&c, err, "--kernel", "bz", NULL), CONFIG_OK);
	CU_ASSERT_STRING_EQUAL(c.kernel, "bz");
	CU_ASSERT_EQUAL(c.cpus, 1);
	CU_ASSERT_EQUAL(c.mem_size, 256ULL << 20);
	CU_ASSERT_PTR_NULL(c.initrd);
	CU_ASSERT_PTR_NULL(c.append);
	CU_ASSERT_PTR_NULL(c.cmdline);
}

static void test_run_all_options(void)
{
	struct vm_config c;
	char err[256];

	CU_ASSERT_EQUAL(parse(&c, err, "-k", "bz", "--initrd=rd", "--cpus", "4",
			      "--mem=2G", "--append", "quiet", "-v", "-v",
			      NULL),
			CONFIG_OK);
	CU_ASSERT_STRING_EQUAL(c.kernel, "bz");
	CU_ASSERT_STRING_EQUAL(c.initrd, "rd");
	CU_ASSERT_STRING_EQUAL(c.append, "quiet");
	CU_ASSERT_EQUAL(c.cpus, 4);
	CU_ASSERT_EQUAL(c.mem_size, 2ULL << 30);
	CU_ASSERT_EQUAL(c.verbose, 2);
}

static void test_run_errors(void)
{
	struct vm_config c;
	char err[256];

	CU_ASSERT_EQUAL(parse(&c, err, "--kernel", "bz", "--frobnicate", NULL),
			CONFIG_ERROR);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown option '--frobnicate'"));
	CU_ASSERT_EQUAL(parse(&c, err, "--kernel", NULL), CONFIG_ERROR);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--kernel needs a value"));
	/* No --kernel: kiln's own is looked for when the VM starts. */
	CU_ASSERT_EQUAL(parse(&c, err, "--cpus", "2", NULL), CONFIG_OK);
	CU_ASSERT_PTR_NULL(c.kernel);
	CU_ASSERT_EQUAL(parse(&c, err, "-k", "a", "-k", "b", NULL),
			CONFIG_ERROR);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "given twice"));
	CU_ASSERT_EQUAL(parse(&c, err, "-k", "a", "--mem", "1G", "--mem", "2G",
			      NULL),
			CONFIG_ERROR);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--mem given twice"));
	CU_ASSERT_EQUAL(parse(&c, err, "-k", "a", "stray", NULL), CONFIG_ERROR);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unexpected argument 'stray'"));
	CU_ASSERT_EQUAL(parse(&c, err, "-k", "a", "--verbose=3", NULL),
			CONFIG_ERROR);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "takes no value"));
}

static void test_run_bad_numbers(void)
{
	static const char *bad_cpus[] = { "0", "-1", "255",	   "two",
					  "",  "1x", "99999999999" };
	static const char *bad_mem[] = { "0",	 "8M",	 "2T",	 "lots",
					 "1.5G", "100K", "4097K" };
	struct vm_config c;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad_cpus) / sizeof(bad_cpus[0]); i++) {
		CU_ASSERT_EQUAL(parse(&c, err, "-k", "a", "--cpus",
				      (char *)bad_cpus[i], NULL),
				CONFIG_ERROR);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "--cpus"));
	}
	for (i = 0; i < sizeof(bad_mem) / sizeof(bad_mem[0]); i++) {
		CU_ASSERT_EQUAL(parse(&c, err, "-k", "a", "--mem",
				      (char *)bad_mem[i], NULL),
				CONFIG_ERROR);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "--mem"));
	}
	CU_ASSERT_EQUAL(parse(&c, err, "-k", "a", "--cpus", "254", "--mem",
			      "16M", NULL),
			CONFIG_OK);
}

static void test_run_help(void)
{
	struct vm_config c;
	char err[256];

	CU_ASSERT_EQUAL(parse(&c, err, "--help", NULL), CONFIG_HELP);
	CU_ASSERT_EQUAL(parse(&c, err, "-k", "x", "-h", NULL), CONFIG_HELP);
}

static void test_cmdline_compose(void)
{
	struct vm_config c = { 0 };
	char *s;

	s = config_kernel_cmdline(&c, "console=ttyS0");
	CU_ASSERT_STRING_EQUAL(s, "console=ttyS0");
	free(s);
	c.append = "quiet init=/bin/sh";
	s = config_kernel_cmdline(&c, "console=ttyS0");
	CU_ASSERT_STRING_EQUAL(s, "console=ttyS0 quiet init=/bin/sh");
	free(s);
	c.cmdline = "console=hvc0";
	s = config_kernel_cmdline(&c, "console=ttyS0");
	CU_ASSERT_STRING_EQUAL(s, "console=hvc0 quiet init=/bin/sh");
	free(s);
	c.append = NULL;
	c.cmdline = "";
	s = config_kernel_cmdline(&c, "console=ttyS0");
	CU_ASSERT_STRING_EQUAL(s, "");
	free(s);
}

static void test_disk_specs(void)
{
	struct disk_spec d;
	char err[256];

	CU_ASSERT_EQUAL(parse_disk("root.img", &d, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(d.path, "root.img");
	CU_ASSERT_FALSE(d.ro);
	CU_ASSERT_PTR_NULL(d.id);
	free(d.path);
	CU_ASSERT_EQUAL(parse_disk("/dev/sdb,ro,id=data", &d, err, sizeof(err)),
			0);
	CU_ASSERT_STRING_EQUAL(d.path, "/dev/sdb");
	CU_ASSERT_TRUE(d.ro);
	CU_ASSERT_STRING_EQUAL(d.id, "data");
	free(d.path);
	free(d.id);
	CU_ASSERT_EQUAL(parse_disk(",ro", &d, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(parse_disk("x.img,rw", &d, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown option 'rw'"));
	CU_ASSERT_EQUAL(parse_disk("x.img,id=123456789012345678901", &d, err,
				   sizeof(err)),
			-EINVAL);
	CU_ASSERT_PTR_NULL(d.path);
}

static void test_net_specs(void)
{
	struct net_spec n;
	uint8_t a[6], b[6], c[6];
	char err[256];

	CU_ASSERT_EQUAL(parse_net("tap=tap0", &n, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(n.ifname, "tap0");
	CU_ASSERT_FALSE(n.user);
	CU_ASSERT_FALSE(n.has_mac);
	CU_ASSERT_EQUAL(parse_net("tap=tap1,mac=02:aa:bb:cc:dd:ee", &n, err,
				  sizeof(err)),
			0);
	CU_ASSERT_TRUE(n.has_mac);
	CU_ASSERT_EQUAL(n.mac[5], 0xee);
	CU_ASSERT_EQUAL(parse_net("user,fwd=tcp:8080:80,fwd=tcp:2222:22", &n,
				  err, sizeof(err)),
			0);
	CU_ASSERT_TRUE(n.user);
	CU_ASSERT_STRING_EQUAL(n.fwds, "8080:80 2222:22");
	CU_ASSERT_EQUAL(parse_net("tap=", &n, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(parse_net("tap=averyveryverylongname", &n, err,
				  sizeof(err)),
			-EINVAL);
	CU_ASSERT_EQUAL(parse_net("eth0", &n, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(parse_net("tap=t0,mac=01:00:5e:00:00:01", &n, err,
				  sizeof(err)),
			-EINVAL); /* multicast */
	CU_ASSERT_EQUAL(parse_net("tap=t0,mac=02:00:00:00:00", &n, err,
				  sizeof(err)),
			-EINVAL);
	CU_ASSERT_EQUAL(parse_net("tap=t0,fwd=tcp:1:2", &n, err, sizeof(err)),
			-EINVAL); /* forwards are for user mode */
	CU_ASSERT_EQUAL(parse_net("user,fwd=tcp:0:80", &n, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_EQUAL(parse_net("user,fwd=udp:53:53", &n, err, sizeof(err)),
			-EINVAL);

	/* Default MACs: stable, distinct per NIC, unicast and local. */
	parse_net("tap=tap0", &n, err, sizeof(err));
	net_default_mac(&n, 0, a);
	net_default_mac(&n, 0, b);
	net_default_mac(&n, 1, c);
	CU_ASSERT_EQUAL(memcmp(a, b, 6), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(a, c, 6), 0);
	CU_ASSERT_EQUAL(a[0] & 3, 2);
}

static void test_run_command(void)
{
	struct vm_config c;
	char err[256];

	CU_ASSERT_EQUAL(parse(&c, err, "-k", "bz", "--rootfs", "/r,ro",
			      "--share", "/a", "--share", "/b:/mnt/b,ro", "-e",
			      "A=1", "--env=B=x=y", "-w", "/tmp", "-u",
			      "1000:50", "--timeout", "2.5", "-i", "-t",
			      "--console-log", "log", "--", "sh", "-c",
			      "exit 7", NULL),
			CONFIG_OK);
	CU_ASSERT_EQUAL(c.run_argc, 3);
	CU_ASSERT_STRING_EQUAL(c.run_argv[0], "sh");
	CU_ASSERT_STRING_EQUAL(c.run_argv[2], "exit 7");
	CU_ASSERT_EQUAL(c.rootfs_ro, 1);
	CU_ASSERT_EQUAL(c.rootfs_path_len, 2);
	CU_ASSERT_EQUAL(c.nr_shares, 2);
	CU_ASSERT_STRING_EQUAL(c.shares[0].host, "/a");
	CU_ASSERT_STRING_EQUAL(c.shares[0].guest, "/a");
	CU_ASSERT_EQUAL(c.shares[0].ro, 0);
	CU_ASSERT_STRING_EQUAL(c.shares[1].host, "/b");
	CU_ASSERT_STRING_EQUAL(c.shares[1].guest, "/mnt/b");
	CU_ASSERT_EQUAL(c.shares[1].ro, 1);
	CU_ASSERT_EQUAL(c.nr_env, 2);
	CU_ASSERT_STRING_EQUAL(c.env[1], "B=x=y");
	CU_ASSERT_STRING_EQUAL(c.cwd, "/tmp");
	CU_ASSERT_EQUAL(c.uid, 1000);
	CU_ASSERT_EQUAL(c.gid, 50);
	CU_ASSERT_DOUBLE_EQUAL(c.timeout, 2.5, 1e-9);
	CU_ASSERT_EQUAL(c.interactive, 1);
	CU_ASSERT_EQUAL(c.tty, 1);
	CU_ASSERT_STRING_EQUAL(c.console_log, "log");
	config_free(&c);

	/* Options after -- belong to the command. */
	CU_ASSERT_EQUAL(parse(&c, err, "--", "ls", "--help", NULL), CONFIG_OK);
	CU_ASSERT_EQUAL(c.run_argc, 2);
	CU_ASSERT_EQUAL(c.uid, -1);

	CU_ASSERT_EQUAL(parse(&c, err, "--", NULL), CONFIG_ERROR);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "nothing after '--'"));
	CU_ASSERT_EQUAL(parse(&c, err, "--share", "/a", NULL), CONFIG_ERROR);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "add -- CMD"));
	config_free(&c);
	CU_ASSERT_EQUAL(parse(&c, err, "--share", "/a:rel", "--", "x", NULL),
			CONFIG_ERROR);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "absolute"));
	CU_ASSERT_EQUAL(parse(&c, err, "--share", ":/x", "--", "x", NULL),
			CONFIG_ERROR);
	CU_ASSERT_EQUAL(parse(&c, err, "--share", "/a:/b:/c", "--", "x", NULL),
			CONFIG_ERROR);
	CU_ASSERT_EQUAL(parse(&c, err, "-e", "NOEQUALS", "--", "x", NULL),
			CONFIG_ERROR);
	CU_ASSERT_EQUAL(parse(&c, err, "-e", "=v", "--", "x", NULL),
			CONFIG_ERROR);
	CU_ASSERT_EQUAL(parse(&c, err, "-w", "rel", "--", "x", NULL),
			CONFIG_ERROR);
	CU_ASSERT_EQUAL(parse(&c, err, "-u", "root", "--", "x", NULL),
			CONFIG_ERROR);
	CU_ASSERT_EQUAL(parse(&c, err, "-u", "1:", "--", "x", NULL),
			CONFIG_ERROR);
	CU_ASSERT_EQUAL(parse(&c, err, "--timeout", "0", "--", "x", NULL),
			CONFIG_ERROR);
	CU_ASSERT_EQUAL(parse(&c, err, "--timeout", "-1", "--", "x", NULL),
			CONFIG_ERROR);
	CU_ASSERT_EQUAL(parse(&c, err, "--timeout", "5s", "--", "x", NULL),
			CONFIG_ERROR);
	CU_ASSERT_EQUAL(parse(&c, err, "--timeout", "nan", "--", "x", NULL),
			CONFIG_ERROR);
}

static void test_user_and_seconds(void)
{
	long u = 9, g = 9;
	double d;

	CU_ASSERT_EQUAL(parse_user("1000", &u, &g), 0);
	CU_ASSERT_EQUAL(u, 1000);
	CU_ASSERT_EQUAL(g, 1000);
	CU_ASSERT_EQUAL(parse_user("0:5", &u, &g), 0);
	CU_ASSERT_EQUAL(u, 0);
	CU_ASSERT_EQUAL(g, 5);
	CU_ASSERT_EQUAL(parse_user("4294967296", &u, &g), -EINVAL);
	CU_ASSERT_EQUAL(parse_user("12345678901234567:1", &u, &g), -EINVAL);
	CU_ASSERT_EQUAL(parse_user(":1", &u, &g), -EINVAL);
	CU_ASSERT_EQUAL(parse_seconds("0.5", &d), 0);
	CU_ASSERT_DOUBLE_EQUAL(d, 0.5, 1e-9);
	CU_ASSERT_EQUAL(parse_seconds("inf", &d), -EINVAL);
	CU_ASSERT_EQUAL(parse_seconds("", &d), -EINVAL);
}

static void test_kconfig(void)
{
	const char *p = kiln_kconfig;

	/* Every line a comment or CONFIG_X=y, mergeable as it is. */
	while (*p) {
		const char *nl = strchr(p, '\n');

		CU_ASSERT_PTR_NOT_NULL_FATAL(nl);
		CU_ASSERT(*p == '#' || (!strncmp(p, "CONFIG_", 7) &&
					!strncmp(nl - 2, "=y", 2)));
		p = nl + 1;
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(kiln_kconfig, "CONFIG_VIRTIO_MMIO=y\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(kiln_kconfig, "CONFIG_9P_FS=y\n"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(kiln_kconfig, "CONFIG_VIRTIO_CONSOLE=y\n"));
}

static void test_hardening_options(void)
{
	struct cgroup_spec cg;
	struct vm_config c;
	char err[256];

	CU_ASSERT_EQUAL(parse(&c, err, "-k", "bz", "--seccomp=off",
			      "--boot-timer", "--jail", "/srv/j", "--uid",
			      "1000", "--gid", "100", "--cgroup",
			      "kiln/vm1,cpu=50,mem=1G", NULL),
			CONFIG_OK);
	CU_ASSERT_EQUAL(c.no_seccomp, 1);
	CU_ASSERT_EQUAL(c.boot_timer, 1);
	CU_ASSERT_STRING_EQUAL(c.jail, "/srv/j");
	CU_ASSERT_EQUAL(c.jail_uid, 1000);
	CU_ASSERT_EQUAL(c.jail_gid, 100);
	CU_ASSERT_STRING_EQUAL(c.cgroup.path, "kiln/vm1");
	CU_ASSERT_EQUAL(c.cgroup.cpu_pct, 50);
	CU_ASSERT_EQUAL(c.cgroup.mem, 1ULL << 30);
	config_free(&c);
	CU_ASSERT_EQUAL(parse(&c, err, "-k", "bz", NULL), CONFIG_OK);
	CU_ASSERT_EQUAL(c.no_seccomp, 0);
	CU_ASSERT_EQUAL(c.jail_uid, -1);
	config_free(&c);

	CU_ASSERT_EQUAL(parse(&c, err, "--seccomp", "maybe", NULL),
			CONFIG_ERROR);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "give on or off"));
	config_free(&c);
	CU_ASSERT_EQUAL(parse(&c, err, "--uid", "5", NULL), CONFIG_ERROR);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "go with --jail"));
	config_free(&c);
	CU_ASSERT_EQUAL(parse(&c, err, "--jail", "/j", "--uid", "-3", NULL),
			CONFIG_ERROR);
	config_free(&c);
	CU_ASSERT_EQUAL(parse(&c, err, "--jail", "/j", "--gid", "x", NULL),
			CONFIG_ERROR);
	config_free(&c);

	/* --cgroup values. */
	CU_ASSERT_EQUAL(parse_cgroup("/sys/fs/cgroup/a/b", &cg, err, 256), 0);
	CU_ASSERT_STRING_EQUAL(cg.path, "a/b");
	CU_ASSERT_EQUAL(cg.cpu_pct, 0);
	CU_ASSERT_EQUAL(cg.mem, 0);
	CU_ASSERT_EQUAL(parse_cgroup("x,cpu=250%", &cg, err, 256), 0);
	CU_ASSERT_EQUAL(cg.cpu_pct, 250);
	CU_ASSERT_EQUAL(parse_cgroup("", &cg, err, 256), -1);
	CU_ASSERT_EQUAL(parse_cgroup("../escape", &cg, err, 256), -1);
	CU_ASSERT_EQUAL(parse_cgroup("a/../../b", &cg, err, 256), -1);
	CU_ASSERT_EQUAL(parse_cgroup("a,cpu=0", &cg, err, 256), -1);
	CU_ASSERT_EQUAL(parse_cgroup("a,cpu=50x", &cg, err, 256), -1);
	CU_ASSERT_EQUAL(parse_cgroup("a,mem=lots", &cg, err, 256), -1);
	CU_ASSERT_EQUAL(parse_cgroup("a,swap=1G", &cg, err, 256), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown option 'swap=1G'"));
}

/* What --jail puts in the jail, and where the VM then finds it. */
static void test_jail_plan(void)
{
	char dir[] = "/tmp/kiln-jail-test.XXXXXX", k[64], d[64], v[64],
	     err[256];
	static char *argv[] = { "true", NULL };
	struct vm_config c;
	struct jail_plan plan;
	unsigned int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(k, sizeof(k), "%s/bzImage", dir);
	snprintf(d, sizeof(d), "%s/disk.img", dir);
	fclose(fopen(k, "w"));
	fclose(fopen(d, "w"));
	setenv("KILN_KVM_DEVICE", "/dev/null", 1);

	memset(&c, 0, sizeof(c));
	c.nr_disks = 2;
	c.disks[0].path = strdup(d);
	c.disks[0].ro = 1;
	/* A device node as a disk (as a host block device would be). */
	c.disks[1].path = strdup("/dev/null");
	c.rootfs = dir;
	c.rootfs_path_len = strlen(dir);
	c.run_argv = argv;
	snprintf(v, sizeof(v), "%s/v.sock", dir);
	c.vsock_uds = v;
	CU_ASSERT_EQUAL_FATAL(jail_plan(&c, k, &plan, err, sizeof(err)), 0);
	/* The vsock socket's directory is bound in; kiln makes it there. */
	CU_ASSERT_STRING_EQUAL(c.vsock_uds, "/vsock/v.sock");
	CU_ASSERT_STRING_EQUAL(c.kernel, "/kernel");
	CU_ASSERT_STRING_EQUAL(c.disks[0].path, "/disks/0");
	CU_ASSERT_STRING_EQUAL(c.rootfs, "/rootfs");
	CU_ASSERT_EQUAL(c.rootfs_path_len, 7);
	CU_ASSERT(plan.new_net); /* no NIC: an empty network namespace */
	CU_ASSERT_STRING_EQUAL(c.disks[1].path, "/disks/1");
	/* kvm, null, kernel, vsock's directory, two disks, rootfs */
	CU_ASSERT_EQUAL(plan.nr, 7);
	for (i = 0; i < plan.nr; i++) {
		if (!strcmp(plan.binds[i].inside, "/disks/0")) {
			CU_ASSERT_STRING_EQUAL(plan.binds[i].host, d);
			CU_ASSERT_EQUAL(plan.binds[i].ro, 1);
			CU_ASSERT_EQUAL(plan.binds[i].dir, 0);
			CU_ASSERT_EQUAL(plan.binds[i].dev, 0);
		}
		/* Device nodes are bound without nodev, files with it. */
		if (!strcmp(plan.binds[i].inside, "/disks/1") ||
		    !strcmp(plan.binds[i].inside, "/dev/kvm"))
			CU_ASSERT_EQUAL(plan.binds[i].dev, 1);
		if (!strcmp(plan.binds[i].inside, "/vsock")) {
			CU_ASSERT_STRING_EQUAL(plan.binds[i].host, dir);
			CU_ASSERT_EQUAL(plan.binds[i].dir, 1);
		}
		if (!strcmp(plan.binds[i].inside, "/rootfs")) {
			CU_ASSERT_EQUAL(plan.binds[i].dir, 1);
			CU_ASSERT_EQUAL(plan.binds[i].dev, 0);
		}
	}
	jail_plan_free(&plan);
	free(c.disks[0].path);
	free(c.disks[1].path);
	free((char *)c.rootfs);
	free((char *)c.vsock_uds);

	/* A command needs a root in the jail; passt does not run there. */
	memset(&c, 0, sizeof(c));
	c.run_argv = argv;
	CU_ASSERT_EQUAL(jail_plan(&c, k, &plan, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "needs --rootfs"));
	memset(&c, 0, sizeof(c));
	c.nr_nics = 1;
	c.nics[0].user = 1;
	CU_ASSERT_EQUAL(jail_plan(&c, k, &plan, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "use --net tap="));
	/* A missing file is named. */
	memset(&c, 0, sizeof(c));
	CU_ASSERT_EQUAL(
		jail_plan(&c, "/nonexistent/bz", &plan, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/bz"));

	unsetenv("KILN_KVM_DEVICE");
	unlink(k);
	unlink(d);
	rmdir(dir);
}

void suite_config(void)
{
	static const CU_TestInfo tests[] = {
		{ "parse_size units", test_parse_size_units },
		{ "parse_size rejects junk", test_parse_size_bad },
		{ "run defaults", test_run_defaults },
		{ "run all options", test_run_all_options },
		{ "run errors", test_run_errors },
		{ "run bad numbers", test_run_bad_numbers },
		{ "run --help", test_run_help },
		{ "kernel command line", test_cmdline_compose },
		{ "--disk specs", test_disk_specs },
		{ "--net specs", test_net_specs },
		{ "run -- CMD options", test_run_command },
		{ "--user and --timeout values", test_user_and_seconds },
		{ "kiln kconfig fragment", test_kconfig },
		{ "--seccomp, --boot-timer, --jail, --uid, --gid, --cgroup",
		  test_hardening_options },
		{ "what --jail binds in", test_jail_plan },
		CU_TEST_INFO_NULL,
	};
	unit_add_suite("config", tests);
}
