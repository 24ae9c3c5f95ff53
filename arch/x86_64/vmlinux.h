/* SPDX-License-Identifier: MIT */
#ifndef KILN_X86_VMLINUX_H
#define KILN_X86_VMLINUX_H

/*
 * A small reader for the one kind of ELF file kiln loads: a 64-bit
 * little-endian x86_64 vmlinux (ET_EXEC). It checks every offset and size
 * against the file before anything is read, so a truncated or crafted
 * file is refused with a reason instead of being trusted.
 */
#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_PHDRS 64 /* a vmlinux has about 5 */
#define ELF_MAX_NOTES (64 * 1024) /* the most bytes of one PT_NOTE read */

struct elf_kernel {
	uint64_t entry;
	unsigned int phnum;
	Elf64_Phdr ph[ELF_MAX_PHDRS];
};

/*
 * Checks an ELF header (buf: the file's first len bytes; file_size: the
 * whole file's). Returns 0, or -ENOEXEC with err saying why.
 */
int elf_check_ehdr(const uint8_t *buf, size_t len, uint64_t file_size,
		   Elf64_Ehdr *eh, char *err, size_t errlen);

/* Checks one program header against the file. 0 or -ENOEXEC, err says. */
int elf_check_phdr(const Elf64_Phdr *ph, uint64_t file_size, char *err,
		   size_t errlen);

/*
 * Reads and checks the header and every program header of the file open
 * on fd. 0, -ENOEXEC (err says why) or a negative errno from reading.
 */
int elf_kernel_read(int fd, struct elf_kernel *k, char *err, size_t errlen);

/*
 * Looks through the notes of one PT_NOTE segment (len bytes) for the note
 * of the given owner name and type; sets desc and descsz and returns true
 * when found. Stops at the first malformed note.
 */
bool elf_note_find(const uint8_t *notes, size_t len, const char *name,
		   uint32_t type, const uint8_t **desc, uint32_t *descsz);

/*
 * Where the ELF file in buf[0..len) ends: past its headers, program
 * segments and section header table (whatever the file holds after that
 * is not the ELF image's).
 */
uint64_t elf_file_end(const uint8_t *buf, size_t len);

/*
 * The relocation table the kernel's build appends after vmlinux in a
 * compressed kernel (arch/x86/tools/relocs, what the in-kernel
 * decompressor applies for KASLR). Read from the end backwards: 32-bit
 * relocations, a zero, inverse 32-bit ones, a zero, 64-bit ones, and the
 * zero that starts the table. Each entry is the kernel virtual address
 * of a field to adjust, truncated to 32 bits (sign-extended to use).
 */
#define X86_START_KERNEL_MAP 0xffffffff80000000ULL
#define X86_KERNEL_IMAGE_SIZE (1ULL << 30) /* with KASLR */

struct x86_relocs {
	const uint8_t *buf; /* the whole image */
	size_t start; /* offset of the table's first (zero) entry */
	size_t n64, ninv, n32;
};

/*
 * Finds the table after the ELF image that ends at elf_end in
 * buf[0..len): 0, -ENOENT when there is none, -ENOEXEC (err says why)
 * when the bytes there are not one.
 */
int x86_relocs_find(const uint8_t *buf, size_t len, uint64_t elf_end,
		    struct x86_relocs *t, char *err, size_t errlen);

/*
 * Applies the table to a kernel whose link-time physical range
 * [lo, lo + size) is at img in host memory, moved delta bytes up in
 * virtual memory. Every field must lie in that range; with check_only,
 * nothing is written. Returns 0, or -ENOEXEC with err naming the entry.
 */
int x86_relocs_apply(const struct x86_relocs *t, uint8_t *img, uint64_t lo,
		     uint64_t size, uint64_t delta, bool check_only, char *err,
		     size_t errlen);

#endif
