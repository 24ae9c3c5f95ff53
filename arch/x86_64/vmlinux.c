// SPDX-License-Identifier: MIT
/* The vmlinux reader (vmlinux.h). x86_64 hosts only, so no byte swapping. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmlinux.h"
#include "vm.h"

int elf_check_ehdr(const uint8_t *buf, size_t len, uint64_t file_size,
		   Elf64_Ehdr *eh, char *err, size_t errlen)
{
	if (len < sizeof(*eh) || memcmp(buf, ELFMAG, SELFMAG)) {
		snprintf(err, errlen, "not a readable ELF file");
		return -ENOEXEC;
	}
	memcpy(eh, buf, sizeof(*eh));
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_X86_64) {
		snprintf(err, errlen,
			 "ELF file is not an x86_64 kernel (machine %u)",
			 eh->e_machine);
		return -ENOEXEC;
	}
	if (eh->e_type != ET_EXEC) {
		snprintf(err, errlen,
			 "ELF file is not an executable vmlinux (type %u)",
			 eh->e_type);
		return -ENOEXEC;
	}
	if (eh->e_ident[EI_VERSION] != EV_CURRENT ||
	    eh->e_phentsize != sizeof(Elf64_Phdr) || !eh->e_phnum ||
	    eh->e_phnum > ELF_MAX_PHDRS || eh->e_phoff > file_size ||
	    file_size - eh->e_phoff <
		    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr)) {
		snprintf(
			err, errlen,
			"ELF program headers are missing or malformed (%u at offset %llu)",
			eh->e_phnum, (unsigned long long)eh->e_phoff);
		return -ENOEXEC;
	}
	return 0;
}

int elf_check_phdr(const Elf64_Phdr *ph, uint64_t file_size, char *err,
		   size_t errlen)
{
	if (ph->p_filesz > ph->p_memsz || ph->p_offset > file_size ||
	    file_size - ph->p_offset < ph->p_filesz ||
	    ph->p_paddr + ph->p_memsz < ph->p_paddr) {
		snprintf(
			err, errlen,
			"ELF segment at offset %llu (%llu bytes in the file, %llu in memory) is malformed",
			(unsigned long long)ph->p_offset,
			(unsigned long long)ph->p_filesz,
			(unsigned long long)ph->p_memsz);
		return -ENOEXEC;
	}
	return 0;
}

int elf_kernel_read(int fd, struct elf_kernel *k, char *err, size_t errlen)
{
	uint8_t head[sizeof(Elf64_Ehdr)];
	struct stat st;
	Elf64_Ehdr eh;
	ssize_t n;
	unsigned int i;
	int r;

	if (fstat(fd, &st))
		return -errno;
	n = pread(fd, head, sizeof(head), 0);
	if (n < 0)
		return -errno;
	r = elf_check_ehdr(head, n, st.st_size, &eh, err, errlen);
	if (r)
		return r;
	r = pread_full(fd, k->ph, eh.e_phnum * sizeof(Elf64_Phdr), eh.e_phoff);
	if (r)
		return r;
	for (i = 0; i < eh.e_phnum; i++) {
		r = elf_check_phdr(&k->ph[i], st.st_size, err, errlen);
		if (r)
			return r;
	}
	k->phnum = eh.e_phnum;
	k->entry = eh.e_entry;
	return 0;
}

static size_t align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

bool elf_note_find(const uint8_t *notes, size_t len, const char *name,
		   uint32_t type, const uint8_t **desc, uint32_t *descsz)
{
	size_t namesz = strlen(name) + 1, off = 0;

	while (len - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		size_t name_at, desc_at;

		memcpy(&nh, notes + off, sizeof(nh));
		name_at = off + sizeof(nh);
		if (nh.n_namesz > len - name_at)
			return false;
		desc_at = name_at + align4(nh.n_namesz);
		if (desc_at > len || nh.n_descsz > len - desc_at)
			return false;
		if (nh.n_type == type && nh.n_namesz == namesz &&
		    !memcmp(notes + name_at, name, namesz)) {
			*desc = notes + desc_at;
			*descsz = nh.n_descsz;
			return true;
		}
		off = desc_at + align4(nh.n_descsz);
		if (off > len)
			return false;
	}
	return false;
}

uint64_t elf_file_end(const uint8_t *buf, size_t len)
{
	uint64_t end, e;
	Elf64_Ehdr eh;
	unsigned int i;

	if (len < sizeof(eh))
		return len;
	memcpy(&eh, buf, sizeof(eh));
	end = sizeof(eh);
	e = eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr);
	if (eh.e_phoff <= len && e <= len && e > end)
		end = e;
	e = eh.e_shoff + (uint64_t)eh.e_shnum * eh.e_shentsize;
	if (eh.e_shoff <= len && e <= len && e > end)
		end = e;
	for (i = 0; i < eh.e_phnum && eh.e_phoff <= len &&
		    (len - eh.e_phoff) / sizeof(Elf64_Phdr) > i;
	     i++) {
		Elf64_Phdr ph;

		memcpy(&ph, buf + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		e = ph.p_offset + ph.p_filesz;
		if (ph.p_offset <= len && e <= len && e > end)
			end = e;
	}
	return end;
}

static uint32_t rd32(const uint8_t *buf, size_t off)
{
	uint32_t v;

	memcpy(&v, buf + off, 4);
	return v;
}

int x86_relocs_find(const uint8_t *buf, size_t len, uint64_t elf_end,
		    struct x86_relocs *t, char *err, size_t errlen)
{
	size_t pos, *counts[3] = { &t->n32, &t->ninv, &t->n64 };
	unsigned int i;

	memset(t, 0, sizeof(*t));
	if (elf_end >= len)
		return -ENOENT;
	if ((len - elf_end) % 4 || len - elf_end < 12) {
		snprintf(
			err, errlen,
			"%llu bytes after the ELF image are not a relocation table",
			(unsigned long long)(len - elf_end));
		return -ENOEXEC;
	}
	/* From the last entry back: three runs, each ended by a zero. */
	pos = len - 4;
	for (i = 0; i < 3; i++) {
		while (pos > elf_end && rd32(buf, pos)) {
			(*counts[i])++;
			pos -= 4;
		}
		if (rd32(buf, pos) || (i < 2 && pos == elf_end)) {
			snprintf(
				err, errlen,
				"the relocation table after the ELF image is malformed");
			return -ENOEXEC;
		}
		if (i < 2)
			pos -= 4;
	}
	if (pos != elf_end) {
		snprintf(
			err, errlen,
			"the relocation table does not start where the ELF image ends");
		return -ENOEXEC;
	}
	t->buf = buf;
	t->start = elf_end;
	return 0;
}

/* The field an entry names, as an offset into the image, or -1. */
static int64_t reloc_field(uint32_t entry, uint64_t lo, uint64_t size,
			   unsigned int width)
{
	uint64_t va = (uint64_t)(int64_t)(int32_t)entry, pa;

	if (va < X86_START_KERNEL_MAP)
		return -1;
	pa = va - X86_START_KERNEL_MAP;
	if (pa < lo || pa - lo > size || size - (pa - lo) < width)
		return -1;
	return pa - lo;
}

int x86_relocs_apply(const struct x86_relocs *t, uint8_t *img, uint64_t lo,
		     uint64_t size, uint64_t delta, bool check_only, char *err,
		     size_t errlen)
{
	static const char *const kinds[3] = { "64-bit", "inverse 32-bit",
					      "32-bit" };
	size_t n[3] = { t->n64, t->ninv, t->n32 }, off = t->start + 4, i;
	unsigned int k;

	for (k = 0; k < 3; k++, off += 4) {
		for (i = 0; i < n[k]; i++, off += 4) {
			uint32_t e = rd32(t->buf, off);
			int64_t f = reloc_field(e, lo, size, k ? 4 : 8);
			uint64_t v64;
			uint32_t v32;

			if (f < 0) {
				snprintf(
					err, errlen,
					"a %s relocation (0x%08x) is outside the kernel",
					kinds[k], e);
				return -ENOEXEC;
			}
			if (check_only)
				continue;
			if (k == 0) {
				memcpy(&v64, img + f, 8);
				v64 += delta;
				memcpy(img + f, &v64, 8);
			} else {
				memcpy(&v32, img + f, 4);
				v32 = k == 1 ? v32 - (uint32_t)delta :
					       v32 + (uint32_t)delta;
				memcpy(img + f, &v32, 4);
			}
		}
	}
	return 0;
}
