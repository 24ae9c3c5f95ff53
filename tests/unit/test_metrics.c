// SPDX-License-Identifier: MIT
/*
 * The metrics file: each line valid JSON holding the counts since the
 * one before, device groups named as Firecracker names them; the API's
 * PUT /metrics and FlushMetrics; the config file's "metrics".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "config_json.h"
#include "json.h"
#include "metrics_file.h"
#include "session.h"
#include "unit.h"
#include "vm.h"

struct fake_dev {
	struct metric reads, bytes;
};

static void fake_metrics(void *dev, metric_emit_fn emit, void *ctx)
{
	struct fake_dev *f = dev;

	emit(ctx, "read_count", &f->reads);
	emit(ctx, "read_bytes", &f->bytes);
}

static const struct device_ops fake_ops = { .metrics = fake_metrics };

/* The u64 at group.key in one line, or -1 (the line must parse). */
static long long field(const char *line, const char *group, const char *key)
{
	struct json_doc doc = { 0 };
	const struct json_node *g, *v;
	char err[160];
	long long r = -1;
	uint64_t u;

	if (json_parse(line, strlen(line), &doc, err, sizeof(err))) {
		CU_FAIL("a metrics line is not valid JSON");
		return -2;
	}
	g = json_get(json_root(&doc), group);
	v = g ? json_get(g, key) : NULL;
	if (v && !json_get_u64(v, &u))
		r = (long long)u;
	json_free(&doc);
	return r;
}

static void test_lines(void)
{
	struct session s;
	struct vm *vm = calloc(1, sizeof(*vm));
	struct fake_dev blk = { 0 }, net = { 0 };
	char *l1, *l2;

	memset(&s, 0, sizeof(s));
	metrics_init(&s.metrics);
	s.vm = vm;
	CU_ASSERT_PTR_NOT_NULL_FATAL(device_add(&vm->devs, "virtio-blk",
						"drive-rootfs", &fake_ops, &blk,
						NULL));
	CU_ASSERT_PTR_NOT_NULL_FATAL(device_add(
		&vm->devs, "virtio-net", "iface-eth0", &fake_ops, &net, NULL));
	CU_ASSERT_PTR_NOT_NULL_FATAL(device_add(&vm->devs, "virtio-blk", NULL,
						&fake_ops, &blk, NULL));
	/* A platform device without ops (the RTC): no group, no crash. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(
		device_add(&vm->devs, "cmos", "rtc", NULL, &net, NULL));
	metric_add(&blk.reads, 3);
	metric_add(&blk.bytes, 4096);
	metric_add(&vm->vcpu_metrics.exit_mmio_write, 7);
	metric_add(&s.metrics.api_requests, 2);
	metric_add(&s.metrics.sigterm, 1);
	l1 = metrics_line(&s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l1);
	/* One line, ending in a newline. */
	CU_ASSERT_PTR_NULL(strchr(l1, '\n') + 1 == l1 + strlen(l1) ? NULL : l1);
	CU_ASSERT_EQUAL(field(l1, "block_rootfs", "read_count"), 3);
	CU_ASSERT_EQUAL(field(l1, "block_rootfs", "read_bytes"), 4096);
	CU_ASSERT_EQUAL(field(l1, "net_eth0", "read_count"), 0);
	/* Without an id, by its device name; the same counters, taken. */
	CU_ASSERT_EQUAL(field(l1, "block_virtio-blk1", "read_count"), 0);
	CU_ASSERT_EQUAL(field(l1, "cmos_rtc", "read_count"), -1);
	CU_ASSERT_EQUAL(field(l1, "vcpu", "exit_mmio_write"), 7);
	CU_ASSERT_EQUAL(field(l1, "api_server", "requests"), 2);
	CU_ASSERT_EQUAL(field(l1, "signals", "sigterm"), 1);
	CU_ASSERT_EQUAL(field(l1, "seccomp", "num_faults"), 0);
	CU_ASSERT_EQUAL(field(l1, "kiln", "flushes"), 1);
	CU_ASSERT(field(l1, "kiln", "uptime_ms") >= 0);
	/* The next line counts from the last. */
	metric_add(&blk.reads, 1);
	l2 = metrics_line(&s);
	CU_ASSERT_EQUAL(field(l2, "block_rootfs", "read_count"), 1);
	CU_ASSERT_EQUAL(field(l2, "vcpu", "exit_mmio_write"), 0);
	CU_ASSERT_EQUAL(field(l2, "api_server", "requests"), 0);
	CU_ASSERT_EQUAL(field(l2, "kiln", "flushes"), 2);
	free(l1);
	free(l2);
	/* No VM (yet): no vcpu group, the rest is there. */
	s.vm = NULL;
	l1 = metrics_line(&s);
	CU_ASSERT_EQUAL(field(l1, "vcpu", "exit_io_in"), -1);
	CU_ASSERT_EQUAL(field(l1, "api_server", "errors"), 0);
	free(l1);
	free(vm);
}

static void test_file(void)
{
	char path[] = "/tmp/kiln-metrics-XXXXXX", line[4096], err[256];
	struct session s;
	int fd = mkstemp(path), n = 0;
	FILE *f;

	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	memset(&s, 0, sizeof(s));
	metrics_init(&s.metrics);
	CU_ASSERT_EQUAL(metrics_flush(&s), -ENOENT);
	CU_ASSERT_EQUAL_FATAL(metrics_open(&s.metrics, path, err, sizeof(err)),
			      0);
	CU_ASSERT_EQUAL(metrics_flush(&s), 0);
	CU_ASSERT_EQUAL(metrics_flush(&s), 0);
	metrics_close(&s.metrics);
	f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while (fgets(line, sizeof(line), f))
		CU_ASSERT_EQUAL(field(line, "kiln", "flushes"), ++n);
	fclose(f);
	CU_ASSERT_EQUAL(n, 2);
	unlink(path);
	/* A path that cannot be opened: one line that says so. */
	CU_ASSERT(metrics_open(&s.metrics, "/nonexistent/dir/m", err,
			       sizeof(err)) < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/dir/m"));
}

#define FLUSH "{\"action_type\": \"FlushMetrics\"}"

static void test_api(void)
{
	char path[] = "/tmp/kiln-metrics-XXXXXX", *r = NULL, err[256];
	struct vm_config c;
	struct session s;
	struct api *a;
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	config_init(&c);
	memset(&s, 0, sizeof(s));
	metrics_init(&s.metrics);
	a = api_new(&s, &c, "m");
	CU_ASSERT_EQUAL(api_handle(a, "PUT", "/actions", FLUSH, strlen(FLUSH),
				   &r),
			400);
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "PUT /metrics first"));
	free(r);
	CU_ASSERT_EQUAL(api_handle(a, "PUT", "/metrics", "{}", 2, &r), 400);
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "metrics_path is missing"));
	free(r);
	snprintf(err, sizeof(err), "{\"metrics_path\": \"%s\"}", path);
	CU_ASSERT_EQUAL(api_handle(a, "PUT", "/metrics", err, strlen(err), &r),
			204);
	CU_ASSERT_EQUAL(s.metrics.fd >= 0, 1);
	CU_ASSERT_EQUAL(api_handle(a, "PUT", "/actions", FLUSH, strlen(FLUSH),
				   &r),
			204);
	/* The dump names it; the count of requests went into the line. */
	CU_ASSERT_EQUAL(api_handle(a, "GET", "/vm/config", NULL, 0, &r), 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "\"metrics_path\""));
	free(r);
	metrics_close(&s.metrics);
	{
		FILE *f = fopen(path, "r");
		char line[4096] = "";

		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof(line), f));
		fclose(f);
		/* Three before it: the failed flush, the bad and good PUT. */
		CU_ASSERT_EQUAL(field(line, "api_server", "requests"), 3);
		CU_ASSERT_EQUAL(field(line, "api_server", "errors"), 2);
	}
	unlink(path);
	api_free(a);
	config_free(&c);
}

static void test_config(void)
{
	struct vm_config c;
	char err[256];
	static const char ok[] =
		"{\"boot-source\": {\"kernel_image_path\": \"/k\"},"
		" \"metrics\": {\"metrics_path\": \"/m\"}}";
	static const char bad[] =
		"{\"boot-source\": {\"kernel_image_path\": \"/k\"},"
		" \"metrics\": {\"metrics_path\": 3}}";

	config_init(&c);
	CU_ASSERT_EQUAL(cfgjson_file(&c, ok, strlen(ok), err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(c.metrics_path, "/m");
	config_free(&c);
	config_init(&c);
	CU_ASSERT_NOT_EQUAL(
		cfgjson_file(&c, bad, strlen(bad), err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "metrics: metrics_path"));
	config_free(&c);
}

void suite_metrics(void)
{
	static const CU_TestInfo tests[] = {
		{ "lines: counts since the last, groups by id", test_lines },
		{ "file: lines appended, bad path", test_file },
		{ "API: PUT /metrics, FlushMetrics", test_api },
		{ "config file: metrics", test_config },
		CU_TEST_INFO_NULL,
	};

	unit_add_suite("metrics", tests);
}
