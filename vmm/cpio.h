/* SPDX-License-Identifier: MIT */
#ifndef KILN_CPIO_H
#define KILN_CPIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Writes a cpio "newc" archive in memory: the format Linux unpacks into
 * its initramfs (Documentation/driver-api/early-userspace/buffer-format).
 */
struct cpio {
	uint8_t *buf;
	size_t len, cap;
	uint32_t ino;
	bool failed; /* out of memory or a bad entry: the archive is void */
};

/* One entry; mode includes the file type (S_IFREG, S_IFDIR, S_IFCHR). */
void cpio_add(struct cpio *c, const char *name, uint32_t mode, const void *data,
	      size_t len, uint32_t rdev_major, uint32_t rdev_minor);
/* Appends the trailer. Returns 0, or -ENOMEM if anything failed. */
int cpio_finish(struct cpio *c);
void cpio_free(struct cpio *c);

#endif
