/* SPDX-License-Identifier: MIT */
#ifndef KILN_SNAPFILE_H
#define KILN_SNAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The snapshot file: a versioned, checksummed container of sections (the
 * configuration, each vCPU, the irqchip, each device), the guest's memory
 * being a file of its own. Little-endian throughout:
 *
 *   header   "KILNSNAP", version, arch, section count, header size,
 *            file size, checksum (kc_hash of the whole file with the
 *            checksum's 16 bytes zero)
 *   table    per section: type, id, offset, length
 *   data     the sections, each at an 8-byte aligned offset, in table
 *            order, none overlapping another or the table
 *
 * A reader trusts nothing of the file: sizes and offsets are checked
 * before any use, the checksum before any section is read.
 */

#define SNAP_VERSION 1
#define SNAP_MAX_SECTIONS 1024

enum snap_arch { SNAP_ARCH_X86_64 = 1, SNAP_ARCH_AARCH64 = 2 };

/* The arch this kiln was built for. */
enum snap_arch snap_host_arch(void);
const char *snap_arch_name(uint32_t arch);

struct snap_section {
	uint32_t type, id;
	uint64_t offset, len;
};

struct snap_writer {
	uint8_t *data; /* the sections' bytes, in order (malloc'ed) */
	size_t len, cap;
	struct snap_section sect[SNAP_MAX_SECTIONS];
	unsigned int nr;
	bool failed; /* out of memory, too many, or a repeated (type, id) */
};

/* Adds a section (its bytes copied): 0, or -ENOMEM, -E2BIG (too many),
 * -EEXIST (the same type and id twice). A failure sticks. */
int snap_add(struct snap_writer *w, uint32_t type, uint32_t id,
	     const void *data, size_t len);

/*
 * The whole file for arch: a malloc'ed buffer of *len bytes, or NULL when
 * any snap_add failed or memory ran out. The writer is emptied either way.
 */
uint8_t *snap_finish(struct snap_writer *w, uint32_t arch, size_t *len);
void snap_writer_free(struct snap_writer *w);

struct snap_reader {
	const uint8_t *buf;
	size_t len;
	uint32_t version, arch;
	unsigned int nr;
	struct snap_section sect[SNAP_MAX_SECTIONS];
};

/*
 * Checks buf (len bytes) as a snapshot of arch and fills r (which points
 * into buf). 0, or -EINVAL with err saying what is wrong in one line: not
 * a snapshot, another version or arch, truncated, a checksum that does
 * not match (damaged or altered), a section out of bounds.
 */
int snap_open(struct snap_reader *r, const void *buf, size_t len, uint32_t arch,
	      char *err, size_t errlen);

/* Section (type, id): its bytes and length, or NULL when absent. */
const void *snap_get(const struct snap_reader *r, uint32_t type, uint32_t id,
		     size_t *len);

#endif
