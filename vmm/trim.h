/* SPDX-License-Identifier: MIT */
#ifndef KILN_TRIM_H
#define KILN_TRIM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Start-up is over once the vCPUs run: the code and read-only data that
 * only start-up used (argument and file parsing, kernel loading and
 * unpacking, ACPI and device-tree building, the decompression libraries)
 * need not stay resident. Read-only file-backed pages are given back
 * with MADV_DONTNEED; what runs again is read again from the page cache
 * (a minor fault). Writable segments are never touched.
 */

/* One loaded segment, as a program header tells it. */
struct trim_seg {
	uintptr_t addr; /* load bias + p_vaddr */
	size_t len; /* p_memsz */
	int writable; /* PF_W */
};

/*
 * The whole pages of seg that may be given back: [*start, *end), or
 * false when none. Only read-only segments qualify, and only pages
 * wholly inside them (a page shared with a neighbour is kept).
 */
int trim_range(const struct trim_seg *seg, size_t page, uintptr_t *start,
	       uintptr_t *end);

/*
 * Gives back the whole pages inside [p, p+len) of a read-only file
 * mapping: bytes given back (0 when there is no whole page, or madvise
 * refused).
 */
size_t trim_pages(const void *p, size_t len);

/*
 * Gives back the read-only pages of kiln's file and its libraries: bytes
 * of the ranges given back. No system call but madvise (it runs under
 * the seccomp filter of whichever thread finishes last).
 */
size_t trim_startup(void);

#endif
