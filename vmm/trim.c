// SPDX-License-Identifier: MIT
#include <elf.h>
#include <link.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "trim.h"

int trim_range(const struct trim_seg *seg, size_t page, uintptr_t *start,
	       uintptr_t *end)
{
	uintptr_t s, e;

	if (seg->writable || !seg->len || !page || (page & (page - 1)) ||
	    seg->addr > UINTPTR_MAX - seg->len)
		return 0;
	s = (seg->addr + page - 1) & ~(uintptr_t)(page - 1);
	e = (seg->addr + seg->len) & ~(uintptr_t)(page - 1);
	if (s < seg->addr || e <= s)
		return 0;
	*start = s;
	*end = e;
	return 1;
}

size_t trim_pages(const void *p, size_t len)
{
	struct trim_seg seg = { .addr = (uintptr_t)p, .len = len };
	uintptr_t s, e;

	if (!trim_range(&seg, (size_t)sysconf(_SC_PAGESIZE), &s, &e) ||
	    madvise((void *)s, e - s, MADV_DONTNEED))
		return 0;
	return e - s;
}

struct trim_ctx {
	size_t page;
	uintptr_t vdso;
	size_t given;
};

static int trim_object(struct dl_phdr_info *info, size_t size, void *opaque)
{
	struct trim_ctx *t = opaque;
	unsigned int i;

	(void)size;
	/* The vDSO is the kernel's, not a file's. */
	if (t->vdso && (uintptr_t)info->dlpi_phdr >= t->vdso &&
	    (uintptr_t)info->dlpi_phdr < t->vdso + t->page)
		return 0;
	/* Text relocated in place is no longer the file's: kept. */
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const ElfW(Dyn) * d;

		if (ph->p_type != PT_DYNAMIC)
			continue;
		for (d = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr);
		     d->d_tag != DT_NULL; d++)
			if (d->d_tag == DT_TEXTREL ||
			    (d->d_tag == DT_FLAGS &&
			     (d->d_un.d_val & DF_TEXTREL)))
				return 0;
	}
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && !(ph->p_flags & PF_W))
			t->given += trim_pages(
				(const void *)(info->dlpi_addr + ph->p_vaddr),
				ph->p_memsz);
	}
	return 0;
}

size_t trim_startup(void)
{
	struct trim_ctx t = { .page = (size_t)sysconf(_SC_PAGESIZE) };

	t.vdso = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
	dl_iterate_phdr(trim_object, &t);
	return t.given;
}
