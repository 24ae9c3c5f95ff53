// SPDX-License-Identifier: MIT
/* The OCI bundle reader and the runtime's small parsers. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "config.h"
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
		CU_TEST_INFO_NULL,
	};
	unit_add_suite("oci", tests);
}
