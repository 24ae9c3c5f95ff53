// SPDX-License-Identifier: MIT
/* The OCI bundle reader and the runtime's small parsers. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>

#include "bundle.h"
#include "config.h"
#include "netns.h"
#include "oci.h"
#include "unit.h"

static char dir[] = "/tmp/kiln-bundle-XXXXXX";

static void make_bundle_dir(void)
{
	char p[256];
	FILE *f;

	if (dir[strlen(dir) - 1] == 'X')
		CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/rootfs", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/vol", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/hosts", dir);
	f = fopen(p, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("127.0.0.1 localhost\n", f);
	fclose(f);
}

/* Whether cfg's init records hold "key=value" exactly. */
static bool has_rec(const struct vm_config *cfg, const char *rec)
{
	const char *p = cfg->init_extra;

	while (p && p < cfg->init_extra + cfg->init_extra_len) {
		if (!strcmp(p, rec))
			return true;
		p += strlen(p) + 1;
	}
	return false;
}

static int parse(const char *json, struct vm_config *cfg, char *err,
		 size_t errlen)
{
	config_init(cfg);
	return bundle_parse(dir, json, strlen(json), cfg, err, errlen);
}

#define GOOD_HEAD                                                                   \
	"{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"terminal\":true,"             \
	"\"user\":{\"uid\":1000,\"gid\":100,\"additionalGids\":[5,7],"              \
	"\"umask\":18},\"args\":[\"sh\",\"-c\",\"echo hi\"],"                       \
	"\"env\":[\"PATH=/bin\",\"A=b c\"],\"cwd\":\"/work\","                      \
	"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":4096,\"soft\":1024}],"   \
	"\"noNewPrivileges\":true,\"capabilities\":{\"bounding\":[\"CAP_KILL\"]}}," \
	"\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"box\","

static void test_bundle_good(void)
{
	static const char json[] = GOOD_HEAD
		"\"mounts\":["
		"{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
		"{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
		"\"options\":[\"nosuid\",\"mode=755\"]},"
		"{\"destination\":\"/dev/shm\",\"type\":\"bind\",\"source\":\"vol\","
		"\"options\":[\"bind\"]},"
		"{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\","
		"\"source\":\"cgroup\",\"options\":[\"ro\",\"nosuid\"]},"
		"{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
		"\"options\":[\"nosuid\",\"nodev\",\"size=1m\",\"mode=1777\"]},"
		"{\"destination\":\"/data\",\"type\":\"none\",\"source\":\"vol\","
		"\"options\":[\"rbind\",\"ro\"]},"
		"{\"destination\":\"/etc/hosts\",\"type\":\"bind\","
		"\"source\":\"hosts\",\"options\":[\"rbind\",\"rw\"]}],"
		"\"linux\":{\"resources\":{\"memory\":{\"limit\":134217728},"
		"\"cpu\":{\"quota\":150000,\"period\":100000}},"
		"\"namespaces\":[{\"type\":\"pid\"}],\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"}},"
		"\"hooks\":{\"prestart\":[{\"path\":\"/bin/true\"}]},"
		"\"annotations\":{\"kiln.append\":\"loglevel=3\",\"x\":\"y\"}}";
	struct vm_config cfg;
	char err[256] = "", want[300];

	make_bundle_dir();
	CU_ASSERT_EQUAL_FATAL(parse(json, &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.run_argc, 3);
	CU_ASSERT_STRING_EQUAL(cfg.run_argv[2], "echo hi");
	CU_ASSERT_PTR_NULL(cfg.run_argv[3]);
	CU_ASSERT_EQUAL(cfg.nr_env, 2);
	CU_ASSERT_STRING_EQUAL(cfg.env[1], "A=b c");
	CU_ASSERT_STRING_EQUAL(cfg.cwd, "/work");
	CU_ASSERT_EQUAL(cfg.uid, 1000);
	CU_ASSERT_EQUAL(cfg.gid, 100);
	CU_ASSERT_EQUAL(cfg.tty, 1);
	CU_ASSERT_EQUAL(cfg.interactive, 1);
	CU_ASSERT_EQUAL(cfg.rootfs_ro, 1);
	snprintf(want, sizeof(want), "%s/rootfs", dir);
	CU_ASSERT_STRING_EQUAL(cfg.rootfs, want);
	CU_ASSERT_EQUAL(cfg.rootfs_path_len, strlen(want));
	CU_ASSERT_EQUAL(cfg.mem_size, 128ULL << 20);
	CU_ASSERT_EQUAL(cfg.cpus, 2); /* 1.5 CPUs of quota: 2 vCPUs */
	CU_ASSERT_STRING_EQUAL(cfg.append, "loglevel=3");
	/* The directory volume is a share, read-only as asked. */
	CU_ASSERT_EQUAL_FATAL(cfg.nr_shares, 1);
	CU_ASSERT_STRING_EQUAL(cfg.shares[0].guest, "/data");
	CU_ASSERT_EQUAL(cfg.shares[0].ro, 1);
	/* The file is copied, whole. */
	CU_ASSERT_EQUAL_FATAL(cfg.nr_files, 1);
	CU_ASSERT_EQUAL(cfg.files[0].len, 20);
	CU_ASSERT_EQUAL(memcmp(cfg.files[0].data, "127.0.0.1 localhost\n", 20),
			0);
	CU_ASSERT(has_rec(&cfg, "file=0\x1frw\x1f/etc/hosts"));
	CU_ASSERT(has_rec(&cfg, "mount=proc\x1f/proc\x1f"
				"0\x1f"));
	snprintf(want, sizeof(want),
		 "mount=tmpfs\x1f/tmp\x1f%lu\x1fsize=1m,mode=1777",
		 (unsigned long)(MS_NOSUID | MS_NODEV));
	CU_ASSERT(has_rec(&cfg, want));
	/* cgroup v1 asked: the guest kernel's cgroup2. */
	snprintf(want, sizeof(want),
		 "mount=cgroup2\x1f/sys/fs/cgroup\x1f%lu\x1f",
		 (unsigned long)(MS_RDONLY | MS_NOSUID));
	CU_ASSERT(has_rec(&cfg, want));
	/* /dev stays the guest's devtmpfs; /dev/shm its own tmpfs. */
	snprintf(want, sizeof(want), "mount=tmpfs\x1f/dev\x1f%lu\x1fmode=755",
		 (unsigned long)MS_NOSUID);
	CU_ASSERT(!has_rec(&cfg, want));
	snprintf(want, sizeof(want),
		 "mount=tmpfs\x1f/dev/shm\x1f%lu\x1fmode=1777",
		 (unsigned long)(MS_NOSUID | MS_NODEV));
	CU_ASSERT(has_rec(&cfg, want));
	CU_ASSERT(has_rec(&cfg, "group=5"));
	CU_ASSERT(has_rec(&cfg, "group=7"));
	CU_ASSERT(has_rec(&cfg, "umask=18"));
	CU_ASSERT(has_rec(&cfg, "rlimit=NOFILE\x1f"
				"1024\x1f"
				"4096"));
	CU_ASSERT(has_rec(&cfg, "nonewprivs=1"));
	CU_ASSERT(has_rec(&cfg, "hostname=box"));
	CU_ASSERT(has_rec(&cfg, "rootro=1"));
	CU_ASSERT(has_rec(&cfg, "sysctl=net.ipv4.ip_forward\x1f"
				"1"));
	CU_ASSERT(has_rec(&cfg, "oci=1"));
	config_free(&cfg);
}

static void test_bundle_defaults(void)
{
	static const char json[] =
		"{\"ociVersion\":\"1.1.0\",\"process\":{\"args\":[\"true\"],"
		"\"cwd\":\"/\"},\"root\":{\"path\":\"rootfs\"}}";
	struct vm_config cfg;
	char err[256];

	make_bundle_dir();
	CU_ASSERT_EQUAL_FATAL(parse(json, &cfg, err, sizeof(err)), 0);
	/* The caller's default size stays; no user: root. */
	CU_ASSERT_EQUAL(cfg.mem_size, KILN_DEFAULT_MEM);
	CU_ASSERT_EQUAL(cfg.cpus, 1);
	CU_ASSERT_EQUAL(cfg.uid, -1);
	CU_ASSERT_EQUAL(cfg.tty, 0);
	CU_ASSERT_EQUAL(cfg.rootfs_ro, 0);
	CU_ASSERT(!has_rec(&cfg, "rootro=1"));
	config_free(&cfg);
}

static void test_bundle_cpus_and_annotations(void)
{
	static const char json[] =
		"{\"ociVersion\":\"1.0.0\",\"process\":{\"args\":[\"true\"],"
		"\"cwd\":\"/\"},\"root\":{\"path\":\"rootfs\"},"
		"\"linux\":{\"resources\":{\"cpu\":{\"cpus\":\"0-2,5\"},"
		"\"memory\":{\"limit\":-1}}},"
		"\"annotations\":{\"kiln.memory\":\"300M\"}}";
	static const char json2[] =
		"{\"ociVersion\":\"1.0.0\",\"process\":{\"args\":[\"true\"],"
		"\"cwd\":\"/\"},\"root\":{\"path\":\"rootfs\"},"
		"\"linux\":{\"resources\":{\"cpu\":{\"cpus\":\"0-2,5\"}}},"
		"\"annotations\":{\"kiln.cpus\":\"3\"}}";
	struct vm_config cfg;
	char err[256];

	make_bundle_dir();
	CU_ASSERT_EQUAL_FATAL(parse(json, &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.cpus, 4);
	CU_ASSERT_EQUAL(cfg.mem_size, 300ULL << 20);
	config_free(&cfg);
	CU_ASSERT_EQUAL_FATAL(parse(json2, &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.cpus, 3); /* the annotation wins */
	config_free(&cfg);
}

static void bad_case(const char *json, const char *words)
{
	struct vm_config cfg;
	char err[512] = "";

	CU_ASSERT_NOT_EQUAL(parse(json, &cfg, err, sizeof(err)), 0);
	if (!strstr(err, words))
		fprintf(stderr, "\n  error '%s' does not say '%s'\n", err,
			words);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, words));
	config_free(&cfg);
}

#define V "{\"ociVersion\":\"1.0.2\","
#define P "\"process\":{\"args\":[\"true\"],\"cwd\":\"/\"},"
#define R "\"root\":{\"path\":\"rootfs\"}"

static void test_bundle_bad(void)
{
	char big[256];
	FILE *f;

	make_bundle_dir();
	bad_case("{\"ociVersion\": ", "config.json: line 1");
	bad_case("[]", "top level is an array");
	bad_case("{" P R "}", "no ociVersion");
	bad_case("{\"ociVersion\":\"2.0.0\"," P R "}", "ociVersion '2.0.0'");
	bad_case("{\"ociVersion\":\"1.10\"," P R "}", "ociVersion '1.10'");
	bad_case(V R "}", "no process");
	bad_case(V "\"process\":{\"args\":[],\"cwd\":\"/\"}," R "}",
		 "process.args is empty");
	bad_case(V "\"process\":{\"args\":[7],\"cwd\":\"/\"}," R "}",
		 "process.args[0] is a number");
	bad_case(V "\"process\":{\"args\":[\"x\"],\"cwd\":\"rel\"}," R "}",
		 "process.cwd 'rel'");
	bad_case(V "\"process\":{\"args\":[\"x\"],\"cwd\":\"/\","
		   "\"env\":[\"NOEQUALS\"]}," R "}",
		 "process.env[0]");
	bad_case(
		V
		"\"process\":{\"args\":[\"x\"],\"cwd\":\"/\","
		"\"rlimits\":[{\"type\":\"RLIMIT_BOGUS\",\"soft\":1,\"hard\":1}]}," R
		"}",
		"unknown type 'RLIMIT_BOGUS'");
	bad_case(
		V
		"\"process\":{\"args\":[\"x\"],\"cwd\":\"/\","
		"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":9,\"hard\":1}]}," R
		"}",
		"soft at most hard");
	bad_case(V "\"process\":{\"args\":[\"x\"],\"cwd\":\"/\","
		   "\"user\":{\"uid\":-1}}," R "}",
		 "process.user.uid");
	bad_case(V P "\"root\":{\"path\":\"nope\"}}", "root.path '");
	bad_case(V P "\"root\":{\"path\":\"hosts\"}}", "not a directory");
	bad_case(V P "\"root\":{}}", "no root.path");
	bad_case(V P R ",\"mounts\":[{\"destination\":\"/x\",\"type\":\"nfs\","
		       "\"source\":\"h:/e\"}]}",
		 "type 'nfs' cannot be made inside a VM");
	bad_case(V P R ",\"mounts\":[{\"destination\":\"/a/../etc\","
		       "\"type\":\"tmpfs\"}]}",
		 "without '..'");
	bad_case(V P R
		 ",\"mounts\":[{\"destination\":\"rel\",\"type\":\"tmpfs\"}]}",
		 "destination 'rel'");
	bad_case(V P R
		 ",\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\","
		 "\"source\":\"/nonexistent/src\",\"options\":[\"bind\"]}]}",
		 "source '/nonexistent/src'");
	bad_case(V P R ",\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\","
		       "\"source\":\"/dev/null\",\"options\":[\"bind\"]}]}",
		 "devices and sockets cannot be passed");
	bad_case(V P R
		 ",\"linux\":{\"resources\":{\"memory\":{\"limit\":1024}}}}",
		 "");
	bad_case(V P R
		 ",\"linux\":{\"resources\":{\"cpu\":{\"cpus\":\"3-1\"}}}}",
		 "cpu.cpus '3-1'");
	bad_case(V P R ",\"annotations\":{\"kiln.memory\":\"lots\"}}",
		 "kiln.memory 'lots'");
	bad_case(
		V P R
		",\"hostname\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}",
		"longer than 64");
	/* A file bind larger than what is copied into the VM. */
	snprintf(big, sizeof(big), "%s/big", dir);
	f = fopen(big, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(ftruncate(fileno(f), KILN_MAX_FILE_SIZE + 1), 0);
	fclose(f);
	bad_case(V P R
		 ",\"mounts\":[{\"destination\":\"/big\",\"type\":\"bind\","
		 "\"source\":\"big\",\"options\":[\"bind\"]}]}",
		 "bind the directory instead");
	unlink(big);
}

static void test_bundle_load(void)
{
	struct vm_config cfg;
	char err[512] = "";

	config_init(&cfg);
	CU_ASSERT_NOT_EQUAL(
		bundle_load("/nonexistent/bundle", &cfg, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "config.json: No such file"));
	config_free(&cfg);
}

static void test_exec_process(void)
{
	static const char json[] =
		"{\"args\":[\"sh\"],\"cwd\":\"/tmp\",\"terminal\":true,"
		"\"env\":[\"A=1\"],\"user\":{\"uid\":7,\"gid\":8,"
		"\"additionalGids\":[9]}}";
	struct vm_config cfg;
	char err[256] = "";

	config_init(&cfg);
	CU_ASSERT_EQUAL_FATAL(
		bundle_process(json, strlen(json), &cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.run_argc, 1);
	CU_ASSERT_STRING_EQUAL(cfg.cwd, "/tmp");
	CU_ASSERT_EQUAL(cfg.tty, 1);
	CU_ASSERT_EQUAL(cfg.uid, 7);
	CU_ASSERT_EQUAL(cfg.gid, 8);
	CU_ASSERT(has_rec(&cfg, "group=9"));
	config_free(&cfg);
	config_init(&cfg);
	CU_ASSERT_NOT_EQUAL(bundle_process("{\"cwd\":\"/\"}", 11, &cfg, err,
					   sizeof(err)),
			    0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--process: process.args is empty"));
	config_free(&cfg);
}

static void test_default_spec(void)
{
	struct vm_config cfg;
	char err[256] = "";

	make_bundle_dir();
	CU_ASSERT_EQUAL_FATAL(parse(oci_default_spec, &cfg, err, sizeof(err)),
			      0);
	CU_ASSERT_STRING_EQUAL(cfg.run_argv[0], "sh");
	CU_ASSERT_EQUAL(cfg.tty, 1);
	CU_ASSERT_EQUAL(cfg.rootfs_ro, 1);
	CU_ASSERT_EQUAL(cfg.mem_size, 256ULL << 20);
	CU_ASSERT(has_rec(&cfg, "hostname=kiln"));
	config_free(&cfg);
}

static void test_signals(void)
{
	CU_ASSERT_EQUAL(oci_parse_signal("15"), SIGTERM);
	CU_ASSERT_EQUAL(oci_parse_signal("9"), SIGKILL);
	CU_ASSERT_EQUAL(oci_parse_signal("TERM"), SIGTERM);
	CU_ASSERT_EQUAL(oci_parse_signal("SIGKILL"), SIGKILL);
	CU_ASSERT_EQUAL(oci_parse_signal("sigusr1"), SIGUSR1);
	CU_ASSERT_EQUAL(oci_parse_signal("WINCH"), SIGWINCH);
	CU_ASSERT_EQUAL(oci_parse_signal("0"), -1);
	CU_ASSERT_EQUAL(oci_parse_signal("65"), -1);
	CU_ASSERT_EQUAL(oci_parse_signal("15x"), -1);
	CU_ASSERT_EQUAL(oci_parse_signal("SIGNOPE"), -1);
	CU_ASSERT_EQUAL(oci_parse_signal(""), -1);
}

static void test_ids(void)
{
	CU_ASSERT(oci_id_ok("c1"));
	CU_ASSERT(oci_id_ok("0123abcdef-x_y.z+1"));
	CU_ASSERT(!oci_id_ok(""));
	CU_ASSERT(!oci_id_ok("."));
	CU_ASSERT(!oci_id_ok(".."));
	CU_ASSERT(!oci_id_ok("a/b"));
	CU_ASSERT(!oci_id_ok("a b"));
	CU_ASSERT(oci_is_command("create"));
	CU_ASSERT(oci_is_command("--root"));
	CU_ASSERT(oci_is_command("--log-format=json"));
	CU_ASSERT(!oci_is_command("run"));
	CU_ASSERT(!oci_is_command("--rootx"));
}

/* linux.namespaces: a network namespace's path is the network to join;
 * one without a path, or other kinds, are the VM's own. */
/* A minimal bundle whose linux.namespaces is ns (JSON), parsed. */
static int parse_ns(const char *ns, struct vm_config *cfg, char *err,
		    size_t errlen)
{
	char json[1024];

	snprintf(json, sizeof(json),
		 "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"],"
		 "\"cwd\":\"/\"},\"root\":{\"path\":\"rootfs\"},"
		 "\"linux\":{\"namespaces\":%s}}",
		 ns);
	return parse(json, cfg, err, errlen);
}

static void test_bundle_netns(void)
{
	struct vm_config cfg;
	char err[256] = "";

	make_bundle_dir();
	CU_ASSERT_EQUAL_FATAL(
		parse_ns("[{\"type\":\"pid\"},{\"type\":\"network\","
			 "\"path\":\"/run/netns/cni-1\"},{\"type\":\"mount\"}]",
			 &cfg, err, sizeof(err)),
		0);
	CU_ASSERT_STRING_EQUAL(cfg.netns, "/run/netns/cni-1");
	config_free(&cfg);
	CU_ASSERT_EQUAL_FATAL(parse_ns("[{\"type\":\"network\"}]", &cfg, err,
				       sizeof(err)),
			      0);
	CU_ASSERT_PTR_NULL(cfg.netns);
	config_free(&cfg);
	CU_ASSERT_NOT_EQUAL(
		parse_ns("[{\"type\":\"network\",\"path\":\"netns/x\"}]", &cfg,
			 err, sizeof(err)),
		0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "absolute path"));
	config_free(&cfg);
	CU_ASSERT_NOT_EQUAL(
		parse_ns("{\"type\":\"network\"}", &cfg, err, sizeof(err)), 0);
	config_free(&cfg);
	CU_ASSERT_NOT_EQUAL(
		parse_ns("[{\"path\":\"/x\"}]", &cfg, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "type"));
	config_free(&cfg);
}

static void test_netns_route(void)
{
	static const char routes[] =
		"Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
		"eth0\t0058000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
		"eth1\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
		"eth0\t00000000\t0100580A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";
	uint32_t gw = 0;
	char a[INET_ADDRSTRLEN];

	CU_ASSERT_EQUAL(netns_route_gateway(routes, "eth0", &gw), 1);
	inet_ntop(AF_INET, &gw, a, sizeof(a));
	CU_ASSERT_STRING_EQUAL(a, "10.88.0.1");
	CU_ASSERT_EQUAL(netns_route_gateway(routes, "eth1", &gw), 1);
	inet_ntop(AF_INET, &gw, a, sizeof(a));
	CU_ASSERT_STRING_EQUAL(a, "192.168.1.1");
	CU_ASSERT_EQUAL(netns_route_gateway(routes, "eth2", &gw), 0);
	/* A subnet route alone, or text that is not a table: none. */
	CU_ASSERT_EQUAL(
		netns_route_gateway(
			"eth0\t0058000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\n",
			"eth0", &gw),
		0);
	CU_ASSERT_EQUAL(netns_route_gateway("eth0 zz", "eth0", &gw), 0);
	CU_ASSERT_EQUAL(netns_route_gateway("", "eth0", &gw), 0);
}

static void test_netns_record(void)
{
	struct netns_link l = { .mac = { 0x0a, 0x58, 0x0a, 0x58, 0x00, 0x05 },
				.prefix = 16,
				.mtu = 1500 };
	char rec[128];

	inet_pton(AF_INET, "10.88.0.5", &l.addr);
	inet_pton(AF_INET, "10.88.0.1", &l.gateway);
	CU_ASSERT(netns_record(&l, rec, sizeof(rec)) > 0);
	CU_ASSERT_STRING_EQUAL(rec, "0a:58:0a:58:00:05\x1f"
				    "10.88.0.5/16\x1f"
				    "10.88.0.1\x1f"
				    "1500");
	l.gateway = 0;
	CU_ASSERT(netns_record(&l, rec, sizeof(rec)) > 0);
	CU_ASSERT_STRING_EQUAL(rec, "0a:58:0a:58:00:05\x1f"
				    "10.88.0.5/16\x1f\x1f"
				    "1500");
	CU_ASSERT_EQUAL(netns_record(&l, rec, 10), -1);
}

/* The attribute of type t inside [p, p+len), or NULL. */
static const struct nlattr *attr(const void *p, size_t len, unsigned short t)
{
	const char *c = p;

	while (len >= NLA_HDRLEN) {
		const struct nlattr *a = (const struct nlattr *)c;

		if (a->nla_len < NLA_HDRLEN || a->nla_len > len)
			return NULL;
		if ((a->nla_type & NLA_TYPE_MASK) == t)
			return a;
		if ((size_t)NLA_ALIGN(a->nla_len) >= len)
			break;
		len -= NLA_ALIGN(a->nla_len);
		c += NLA_ALIGN(a->nla_len);
	}
	return NULL;
}

#define IN(a) ((const char *)(a) + NLA_HDRLEN), ((a)->nla_len - NLA_HDRLEN)

static void test_netns_messages(void)
{
	char buf[512];
	const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
	const struct tcmsg *t = NLMSG_DATA(h);
	const struct nlattr *a, *o, *acts, *act, *ao, *p;
	const char *attrs = buf + NLMSG_SPACE(sizeof(struct tcmsg));
	size_t n = netns_msg_ingress(buf, sizeof(buf), 7, 42, false), alen;
	struct tc_mirred m;

	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL(h->nlmsg_len, n);
	CU_ASSERT_EQUAL(h->nlmsg_type, RTM_NEWQDISC);
	CU_ASSERT_EQUAL(h->nlmsg_seq, 42);
	CU_ASSERT(h->nlmsg_flags & NLM_F_ACK);
	CU_ASSERT(h->nlmsg_flags & NLM_F_CREATE);
	CU_ASSERT_EQUAL(t->tcm_ifindex, 7);
	CU_ASSERT_EQUAL(t->tcm_parent, TC_H_INGRESS);
	CU_ASSERT_EQUAL(t->tcm_handle, 0xffff0000u);
	a = attr(attrs, n - NLMSG_SPACE(sizeof(*t)), TCA_KIND);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_STRING_EQUAL((const char *)a + NLA_HDRLEN, "ingress");

	/* Its removal: the same qdisc, no create flags. */
	n = netns_msg_ingress(buf, sizeof(buf), 7, 45, true);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL(h->nlmsg_type, RTM_DELQDISC);
	CU_ASSERT_FALSE(h->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL));
	CU_ASSERT(h->nlmsg_flags & NLM_F_ACK);
	CU_ASSERT_EQUAL(t->tcm_ifindex, 7);
	CU_ASSERT_EQUAL(t->tcm_parent, TC_H_INGRESS);

	n = netns_msg_redirect(buf, sizeof(buf), 7, 9, 43);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL(h->nlmsg_len, n);
	CU_ASSERT_EQUAL(h->nlmsg_type, RTM_NEWTFILTER);
	CU_ASSERT_EQUAL(t->tcm_ifindex, 7);
	CU_ASSERT_EQUAL(t->tcm_parent, 0xffff0000u);
	CU_ASSERT_EQUAL(TC_H_MIN(t->tcm_info), htons(ETH_P_ALL));
	CU_ASSERT_EQUAL(TC_H_MAJ(t->tcm_info) >> 16, 1);
	alen = n - NLMSG_SPACE(sizeof(*t));
	a = attr(attrs, alen, TCA_KIND);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_STRING_EQUAL((const char *)a + NLA_HDRLEN, "matchall");
	o = attr(attrs, alen, TCA_OPTIONS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	/* The nests end where the message ends. */
	CU_ASSERT_EQUAL((const char *)o + o->nla_len, buf + n);
	acts = attr(IN(o), TCA_MATCHALL_ACT);
	CU_ASSERT_PTR_NOT_NULL_FATAL(acts);
	act = attr(IN(acts), 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(act);
	a = attr(IN(act), TCA_ACT_KIND);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_STRING_EQUAL((const char *)a + NLA_HDRLEN, "mirred");
	ao = attr(IN(act), TCA_ACT_OPTIONS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ao);
	p = attr(IN(ao), TCA_MIRRED_PARMS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL_FATAL(p->nla_len, NLA_HDRLEN + sizeof(m));
	memcpy(&m, (const char *)p + NLA_HDRLEN, sizeof(m));
	CU_ASSERT_EQUAL(m.ifindex, 9);
	CU_ASSERT_EQUAL(m.eaction, TCA_EGRESS_REDIR);
	CU_ASSERT_EQUAL(m.action, TC_ACT_STOLEN);
	/* Too small a buffer: nothing, never a cut message. */
	CU_ASSERT_EQUAL(netns_msg_redirect(buf, 60, 7, 9, 44), 0);
	CU_ASSERT_EQUAL(netns_msg_ingress(buf, 20, 7, 44, false), 0);
}

void suite_oci(void)
{
	static const CU_TestInfo tests[] = {
		{ "a full bundle", test_bundle_good },
		{ "a bundle's defaults", test_bundle_defaults },
		{ "vCPUs and memory from resources and annotations",
		  test_bundle_cpus_and_annotations },
		{ "bad bundles: one line that says what", test_bundle_bad },
		{ "a missing bundle", test_bundle_load },
		{ "exec's process object", test_exec_process },
		{ "kiln spec's config.json is a bundle kiln takes",
		  test_default_spec },
		{ "signal names and numbers", test_signals },
		{ "container ids and command words", test_ids },
		{ "a network namespace to join", test_bundle_netns },
		{ "the namespace's default route", test_netns_route },
		{ "the guest's network record", test_netns_record },
		{ "netlink: ingress qdisc, matchall redirect",
		  test_netns_messages },
		CU_TEST_INFO_NULL,
	};
	unit_add_suite("oci", tests);
}
