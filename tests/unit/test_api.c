// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "metrics_file.h"
#include "cli.h"
#include "config_json.h"
#include "log.h"
#include "unit.h"

static struct vm_config cfg;

static int file(const char *text, char *err)
{
	config_free(&cfg);
	config_init(&cfg);
	return cfgjson_file(&cfg, text, strlen(text), err, 300);
}

#define BOOT "\"boot-source\": {\"kernel_image_path\": \"/k\"}"

static void test_file_every_field(void)
{
	char err[300];

	CU_ASSERT_EQUAL_FATAL(
		file("{\"boot-source\": {\"kernel_image_path\": \"/k\", "
		     "\"boot_args\": \"console=ttyS0 reboot=k\", "
		     "\"initrd_path\": \"/i\", \"kernel_cache\": false},"
		     "\"machine-config\": {\"vcpu_count\": 2, \"mem_size_mib\": 512,"
		     " \"smt\": false, \"track_dirty_pages\": true,"
		     " \"cpu_template\": \"None\", \"huge_pages\": \"None\"},"
		     "\"drives\": [{\"drive_id\": \"rootfs\", \"path_on_host\": \"/r\","
		     " \"is_root_device\": true, \"is_read_only\": true,"
		     " \"cache_type\": \"Unsafe\", \"io_engine\": \"Sync\","
		     " \"rate_limiter\": null},"
		     " {\"drive_id\": \"data\", \"path_on_host\": \"/d\","
		     " \"is_root_device\": false, \"rate_limiter\": {\"bandwidth\":"
		     " {\"size\": 1048576, \"one_time_burst\": 4096, \"refill_time\": 1000},"
		     " \"ops\": {\"size\": 100, \"refill_time\": 500}}}],"
		     "\"network-interfaces\": [{\"iface_id\": \"eth0\","
		     " \"host_dev_name\": \"tap0\", \"guest_mac\": \"06:00:AC:10:00:02\"},"
		     " {\"iface_id\": \"u\", \"user_net\": true,"
		     " \"port_forwards\": [\"tcp:8080:80\"]}],"
		     "\"logger\": {\"log_path\": \"/l\", \"level\": \"Debug\","
		     " \"show_level\": true, \"show_log_origin\": false},"
		     "\"entropy\": {}}",
		     err),
		0);
	CU_ASSERT_STRING_EQUAL(cfg.kernel, "/k");
	CU_ASSERT_STRING_EQUAL(cfg.cmdline, "console=ttyS0 reboot=k");
	CU_ASSERT_STRING_EQUAL(cfg.initrd, "/i");
	CU_ASSERT_TRUE(cfg.no_kernel_cache);
	CU_ASSERT_EQUAL(cfg.cpus, 2);
	CU_ASSERT_EQUAL(cfg.mem_size, 512ULL << 20);
	CU_ASSERT_TRUE(cfg.track_dirty_pages);
	CU_ASSERT_EQUAL_FATAL(cfg.nr_disks, 2);
	CU_ASSERT_STRING_EQUAL(cfg.disks[0].id, "rootfs");
	CU_ASSERT_STRING_EQUAL(cfg.disks[0].path, "/r");
	CU_ASSERT_TRUE(cfg.disks[0].root);
	CU_ASSERT_TRUE(cfg.disks[0].ro);
	CU_ASSERT_FALSE(cfg.disks[1].root);
	CU_ASSERT_FALSE(cfg.disks[1].ro);
	CU_ASSERT_EQUAL(cfg.disks[0].rl.bw.size, 0);
	CU_ASSERT_EQUAL(cfg.disks[1].rl.bw.size, 1048576);
	CU_ASSERT_EQUAL(cfg.disks[1].rl.bw.one_time_burst, 4096);
	CU_ASSERT_EQUAL(cfg.disks[1].rl.bw.refill_ms, 1000);
	CU_ASSERT_EQUAL(cfg.disks[1].rl.ops.size, 100);
	CU_ASSERT_EQUAL(cfg.disks[1].rl.ops.refill_ms, 500);
	CU_ASSERT_EQUAL_FATAL(cfg.nr_nics, 2);
	CU_ASSERT_STRING_EQUAL(cfg.nics[0].ifname, "tap0");
	CU_ASSERT_STRING_EQUAL(cfg.nics[0].id, "eth0");
	CU_ASSERT_TRUE(cfg.nics[0].has_mac);
	CU_ASSERT_EQUAL(cfg.nics[0].mac[5], 2);
	CU_ASSERT_TRUE(cfg.nics[1].user);
	CU_ASSERT_STRING_EQUAL(cfg.nics[1].fwds, "8080:80");
	CU_ASSERT_STRING_EQUAL(cfg.log_path, "/l");
	CU_ASSERT_EQUAL(cfg.log_level, LOG_DEBUG + 2);
}

/* The dump reads back as the same configuration. */
static void test_file_round_trip(void)
{
	char err[300], *a, *b;

	CU_ASSERT_EQUAL_FATAL(
		file("{" BOOT ", \"machine-config\": {\"vcpu_count\": 3,"
		     " \"mem_size_mib\": 300}, \"drives\": [{\"drive_id\": \"r\","
		     " \"path_on_host\": \"/r\", \"is_root_device\": true,"
		     " \"partuuid\": \"abcd-01\", \"rate_limiter\": {\"ops\":"
		     " {\"size\": 10, \"refill_time\": 100}}}],"
		     " \"network-interfaces\": [{\"iface_id\": \"eth0\","
		     " \"host_dev_name\": \"tap0\", \"tx_rate_limiter\":"
		     " {\"bandwidth\": {\"size\": 1000, \"one_time_burst\": 5,"
		     " \"refill_time\": 10}}}],"
		     " \"vsock\": {\"guest_cid\": 9, \"uds_path\": \"/v.sock\","
		     " \"vsock_id\": \"v\"}}",
		     err),
		0);
	a = cfgjson_dump(&cfg, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL_FATAL(file(a, err), 0);
	b = cfgjson_dump(&cfg, true);
	CU_ASSERT_STRING_EQUAL(a, b);
	CU_ASSERT_STRING_EQUAL(cfg.disks[0].partuuid, "abcd-01");
	CU_ASSERT_EQUAL(cfg.disks[0].rl.ops.size, 10);
	CU_ASSERT_PTR_NOT_NULL(strstr(a, "\"rate_limiter\""));
	CU_ASSERT_EQUAL(cfg.nics[0].tx_rl.bw.size, 1000);
	CU_ASSERT_EQUAL(cfg.nics[0].tx_rl.bw.one_time_burst, 5);
	CU_ASSERT_EQUAL(cfg.nics[0].rx_rl.bw.size, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(a, "\"tx_rate_limiter\""));
	CU_ASSERT_PTR_NULL(strstr(a, "\"rx_rate_limiter\""));
	CU_ASSERT_EQUAL(cfg.vsock_cid, 9);
	CU_ASSERT_STRING_EQUAL(cfg.vsock_uds, "/v.sock");
	free(a);
	free(b);
}

struct bad {
	const char *text, *want;
};

/* Each file is refused with a message that starts as want says. */
static void expect_errors(const struct bad *bad, size_t n)
{
	char err[300];
	size_t i;

	for (i = 0; i < n; i++) {
		err[0] = 0;
		CU_ASSERT_NOT_EQUAL(file(bad[i].text, err), 0);
		if (strncmp(err, bad[i].want, strlen(bad[i].want))) {
			fprintf(stderr, "\n%s\n  got  '%s'\n  want '%s'\n",
				bad[i].text, err, bad[i].want);
			CU_FAIL("wrong message");
		}
	}
}

static void test_file_errors(void)
{
	static const struct bad bad[] = {
		{ "[]", "the configuration: expected an object, got an array" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"/k\"}, \"vsocks\": {}}",
		  "the configuration: unknown key 'vsocks'" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"/k\"}, \"vsock\": {}}",
		  "vsock: guest_cid is missing" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"/k\"}, \"vsock\": {\"guest_cid\": 2, \"uds_path\": \"/v\"}}",
		  "vsock guest CID 2: give one from 3" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"/k\"}, \"vsock\": {\"guest_cid\": 3, \"uds_path\": \"\"}}",
		  "vsock socket path '': give a path of 1 to 96" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"/k\"}, \"vsock\": {\"guest_cid\": 3, \"uds_path\": \"/v\", \"x\": 1}}",
		  "vsock: unknown key 'x'" },
		{ "{}", "the configuration: boot-source is missing" },
		{ "{\"boot-source\": {\"kernel_image_path\": 7}}",
		  "boot-source: kernel_image_path: expected a string, got a number" },
		{ "{\"boot-source\": {\"kernel_image_path\": null}}",
		  "boot-source: kernel_image_path is missing" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"/k\", \"x\": 1}}",
		  "boot-source: unknown key 'x'" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"/k\", \"kernel_cache\": \"off\"}}",
		  "boot-source: kernel_cache: expected true or false, got a string" },
		{ "{" BOOT ", \"machine-config\": {\"vcpu_count\": \"2\"}}",
		  "machine-config: vcpu_count: expected a whole number, got a string" },
		{ "{" BOOT ", \"machine-config\": {\"vcpu_count\": 1.5}}",
		  "machine-config: vcpu_count: expected a whole number, got a number" },
		{ "{" BOOT
		  ", \"machine-config\": {\"mem_size_mib\": 99999999999}}",
		  "machine-config: mem_size_mib: 99999999999 is too large" },
		{ "{" BOOT ", \"machine-config\": {\"smt\": 1}}",
		  "machine-config: smt: expected true or false, got a number" },
		{ "{" BOOT ", \"machine-config\": {\"smt\": true}}",
		  "machine-config: smt: kiln gives each vCPU its own core" },
		{ "{" BOOT ", \"machine-config\": {\"cpu_template\": \"T2\"}}",
		  "machine-config: cpu_template 'T2' is not supported" },
		{ "{" BOOT ", \"drives\": {}}",
		  "the configuration: drives: expected an array, got an object" },
		{ "{" BOOT
		  ", \"drives\": [{\"drive_id\": \"a\", \"path_on_host\": \"/a\"}]}",
		  "drives: is_root_device is missing" },
		{ "{" BOOT
		  ", \"drives\": [{\"drive_id\": \"a b\", \"path_on_host\": \"/a\", \"is_root_device\": false}]}",
		  "drives: drive_id 'a b': give 1 to 20" },
		{ "{" BOOT
		  ", \"drives\": [{\"drive_id\": \"a\", \"path_on_host\": \"/a\", \"is_root_device\": false, \"rate_limiter\": {\"bandwidth\": {\"size\": 0, \"refill_time\": 100}}}]}",
		  "drives: rate_limiter: bandwidth: size and refill_time must be above 0" },
		{ "{" BOOT
		  ", \"drives\": [{\"drive_id\": \"a\", \"path_on_host\": \"/a\", \"is_root_device\": false, \"rate_limiter\": {\"ops\": {\"size\": 5}}}]}",
		  "drives: rate_limiter: ops: refill_time is missing" },
		{ "{" BOOT
		  ", \"drives\": [{\"drive_id\": \"a\", \"path_on_host\": \"/a\", \"is_root_device\": false, \"rate_limiter\": {\"iops\": {}}}]}",
		  "drives: rate_limiter: unknown key 'iops'" },
		{ "{" BOOT
		  ", \"drives\": [{\"drive_id\": \"a\", \"path_on_host\": \"/a\", \"is_root_device\": false},"
		  " {\"drive_id\": \"a\", \"path_on_host\": \"/b\", \"is_root_device\": false}]}",
		  "drives: two drives are called 'a'" },
		{ "{" BOOT
		  ", \"drives\": [{\"drive_id\": \"a\", \"path_on_host\": \"/a\", \"is_root_device\": false, \"cache_type\": \"Fast\"}]}",
		  "drives: cache_type 'Fast' is not supported" },
		{ "{" BOOT ", \"network-interfaces\": [{\"iface_id\": \"e\"}]}",
		  "network-interfaces: host_dev_name is missing" },
		{ "{" BOOT
		  ", \"network-interfaces\": [{\"iface_id\": \"e\", \"host_dev_name\": \"tap0\", \"guest_mac\": \"zz\"}]}",
		  "network-interfaces: --net 'tap=tap0,mac=zz': mac= wants a unicast address" },
		{ "{" BOOT
		  ", \"network-interfaces\": [{\"iface_id\": \"e\", \"host_dev_name\": \"tap0\", \"port_forwards\": []}]}",
		  "network-interfaces: port_forwards: give an array" },
		{ "{" BOOT ", \"logger\": {\"level\": \"Loud\"}}",
		  "logger: level 'Loud': give Off, Error" },
		{ "{" BOOT
		  ", \"entropy\": {\"rate_limiter\": {\"bandwidth\": {}}}}",
		  "entropy: rate_limiter: rate limiters are not supported yet" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"/k\"",
		  "not valid JSON: line 1, column " },
	};
	expect_errors(bad, sizeof(bad) / sizeof(bad[0]));
}

/* kiln's own "run": a command, its root, shares and the rest. */
static void test_file_run(void)
{
	char err[300], *a, *b;

	CU_ASSERT_EQUAL_FATAL(
		file("{" BOOT
		     ", \"run\": {\"command\": [\"sh\", \"-c\", \"exit 7\"],"
		     " \"rootfs\": \"/srv/root\", \"rootfs_read_only\": true,"
		     " \"shares\": [\"/data:/mnt/data,ro\"], \"env\": [\"A=1\"],"
		     " \"cwd\": \"/tmp\", \"user\": \"1000:100\", \"timeout_s\": 30,"
		     " \"interactive\": true, \"console_log\": \"/l\"}}",
		     err),
		0);
	CU_ASSERT_EQUAL_FATAL(cfg.run_argc, 3);
	CU_ASSERT_STRING_EQUAL(cfg.run_argv[2], "exit 7");
	CU_ASSERT_PTR_NULL(cfg.run_argv[3]);
	CU_ASSERT_STRING_EQUAL(cfg.rootfs, "/srv/root");
	CU_ASSERT_TRUE(cfg.rootfs_ro);
	CU_ASSERT_EQUAL(cfg.rootfs_path_len, 9);
	CU_ASSERT_EQUAL_FATAL(cfg.nr_shares, 1);
	CU_ASSERT_STRING_EQUAL(cfg.shares[0].host, "/data");
	CU_ASSERT_STRING_EQUAL(cfg.shares[0].guest, "/mnt/data");
	CU_ASSERT_TRUE(cfg.shares[0].ro);
	CU_ASSERT_EQUAL(cfg.nr_env, 1);
	CU_ASSERT_STRING_EQUAL(cfg.cwd, "/tmp");
	CU_ASSERT_EQUAL(cfg.uid, 1000);
	CU_ASSERT_EQUAL(cfg.gid, 100);
	CU_ASSERT_EQUAL(cfg.timeout, 30);
	CU_ASSERT_TRUE(cfg.interactive);
	CU_ASSERT_STRING_EQUAL(cfg.console_log, "/l");
	a = cfgjson_dump(&cfg, false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL_FATAL(file(a, err), 0);
	b = cfgjson_dump(&cfg, false);
	CU_ASSERT_STRING_EQUAL(a, b);
	free(a);
	free(b);
	/* A root device and a command: one root only. */
	CU_ASSERT_NOT_EQUAL(
		file("{" BOOT
		     ", \"drives\": [{\"drive_id\": \"r\", \"path_on_host\": \"/r\","
		     " \"is_root_device\": true}], \"run\": {\"command\": [\"true\"]}}",
		     err),
		0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "a root device and a command"));
}

static void test_file_run_errors(void)
{
	static const struct bad bad[] = {
		{ "{" BOOT ", \"run\": {}}", "run: command is missing" },
		{ "{" BOOT ", \"run\": {\"command\": []}}",
		  "run: command is missing" },
		{ "{" BOOT ", \"run\": {\"command\": \"ls\"}}",
		  "run: command: expected an array of strings, got a string" },
		{ "{" BOOT ", \"run\": {\"command\": [\"ls\", 1]}}",
		  "run: command: expected a string, got a number" },
		{ "{" BOOT
		  ", \"run\": {\"command\": [\"ls\"], \"env\": [\"A\"]}}",
		  "run: env 'A': write it as NAME=VALUE" },
		{ "{" BOOT
		  ", \"run\": {\"command\": [\"ls\"], \"cwd\": \"tmp\"}}",
		  "run: cwd 'tmp': give an absolute path" },
		{ "{" BOOT
		  ", \"run\": {\"command\": [\"ls\"], \"shares\": [\"/a:rel\"]}}",
		  "run: shares: --share" },
		{ "{" BOOT
		  ", \"run\": {\"command\": [\"ls\"], \"user\": \"root\"}}",
		  "run: user 'root': give UID or UID:GID" },
		{ "{" BOOT ", \"run\": {\"command\": [\"ls\"], \"tty\": true}}",
		  "run: unknown key 'tty'" },
	};
	expect_errors(bad, sizeof(bad) / sizeof(bad[0]));
}

/* PUT replaces by id; a failed PUT changes nothing. */
static void test_drive_replace(void)
{
	struct json_doc doc = { 0 };
	char err[300];
	const char *good = "{\"drive_id\": \"r\", \"path_on_host\": \"/new\", "
			   "\"is_root_device\": false}";
	const char *bad = "{\"drive_id\": \"r\", \"path_on_host\": \"/x\", "
			  "\"is_root_device\": \"no\"}";

	CU_ASSERT_EQUAL_FATAL(
		file("{" BOOT
		     ", \"drives\": [{\"drive_id\": \"r\", \"path_on_host\": \"/old\", \"is_root_device\": true}]}",
		     err),
		0);
	CU_ASSERT_EQUAL_FATAL(json_parse(good, strlen(good), &doc, err, 300),
			      0);
	CU_ASSERT_EQUAL(cfgjson_drive(&cfg, json_root(&doc), "r", err, 300), 0);
	CU_ASSERT_EQUAL(cfg.nr_disks, 1);
	CU_ASSERT_STRING_EQUAL(cfg.disks[0].path, "/new");
	CU_ASSERT_FALSE(cfg.disks[0].root);
	/* The path's id must be the body's. */
	CU_ASSERT_EQUAL(cfgjson_drive(&cfg, json_root(&doc), "q", err, 300),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(
		err, "drives: drive_id 'r' does not match the path's 'q'");
	json_free(&doc);
	CU_ASSERT_EQUAL_FATAL(json_parse(bad, strlen(bad), &doc, err, 300), 0);
	CU_ASSERT_EQUAL(cfgjson_drive(&cfg, json_root(&doc), "r", err, 300),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(cfg.disks[0].path, "/new");
	json_free(&doc);
}

static int req(struct api *a, const char *m, const char *path, const char *body,
	       char **resp)
{
	free(*resp);
	*resp = NULL;
	return api_handle(a, m, path, body, body ? strlen(body) : 0, resp);
}

/* The same mistake reads the same from the command line, a file, the API. */
static void test_same_message(void)
{
	struct vm_config c;
	char *argv[] = { "--cpus", "0" }, *argv2[] = { "--mem", "8M" };
	char cli[256], ferr[300], *resp = NULL;
	struct api *a;
	const char *msg;

	CU_ASSERT_EQUAL(config_parse_run(&c, 2, argv, cli, sizeof(cli)),
			CONFIG_ERROR);
	config_free(&c);
	CU_ASSERT_NOT_EQUAL(
		file("{" BOOT
		     ", \"machine-config\": {\"vcpu_count\": 0, \"mem_size_mib\": 128}}",
		     ferr),
		0);
	config_init(&c);
	a = api_new(NULL, &c, NULL);
	CU_ASSERT_EQUAL(req(a, "PUT", "/machine-config",
			    "{\"vcpu_count\": 0, \"mem_size_mib\": 128}",
			    &resp),
			400);
	msg = "0 vCPUs: give a number from 1 to 254";
	CU_ASSERT_STRING_EQUAL(ferr, msg);
	CU_ASSERT_PTR_NOT_NULL(strstr(cli, msg));
	CU_ASSERT_STRING_EQUAL(
		cli, "--cpus '0': 0 vCPUs: give a number from 1 to 254");
	CU_ASSERT_PTR_NOT_NULL(resp && strstr(resp, msg));

	CU_ASSERT_EQUAL(config_parse_run(&c, 2, argv2, cli, sizeof(cli)),
			CONFIG_ERROR);
	config_free(&c);
	config_init(&c);
	CU_ASSERT_EQUAL(req(a, "PUT", "/machine-config",
			    "{\"vcpu_count\": 1, \"mem_size_mib\": 8}", &resp),
			400);
	msg = "8 MiB of memory: give between 16 MiB (16M) and 1 TiB (1T)";
	CU_ASSERT_PTR_NOT_NULL(strstr(cli, msg));
	CU_ASSERT_PTR_NOT_NULL(resp && strstr(resp, msg));
	free(resp);
	api_free(a);
	config_free(&c);
}

static void test_api_requests(void)
{
	struct vm_config c;
	struct session s;
	struct vm *vm;
	struct api *a;
	char *r = NULL;

	config_init(&c);
	memset(&s, 0, sizeof(s));
	metrics_init(&s.metrics);
	a = api_new(&s, &c, "vm-1");
	api_forbid_start(a);
	CU_ASSERT_EQUAL(req(a, "GET", "/", NULL, &r), 200);
	CU_ASSERT_STRING_EQUAL(
		r,
		"{\"id\":\"vm-1\",\"state\":\"Not started\",\"vmm_version\":\"" KILN_VERSION
		"\",\"app_name\":\"kiln\"}");
	/* InstanceStart with no boot source. */
	CU_ASSERT_EQUAL(req(a, "PUT", "/actions",
			    "{\"action_type\": \"InstanceStart\"}", &r),
			400);
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "fault_message"));
	CU_ASSERT_EQUAL(req(a, "PUT", "/machine-config",
			    "{\"vcpu_count\": 2, \"mem_size_mib\": 256}", &r),
			204);
	CU_ASSERT_PTR_NULL(r);
	CU_ASSERT_EQUAL(req(a, "PATCH", "/machine-config",
			    "{\"vcpu_count\": 4}", &r),
			204);
	CU_ASSERT_EQUAL(req(a, "PUT", "/machine-config", "{\"vcpu_count\": 4}",
			    &r),
			400);
	CU_ASSERT_STRING_EQUAL(
		r,
		"{\"fault_message\":\"machine-config: mem_size_mib is missing: give it\"}");
	CU_ASSERT_EQUAL(req(a, "GET", "/machine-config", NULL, &r), 200);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(r, "\"vcpu_count\":4,\"mem_size_mib\":256"));
	CU_ASSERT_EQUAL(req(a, "PUT", "/boot-source",
			    "{\"kernel_image_path\": \"/k\"}", &r),
			204);
	CU_ASSERT_EQUAL(
		req(a, "PUT", "/drives/root",
		    "{\"drive_id\": \"root\", \"path_on_host\": \"/r\", \"is_root_device\": true}",
		    &r),
		204);
	CU_ASSERT_EQUAL(
		req(a, "PUT", "/network-interfaces/eth0",
		    "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\"}",
		    &r),
		204);
	CU_ASSERT_EQUAL(
		req(a, "PUT", "/logger", "{\"level\": \"Warning\"}", &r), 204);
	CU_ASSERT_EQUAL(req(a, "PUT", "/entropy", "{}", &r), 204);
	CU_ASSERT_EQUAL(req(a, "PUT", "/run", "{\"command\": [\"true\"]}", &r),
			204);
	CU_ASSERT_EQUAL(req(a, "GET", "/vm/config", NULL, &r), 200);
	CU_ASSERT_PTR_NOT_NULL(r && strstr(r, "\"path_on_host\":\"/r\""));
	CU_ASSERT_PTR_NOT_NULL(r && strstr(r, "\"host_dev_name\":\"tap0\""));
	/* PATCH a drive before the start: the configuration's path. */
	CU_ASSERT_EQUAL(
		req(a, "PATCH", "/drives/root",
		    "{\"drive_id\": \"root\", \"path_on_host\": \"/r2\"}", &r),
		204);
	CU_ASSERT_EQUAL(
		req(a, "PATCH", "/drives/nope",
		    "{\"drive_id\": \"nope\", \"path_on_host\": \"/x\"}", &r),
		400);
	CU_ASSERT_STRING_EQUAL(
		r,
		"{\"fault_message\":\"drives: no drive 'nope': PUT it first\"}");
	CU_ASSERT_EQUAL(req(a, "PATCH", "/drives/root",
			    "{\"drive_id\": \"x\", \"path_on_host\": \"/x\"}",
			    &r),
			400);
	CU_ASSERT_EQUAL(req(a, "PATCH", "/drives/root",
			    "{\"drive_id\": \"root\", \"is_read_only\": true}",
			    &r),
			400);
	CU_ASSERT_EQUAL(req(a, "GET", "/vm/config", NULL, &r), 200);
	CU_ASSERT_PTR_NOT_NULL(r && strstr(r, "\"path_on_host\":\"/r2\""));
	/* Bad requests: each answered, none fatal. */
	CU_ASSERT_EQUAL(req(a, "GET", "/nope", NULL, &r), 400);
	CU_ASSERT_STRING_EQUAL(
		r,
		"{\"fault_message\":\"invalid request method and/or path: GET /nope\"}");
	CU_ASSERT_EQUAL(req(a, "DELETE", "/", NULL, &r), 400);
	CU_ASSERT_EQUAL(req(a, "GET", "/actions", NULL, &r), 400);
	CU_ASSERT_EQUAL(req(a, "PUT", "/drives/", "{}", &r), 400);
	CU_ASSERT_EQUAL(req(a, "PUT", "/drives/a/b", "{}", &r), 400);
	CU_ASSERT_EQUAL(req(a, "PUT", "/boot-source", "{", &r), 400);
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "not valid JSON"));
	CU_ASSERT_EQUAL(req(a, "PUT", "/boot-source", NULL, &r), 400);
	CU_ASSERT_EQUAL(req(a, "PUT", "/boot-source", "[1]", &r), 400);
	CU_ASSERT_STRING_EQUAL(
		r,
		"{\"fault_message\":\"the body is an array: give an object\"}");
	CU_ASSERT_EQUAL(req(a, "PATCH", "/vm", "{\"state\": \"Paused\"}", &r),
			400);
	CU_ASSERT_STRING_EQUAL(
		r,
		"{\"fault_message\":\"cannot pause a VM that is not started\"}");
	CU_ASSERT_EQUAL(req(a, "PATCH", "/vm", "{\"state\": \"Sleeping\"}", &r),
			400);
	CU_ASSERT_EQUAL(req(a, "PUT", "/actions",
			    "{\"action_type\": \"Reboot\"}", &r),
			400);

	/* Started (a VM with no vCPUs stands in): pre-boot calls refused. */
	vm = calloc(1, sizeof(*vm));
	vm->state = VM_STATE_RUNNING;
	vm->stop_efd = -1;
	s.vm = vm;
	CU_ASSERT_EQUAL(req(a, "PUT", "/machine-config",
			    "{\"vcpu_count\": 1, \"mem_size_mib\": 128}", &r),
			400);
	CU_ASSERT_STRING_EQUAL(
		r,
		"{\"fault_message\":\"PUT /machine-config: not allowed after the VM started (state Running)\"}");
	CU_ASSERT_EQUAL(req(a, "PUT", "/boot-source",
			    "{\"kernel_image_path\": \"/x\"}", &r),
			400);
	CU_ASSERT_EQUAL(req(a, "PUT", "/actions",
			    "{\"action_type\": \"InstanceStart\"}", &r),
			400);
	CU_ASSERT_EQUAL(req(a, "PATCH", "/vm", "{\"state\": \"Resumed\"}", &r),
			400);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(r, "cannot start or resume a VM that is running"));
	/* A drive the running VM does not have; PUT is pre-boot only. */
	CU_ASSERT_EQUAL(
		req(a, "PATCH", "/drives/root",
		    "{\"drive_id\": \"root\", \"path_on_host\": \"/r3\"}", &r),
		400);
	CU_ASSERT_PTR_NOT_NULL(r && strstr(r, "no drive 'root' in this VM"));
	CU_ASSERT_EQUAL(req(a, "PUT", "/run", "{\"command\": [\"true\"]}", &r),
			400);
	CU_ASSERT_EQUAL(
		req(a, "PUT", "/drives/root",
		    "{\"drive_id\": \"root\", \"path_on_host\": \"/r\", \"is_root_device\": true}",
		    &r),
		400);
	CU_ASSERT_EQUAL(req(a, "PATCH", "/vm", "{\"state\": \"Paused\"}", &r),
			204);
	CU_ASSERT_EQUAL(req(a, "GET", "/", NULL, &r), 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "\"state\":\"Paused\""));
	CU_ASSERT_EQUAL(req(a, "PATCH", "/vm", "{\"state\": \"Paused\"}", &r),
			400);
	CU_ASSERT_EQUAL(req(a, "PATCH", "/vm", "{\"state\": \"Resumed\"}", &r),
			204);
	CU_ASSERT_EQUAL(req(a, "GET", "/", NULL, &r), 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "\"state\":\"Running\""));
	/* The configuration is still readable. */
	CU_ASSERT_EQUAL(req(a, "GET", "/vm/config", NULL, &r), 200);
	free(r);
	s.vm = NULL;
	free(vm);
	api_free(a);
	config_free(&c);
}

void suite_api(void)
{
	static const CU_TestInfo tests[] = {
		{ "config file: every field", test_file_every_field },
		{ "config file: dump reads back", test_file_round_trip },
		{ "config file: wrong types, unknown keys, nulls",
		  test_file_errors },
		{ "config file: run", test_file_run },
		{ "config file: run errors", test_file_run_errors },
		{ "drive PUT replaces by id, a failed one changes nothing",
		  test_drive_replace },
		{ "the same mistake, the same words", test_same_message },
		{ "API requests before and after start", test_api_requests },
		CU_TEST_INFO_NULL,
	};

	unit_add_suite("api", tests);
	config_init(&cfg);
}
