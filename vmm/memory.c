// SPDX-License-Identifier: MIT
#include <stddef.h>

#include "memory.h"

void *guest_mem_hva(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	unsigned int i;

	if (!len)
		len = 1;
	for (i = 0; i < m->nr; i++) {
		const struct mem_region *r = &m->region[i];
		uint64_t off;

		if (gpa < r->gpa)
			continue;
		off = gpa - r->gpa;
		/* Written so that no sum can wrap around. */
		if (off >= r->size || len > r->size - off)
			continue;
		return r->hva + off;
	}
	return NULL;
}
