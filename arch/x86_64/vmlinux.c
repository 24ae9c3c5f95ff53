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
