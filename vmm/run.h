/* SPDX-License-Identifier: MIT */
#ifndef KILN_RUN_H
#define KILN_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "vm.h"

/*
 * `kiln run -- CMD`: the guest init (guest-init/, embedded in kiln) in an
 * initramfs written in memory, its configuration, the named console ports
 * for the command's streams, the 9p shares, and the exit status.
 */

/* The ports of the command-mode console, by id. */
enum { RUN_PORT_STDIN = 1, RUN_PORT_STDOUT, RUN_PORT_STDERR, RUN_PORT_STATUS };

/*
 * The kernel to boot: given (a file, or a kernel build tree holding the
 * arch's image), else kiln's own next to the binary (exe_dir/guest-kernel/,
 * where 'make guest-kernel' puts it). Returns a malloc'ed path, or NULL
 * with err saying what to do.
 */
char *kernel_find(const char *given, const char *exe_dir, char *err,
		  size_t errlen);

/*
 * Whether kiln's stdin reaches the command: with -i or -t, or whenever it
 * is not a terminal (a pipe, a file).
 */
bool run_stdin_forwarded(const struct vm_config *cfg);

/* A growing run of NUL-terminated "key=value" records. */
struct run_blob {
	char *buf;
	size_t len, cap;
	bool failed; /* out of memory: later records are dropped */
};

/* Appends "key=<fmt...>" and a NUL to b. */
void run_rec(struct run_blob *b, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Appends len bytes of records as they are. */
void run_blob_append(struct run_blob *b, const char *data, size_t len);

/*
 * The guest init's configuration: NUL-terminated "key=value" records.
 * root is "9p:TAG:ro|rw" or "blk:DEV"; share tags are kiln.share.N.
 * cfg's init_extra records (an OCI bundle's) come last.
 * Returns a malloc'ed buffer (length in *len) or NULL.
 */
char *run_config_blob(const struct vm_config *cfg, const char *root,
		      const char *cwd, const char *term, unsigned int rows,
		      unsigned int cols, size_t *len);

/*
 * The initramfs: /dev/console, /kiln/init (init, init_len bytes),
 * /kiln/config and /kiln/files/N for each of the nr_files files (their
 * data; the records name where they go). Returns 0 and a malloc'ed
 * archive, or -ENOMEM.
 */
int run_initramfs(const void *init, size_t init_len, const char *conf,
		  size_t conf_len, const struct file_spec *files,
		  unsigned int nr_files, uint8_t **out, size_t *out_len);

/*
 * kiln's exit status: the reported one (-1 for none) when the guest ended
 * by itself, 124 on timeout, 128+N on signal N, else 255.
 */
int run_exit_status(enum vm_stop_reason why, int reported, int stop_status);

/*
 * Opens what the command needs before any VM exists (rootfs, shares):
 * errors are one line in err.
 */
int run_open(struct vm *vm, char *err, size_t errlen);

/*
 * Creates the console with its ports, writes the initramfs and extends the
 * command line. After run_open, before the devices are attached.
 */
int run_prepare(struct vm *vm);

/* The guest init, linked in from guest-init/ (init-blob.S). */
extern const uint8_t kiln_init_start[], kiln_init_end[];

#endif
