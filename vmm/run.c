// SPDX-License-Identifier: MIT
/* `kiln run -- CMD`: see run.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch.h"
#include "cpio.h"
#include "log.h"
#include "run.h"
#include "trim.h"
#include "virtio/9p.h"
#include "virtio/blk.h"
#include "virtio/console.h"

/* dir/rel, malloc'ed, when it is a regular file; else NULL. */
static char *file_at(const char *dir, const char *rel)
{
	struct stat st;
	char *p;

	if (asprintf(&p, "%s/%s", dir, rel) < 0)
		return NULL;
	if (!stat(p, &st) && S_ISREG(st.st_mode))
		return p;
	free(p);
	return NULL;
}

char *kernel_find(const char *given, const char *exe_dir, char *err,
		  size_t errlen)
{
	struct stat st;
	char *p = NULL;

	if (given && (stat(given, &st) || !S_ISDIR(st.st_mode)))
		return strdup(given); /* opening it says what is wrong */
	if (given) {
		p = file_at(given, arch_kernel_tree_image());
		if (!p)
			p = file_at(given, "vmlinux");
		if (!p)
			snprintf(
				err, errlen,
				"'%s' is a directory without %s or vmlinux: build the kernel, or give its image",
				given, arch_kernel_tree_image());
		return p;
	}
	if (exe_dir) {
		char rel[64];

		snprintf(rel, sizeof(rel), "guest-kernel/%s",
			 arch_kernel_image_name());
		p = file_at(exe_dir, rel);
		if (p)
			return p;
	}
	snprintf(
		err, errlen,
		"no kernel given and kiln's own is not built: add --kernel PATH, or run 'make guest-kernel'");
	return NULL;
}

void run_blob_append(struct run_blob *b, const char *data, size_t len)
{
	char *nb;

	if (!len || b->failed)
		return;
	nb = realloc(b->buf, b->len + len);
	if (!nb) {
		b->failed = true;
		return;
	}
	memcpy(nb + b->len, data, len);
	b->buf = nb;
	b->len += len;
	b->cap = b->len;
}

void run_rec(struct run_blob *b, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *v;
	size_t n;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&v, fmt, ap);
	va_end(ap);
	if (r < 0 || b->failed) {
		b->failed = true;
		if (r >= 0)
			free(v);
		return;
	}
	n = strlen(key) + 1 + r + 1;
	if (b->len + n > b->cap) {
		size_t cap = (b->cap + n) * 2;
		char *nb = realloc(b->buf, cap);

		if (!nb) {
			b->failed = true;
			free(v);
			return;
		}
		b->buf = nb;
		b->cap = cap;
	}
	b->len += sprintf(b->buf + b->len, "%s=%s", key, v) + 1;
	free(v);
}

bool run_stdin_forwarded(const struct vm_config *cfg)
{
	return cfg->interactive || cfg->tty || !isatty(STDIN_FILENO);
}

char *run_config_blob(const struct vm_config *cfg, const char *root,
		      const char *cwd, const char *term, unsigned int rows,
		      unsigned int cols, size_t *len)
{
	struct run_blob b = { 0 };
	unsigned int i;
	int a;

	for (a = 0; a < cfg->run_argc; a++)
		run_rec(&b, "arg", "%s", cfg->run_argv[a]);
	if (term)
		run_rec(&b, "env", "TERM=%s", term);
	for (i = 0; i < cfg->nr_env; i++)
		run_rec(&b, "env", "%s", cfg->env[i]);
	run_rec(&b, "root", "%s", root);
	for (i = 0; i < cfg->nr_shares; i++)
		if (strcmp(cfg->shares[i].guest,
			   "/")) /* that one is the root */
			run_rec(&b, "share", "kiln.share.%u\x1f%s\x1f%s", i,
				cfg->shares[i].ro ? "ro" : "rw",
				cfg->shares[i].guest);
	if (cwd)
		run_rec(&b, "cwd", "%s", cwd);
	if (cfg->uid >= 0) {
		run_rec(&b, "uid", "%ld", cfg->uid);
		run_rec(&b, "gid", "%ld", cfg->gid);
	}
	run_rec(&b, "stdin", "%d", run_stdin_forwarded(cfg));
	run_rec(&b, "tty", "%d", cfg->tty);
	if (cfg->boot_timer)
		run_rec(&b, "boottimer", "0x%llx",
			(unsigned long long)arch_boot_timer_addr());
	if (rows && cols) {
		run_rec(&b, "rows", "%u", rows);
		run_rec(&b, "cols", "%u", cols);
	}
	if (cfg->init_extra_len && !b.failed) {
		char *nb = realloc(b.buf, b.len + cfg->init_extra_len);

		if (!nb) {
			b.failed = true;
		} else {
			memcpy(nb + b.len, cfg->init_extra,
			       cfg->init_extra_len);
			b.buf = nb;
			b.len += cfg->init_extra_len;
		}
	}
	if (b.failed) {
		free(b.buf);
		return NULL;
	}
	*len = b.len;
	return b.buf;
}

int run_initramfs(const void *init, size_t init_len, const char *conf,
		  size_t conf_len, const struct file_spec *files,
		  unsigned int nr_files, uint8_t **out, size_t *out_len)
{
	struct cpio c = { 0 };
	unsigned int i;

	cpio_add(&c, "dev", S_IFDIR | 0755, NULL, 0, 0, 0);
	cpio_add(&c, "dev/console", S_IFCHR | 0600, NULL, 0, 5, 1);
	cpio_add(&c, "kiln", S_IFDIR | 0755, NULL, 0, 0, 0);
	cpio_add(&c, "kiln/init", S_IFREG | 0755, init, init_len, 0, 0);
	cpio_add(&c, "kiln/config", S_IFREG | 0600, conf, conf_len, 0, 0);
	if (nr_files)
		cpio_add(&c, "kiln/files", S_IFDIR | 0755, NULL, 0, 0, 0);
	for (i = 0; i < nr_files; i++) {
		char name[32];

		snprintf(name, sizeof(name), "kiln/files/%u", i);
		cpio_add(&c, name, S_IFREG | 0644, files[i].data, files[i].len,
			 0, 0);
	}
	if (cpio_finish(&c)) {
		cpio_free(&c);
		return -ENOMEM;
	}
	*out = c.buf;
	*out_len = c.len;
	return 0;
}

int run_exit_status(enum vm_stop_reason why, int reported, int stop_status)
{
	switch (why) {
	case VM_STOP_TIMEOUT:
		return 124;
	case VM_STOP_SIGNAL:
		return stop_status;
	case VM_STOP_REBOOT:
	case VM_STOP_POWEROFF:
	case VM_STOP_HALT:
		if (reported >= 0 && reported <= 255)
			return reported;
		return 255;
	default:
		return 255;
	}
}

static int add_share(struct vm *vm, const char *dir, const char *tag, bool ro,
		     char *err, size_t errlen)
{
	char e[256];
	struct virtio_9p *p = virtio_9p_new(vm, dir, tag, ro, e, sizeof(e));

	if (!p) {
		snprintf(err, errlen, "%s", e);
		return -EINVAL;
	}
	if (vm_add_device(vm, "virtio-9p", NULL, &virtio_9p_device_ops, p,
			  &p->vdev)) {
		snprintf(err, errlen, "too many devices");
		return -ENOSPC;
	}
	return 0;
}

int run_open(struct vm *vm, char *err, size_t errlen)
{
	const struct vm_config *cfg = vm->cfg;
	const struct share_spec *root_share = NULL;
	unsigned int i;
	struct stat st;
	char *path;
	int r = 0;

	for (i = 0; i < cfg->nr_shares; i++)
		if (!strcmp(cfg->shares[i].guest, "/"))
			root_share = &cfg->shares[i];
	if (root_share && cfg->rootfs) {
		snprintf(
			err, errlen,
			"--share %s:/ and --rootfs both give the root: keep one",
			root_share->host);
		return -EINVAL;
	}
	if (root_share) {
		/*
		 * --share DIR:/ is the root. The host's own / is always shared
		 * read-only: the guest writes into a throw-away layer.
		 */
		bool ro = root_share->ro || !strcmp(root_share->host, "/");

		snprintf(vm->run_root, sizeof(vm->run_root), "9p:kiln.root:%s",
			 ro ? "ro" : "rw");
		vm->run_host_root = !strcmp(root_share->host, "/");
		r = add_share(vm, root_share->host, "kiln.root", ro, err,
			      errlen);
	} else if (!cfg->rootfs) {
		/* The host's own root, read-only, as vng does. */
		snprintf(vm->run_root, sizeof(vm->run_root), "9p:kiln.root:ro");
		vm->run_host_root = true;
		r = add_share(vm, "/", "kiln.root", true, err, errlen);
	} else {
		path = strndup(cfg->rootfs, cfg->rootfs_path_len);
		if (!path)
			return -ENOMEM;
		if (stat(path, &st)) {
			snprintf(
				err, errlen,
				"--rootfs '%s': %s: give a directory or an image",
				path, strerror(errno));
			r = -EINVAL;
		} else if (S_ISDIR(st.st_mode)) {
			snprintf(vm->run_root, sizeof(vm->run_root),
				 "9p:kiln.root:%s",
				 cfg->rootfs_ro ? "ro" : "rw");
			r = add_share(vm, path, "kiln.root", cfg->rootfs_ro,
				      err, errlen);
		} else {
			struct virtio_blk *b =
				virtio_blk_open(vm, path, cfg->rootfs_ro,
						"kiln-root", err, errlen);

			snprintf(vm->run_root, sizeof(vm->run_root),
				 "blk:/dev/vda");
			if (!b) {
				r = -EINVAL;
			} else if (vm_add_device(vm, "virtio-blk", NULL,
						 &virtio_blk_device_ops, b,
						 &b->vdev)) {
				snprintf(err, errlen, "too many devices");
				r = -ENOSPC;
			}
		}
		free(path);
	}
	for (i = 0; !r && i < cfg->nr_shares; i++) {
		char tag[32], e[300];

		if (&cfg->shares[i] == root_share)
			continue;

		snprintf(tag, sizeof(tag), "kiln.share.%u", i);
		r = add_share(vm, cfg->shares[i].host, tag, cfg->shares[i].ro,
			      e, sizeof(e));
		if (r)
			snprintf(err, errlen, "--share: %s", e);
	}
	return r;
}

static void on_status(void *opaque, int status)
{
	struct vm *vm = opaque;

	atomic_store(&vm->run_status, status);
}

int run_prepare(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	struct virtio_console *c;
	bool in_on = run_stdin_forwarded(cfg);
	char cwd[4096], *conf, *s;
	const char *dir = "/", *term = NULL;
	unsigned int rows = 0, cols = 0;
	size_t conf_len;
	int r;

	c = virtio_console_new_multi(vm, vm->out_fd);
	if (!c)
		return -ENOMEM;
	if (vm_add_device(vm, "virtio-console", NULL,
			  &virtio_console_device_ops, c, &c->vdev))
		return -ENOSPC;
	vm->vcon = c;
	c->on_status = on_status;
	c->opaque = vm;
	if (virtio_console_add_port(c, "kiln.stdin", PORT_INPUT, -1, in_on) !=
		    RUN_PORT_STDIN ||
	    virtio_console_add_port(c, "kiln.stdout", PORT_OUTPUT,
				    STDOUT_FILENO, true) != RUN_PORT_STDOUT ||
	    virtio_console_add_port(c, "kiln.stderr", PORT_OUTPUT,
				    STDERR_FILENO, true) != RUN_PORT_STDERR ||
	    virtio_console_add_port(c, "kiln.status", PORT_STATUS, -1, true) !=
		    RUN_PORT_STATUS)
		return -ENOMEM;

	if (cfg->cwd)
		dir = cfg->cwd;
	else if (vm->run_host_root && getcwd(cwd, sizeof(cwd)))
		dir = cwd; /* the host's tree is there: stay where we are */
	if (cfg->tty) {
		struct winsize ws;

		term = getenv("TERM");
		if (!ioctl(STDIN_FILENO, TIOCGWINSZ, &ws)) {
			rows = ws.ws_row;
			cols = ws.ws_col;
		}
	}
	conf = run_config_blob(cfg, vm->run_root, dir, term ? term : "linux",
			       rows, cols, &conf_len);
	if (!conf)
		return -ENOMEM;
	r = run_initramfs(kiln_init_start, kiln_init_end - kiln_init_start,
			  conf, conf_len, cfg->files, cfg->nr_files,
			  &vm->initrd_extra, &vm->initrd_extra_len);
	free(conf);
	if (r)
		return r;
	/* The embedded init's pages, once copied into the archive, need not
	 * stay resident (a container created but not started waits long
	 * before start-up's pages are given back): read again if needed. */
	trim_pages(kiln_init_start, kiln_init_end - kiln_init_start);
	/* Quiet unless the kernel's messages go somewhere. */
	if (asprintf(&s, "%s rdinit=/kiln/init%s", vm->cmdline,
		     cfg->verbose || cfg->console_log ? "" : " quiet") < 0)
		return -ENOMEM;
	free(vm->cmdline);
	vm->cmdline = s;
	return 0;
}
