/* SPDX-License-Identifier: MIT */
#ifndef KILN_BUS_H
#define KILN_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A device access: offset is relative to the registered base. For a read
 * the handler fills data[0..len); for a write it consumes it. Handlers run
 * on vCPU threads and do their own locking.
 */
typedef void (*bus_handler_fn)(void *opaque, uint64_t offset, uint8_t *data,
			       uint32_t len, bool is_write);

struct bus_range {
	uint64_t base;
	uint64_t len;
	bus_handler_fn fn;
	void *opaque;
};

/*
 * One address space (port I/O or MMIO). Ranges are registered while the VM
 * is built, before any vCPU runs; lookups afterwards need no lock.
 */
struct bus {
	const char *name;
	struct bus_range *ranges; /* sorted by base, never overlapping */
	size_t nr, cap;
};

void bus_init(struct bus *bus, const char *name);
void bus_destroy(struct bus *bus);

/*
 * Adds [base, base+len). Returns 0, -EINVAL for an empty or wrapping range
 * or a NULL handler, -EEXIST if it overlaps a registered range, -ENOMEM.
 */
int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 bus_handler_fn fn, void *opaque);

/* The range holding all of [addr, addr+len), or NULL. */
const struct bus_range *bus_find(const struct bus *bus, uint64_t addr,
				 uint32_t len);

/*
 * Calls the handler for [addr, addr+len). Returns 0, or -ENOENT when no
 * single range holds the access (reads then see all ones).
 */
int bus_dispatch(const struct bus *bus, uint64_t addr, uint8_t *data,
		 uint32_t len, bool is_write);

#endif
