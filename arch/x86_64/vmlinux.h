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

#endif
