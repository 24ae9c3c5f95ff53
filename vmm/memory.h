/* SPDX-License-Identifier: MIT */
#ifndef KILN_MEMORY_H
#define KILN_MEMORY_H

#include <stdint.h>

/*
 * Guest memory: the bottom layer. Every device reaches guest RAM through
 * guest_mem_hva() and nothing else; it knows nothing of VMs or KVM.
 */

#define GUEST_MEM_MAX_REGIONS 4

struct mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

struct guest_mem {
	struct mem_region region[GUEST_MEM_MAX_REGIONS];
	unsigned int nr;
};

/*
 * The host address of [gpa, gpa+len) when all of it lies inside one RAM
 * region, else NULL. Never trusts gpa or len; a zero len is checked as one
 * byte.
 */
void *guest_mem_hva(const struct guest_mem *m, uint64_t gpa, uint64_t len);

#endif
