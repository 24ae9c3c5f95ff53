// SPDX-License-Identifier: MIT
/* The run-a-command pieces: cpio writer, init config, exit status. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch.h"
#include "console.h"
#include "cpio.h"
#include "run.h"
#include "unit.h"

static char *run_cmd(const char *cmd)
{
	static char out[4096];
	FILE *p = popen(cmd, "r");
	size_t n;

	if (!p)
		return NULL;
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	return pclose(p) == 0 ? out : NULL;
}

static void test_cpio_roundtrip(void)
{
	char dir[] = "/tmp/kiln-cpio-XXXXXX", path[256], cmd[512], *out;
	static const char data[] = "#!/bin/sh\necho hi\n";
	uint8_t *buf;
	size_t len;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	CU_ASSERT_EQUAL_FATAL(run_initramfs(data, sizeof(data) - 1, "a=1\0b=2",
					    8, NULL, 0, &buf, &len),
			      0);
	CU_ASSERT_EQUAL(len % 4, 0);
	CU_ASSERT_EQUAL(memcmp(buf, "070701", 6), 0);
	snprintf(path, sizeof(path), "%s/a.cpio", dir);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fwrite(buf, 1, len, f);
	fclose(f);
	free(buf);

	/* cpio(1) lists exactly what was written, in order. */
	snprintf(cmd, sizeof(cmd), "cpio -t --quiet < %s", path);
	out = run_cmd(cmd);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_STRING_EQUAL(
		out, "dev\ndev/console\nkiln\nkiln/init\nkiln/config\n");
	/* And unpacks the same bytes and modes. */
	snprintf(
		cmd, sizeof(cmd),
		"cd %s && cpio -id --quiet --no-absolute-filenames kiln/init kiln/config < a.cpio && "
		"stat -c %%a kiln/init && cat kiln/init && od -An -c kiln/config",
		dir);
	out = run_cmd(cmd);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "755\n#!/bin/sh\necho hi\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "a   =   1  \\0   b   =   2  \\0"));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

static void test_cpio_padding(void)
{
	struct cpio c = { 0 };
	size_t i;

	/* Names and data of every length mod 4 keep entries aligned. */
	for (i = 1; i <= 8; i++) {
		char name[16];

		memset(name, 'n', i);
		name[i] = 0;
		cpio_add(&c, name, 0100644, "xxxxxxxx", i, 0, 0);
		CU_ASSERT_EQUAL(c.len % 4, 0);
	}
	CU_ASSERT_EQUAL(cpio_finish(&c), 0);
	CU_ASSERT_EQUAL(c.len % 4, 0);
	/* The trailer closes it. */
	CU_ASSERT_PTR_NOT_NULL(memmem(c.buf, c.len, "TRAILER!!!", 11));
	cpio_free(&c);
}

static bool has_rec(const char *blob, size_t len, const char *rec)
{
	size_t off;

	for (off = 0; off < len; off += strlen(blob + off) + 1)
		if (!strcmp(blob + off, rec))
			return true;
	return false;
}

static void test_config_blob(void)
{
	char *argv[] = { "sh", "-c", "echo a=b", NULL };
	struct vm_config cfg = { 0 };
	char *b;
	size_t len;

	cfg.run_argv = argv;
	cfg.run_argc = 3;
	cfg.env[0] = "FOO=bar";
	cfg.nr_env = 1;
	cfg.uid = 1000;
	cfg.gid = 100;
	cfg.shares[0] = (struct share_spec){ "/h", "/mnt/x y", 1 };
	cfg.shares[1] = (struct share_spec){ "/", "/", 1 }; /* the root */
	cfg.nr_shares = 2;
	b = run_config_blob(&cfg, "9p:kiln.root:ro", "/work", "xterm", 24, 80,
			    &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(b[len - 1], 0);
	/* Arguments in order, each a record of its own. */
	CU_ASSERT_STRING_EQUAL(b, "arg=sh");
	CU_ASSERT_STRING_EQUAL(b + 7, "arg=-c");
	CU_ASSERT_STRING_EQUAL(b + 14, "arg=echo a=b");
	CU_ASSERT(has_rec(b, len, "env=TERM=xterm"));
	CU_ASSERT(has_rec(b, len, "env=FOO=bar"));
	CU_ASSERT(has_rec(b, len, "root=9p:kiln.root:ro"));
	CU_ASSERT(has_rec(b, len, "share=kiln.share.0\x1fro\x1f/mnt/x y"));
	CU_ASSERT(!has_rec(b, len, "share=kiln.share.1\x1fro\x1f/"));
	CU_ASSERT(has_rec(b, len, "cwd=/work"));
	CU_ASSERT(has_rec(b, len, "uid=1000"));
	CU_ASSERT(has_rec(b, len, "gid=100"));
	CU_ASSERT(has_rec(b, len, "tty=0"));
	CU_ASSERT(has_rec(b, len, "rows=24"));
	free(b);
}

static void test_exit_status(void)
{
	CU_ASSERT_EQUAL(run_exit_status(VM_STOP_REBOOT, 0, 0), 0);
	CU_ASSERT_EQUAL(run_exit_status(VM_STOP_REBOOT, 7, 0), 7);
	CU_ASSERT_EQUAL(run_exit_status(VM_STOP_POWEROFF, 137, 0), 137);
	/* Ended without a report: a panic (panic=-1 reboots) or a crash. */
	CU_ASSERT_EQUAL(run_exit_status(VM_STOP_REBOOT, -1, 0), 255);
	CU_ASSERT_EQUAL(run_exit_status(VM_STOP_CRASH, -1, 1), 255);
	CU_ASSERT_EQUAL(run_exit_status(VM_STOP_ERROR, 3, 1), 255);
	CU_ASSERT_EQUAL(run_exit_status(VM_STOP_TIMEOUT, 0, 124), 124);
	CU_ASSERT_EQUAL(run_exit_status(VM_STOP_SIGNAL, -1, 143), 143);
	CU_ASSERT_EQUAL(run_exit_status(VM_STOP_REBOOT, 256, 0), 255);
}

static void test_status_lines(void)
{
	CU_ASSERT_EQUAL(console_parse_status("exit 0"), 0);
	CU_ASSERT_EQUAL(console_parse_status("exit 255"), 255);
	CU_ASSERT_EQUAL(console_parse_status("exit 256"), -1);
	CU_ASSERT_EQUAL(console_parse_status("exit -1"), -1);
	CU_ASSERT_EQUAL(console_parse_status("exit 1x"), -1);
	CU_ASSERT_EQUAL(console_parse_status("exit "), -1);
	CU_ASSERT_EQUAL(console_parse_status("quit 1"), -1);
	CU_ASSERT_EQUAL(console_parse_status(""), -1);
}

static void test_kernel_find(void)
{
	char dir[] = "/tmp/kiln-ktree-XXXXXX", p[256], err[256] = "", cmd[600];
	char *k;
	int fd;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	/* A file is taken as given (opening it reports problems). */
	k = kernel_find("/some/bzImage", NULL, err, sizeof(err));
	CU_ASSERT_STRING_EQUAL(k, "/some/bzImage");
	free(k);
	/* A build tree without an image says so. */
	CU_ASSERT_PTR_NULL(kernel_find(dir, NULL, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "build the kernel"));
	/* vmlinux at the top of a tree. */
	snprintf(p, sizeof(p), "%s/vmlinux", dir);
	fd = open(p, O_CREAT | O_WRONLY, 0644);
	close(fd);
	k = kernel_find(dir, NULL, err, sizeof(err));
	CU_ASSERT_STRING_EQUAL(k, p);
	free(k);
	/* The arch's image wins over vmlinux. */
	snprintf(p, sizeof(p), "%s/%s", dir, arch_kernel_tree_image());
	snprintf(cmd, sizeof(cmd), "mkdir -p $(dirname %s) && touch %s", p, p);
	CU_ASSERT_EQUAL(system(cmd), 0);
	k = kernel_find(dir, NULL, err, sizeof(err));
	CU_ASSERT_STRING_EQUAL(k, p);
	free(k);
	/* Nothing given: kiln's own beside the binary, else advice. */
	CU_ASSERT_PTR_NULL(kernel_find(NULL, dir, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "make guest-kernel"));
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s/guest-kernel && touch %s/guest-kernel/%s", dir,
		 dir, arch_kernel_image_name());
	CU_ASSERT_EQUAL(system(cmd), 0);
	k = kernel_find(NULL, dir, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(k);
	CU_ASSERT_PTR_NOT_NULL(k ? strstr(k, "/guest-kernel/") : NULL);
	free(k);
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	CU_ASSERT_EQUAL(system(p), 0);
}

void suite_run(void)
{
	static const CU_TestInfo tests[] = {
		{ "cpio round trip through cpio(1)", test_cpio_roundtrip },
		{ "cpio alignment and trailer", test_cpio_padding },
		{ "init config records", test_config_blob },
		{ "exit status mapping", test_exit_status },
		{ "status port lines", test_status_lines },
		{ "kernel: file, build tree, default", test_kernel_find },
		CU_TEST_INFO_NULL,
	};
	unit_add_suite("run", tests);
}
