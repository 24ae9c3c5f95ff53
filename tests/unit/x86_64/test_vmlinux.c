// SPDX-License-Identifier: MIT
/* The vmlinux reader: headers, program headers and notes, hostile ones too. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmlinux.h"
#include "../unit.h"

#define PVH_TYPE 18

/* A small vmlinux: header, two program headers (load, note), the note. */
struct image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	Elf64_Nhdr nh;
	char name[4];
	uint32_t desc;
	uint8_t code[64];
};

static void make_image(struct image *im)
{
	memset(im, 0, sizeof(*im));
	memcpy(im->eh.e_ident, ELFMAG, SELFMAG);
	im->eh.e_ident[EI_CLASS] = ELFCLASS64;
	im->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	im->eh.e_ident[EI_VERSION] = EV_CURRENT;
	im->eh.e_type = ET_EXEC;
	im->eh.e_machine = EM_X86_64;
	im->eh.e_version = EV_CURRENT;
	im->eh.e_entry = 0x1000000;
	im->eh.e_phoff = offsetof(struct image, ph);
	im->eh.e_ehsize = sizeof(Elf64_Ehdr);
	im->eh.e_phentsize = sizeof(Elf64_Phdr);
	im->eh.e_phnum = 2;
	im->ph[0].p_type = PT_LOAD;
	im->ph[0].p_offset = offsetof(struct image, code);
	im->ph[0].p_paddr = 0x1000000;
	im->ph[0].p_filesz = sizeof(im->code);
	im->ph[0].p_memsz = 4096;
	im->ph[1].p_type = PT_NOTE;
	im->ph[1].p_offset = offsetof(struct image, nh);
	im->ph[1].p_filesz = sizeof(Elf64_Nhdr) + 8;
	im->ph[1].p_memsz = im->ph[1].p_filesz;
	im->nh.n_namesz = 4;
	im->nh.n_descsz = 4;
	im->nh.n_type = PVH_TYPE;
	memcpy(im->name, "Xen", 4);
	im->desc = 0x1000200;
}

static int ehdr(const struct image *im, size_t len, uint64_t size)
{
	Elf64_Ehdr eh;
	char err[256] = "";
	int r = elf_check_ehdr((const uint8_t *)im, len, size, &eh, err,
			       sizeof(err));

	if (r)
		CU_ASSERT(err[0] != 0);
	return r;
}

static void test_header(void)
{
	struct image im;

	make_image(&im);
	CU_ASSERT_EQUAL(ehdr(&im, sizeof(im), sizeof(im)), 0);
	/* Shorter than a header, or not ELF at all. */
	CU_ASSERT_EQUAL(ehdr(&im, sizeof(Elf64_Ehdr) - 1, sizeof(im)),
			-ENOEXEC);
	im.eh.e_ident[1] = 'F';
	CU_ASSERT_EQUAL(ehdr(&im, sizeof(im), sizeof(im)), -ENOEXEC);
	make_image(&im);
	im.eh.e_ident[EI_CLASS] = ELFCLASS32;
	CU_ASSERT_EQUAL(ehdr(&im, sizeof(im), sizeof(im)), -ENOEXEC);
	make_image(&im);
	im.eh.e_ident[EI_DATA] = ELFDATA2MSB;
	CU_ASSERT_EQUAL(ehdr(&im, sizeof(im), sizeof(im)), -ENOEXEC);
	make_image(&im);
	im.eh.e_machine = EM_AARCH64;
	CU_ASSERT_EQUAL(ehdr(&im, sizeof(im), sizeof(im)), -ENOEXEC);
	make_image(&im);
	im.eh.e_type = ET_DYN;
	CU_ASSERT_EQUAL(ehdr(&im, sizeof(im), sizeof(im)), -ENOEXEC);
}

static void test_phdr_table(void)
{
	struct image im;

	make_image(&im);
	im.eh.e_phentsize = sizeof(Elf64_Phdr) - 8;
	CU_ASSERT_EQUAL(ehdr(&im, sizeof(im), sizeof(im)), -ENOEXEC);
	make_image(&im);
	im.eh.e_phnum = 0;
	CU_ASSERT_EQUAL(ehdr(&im, sizeof(im), sizeof(im)), -ENOEXEC);
	make_image(&im);
	im.eh.e_phnum = ELF_MAX_PHDRS + 1;
	CU_ASSERT_EQUAL(ehdr(&im, sizeof(im), 1 << 20), -ENOEXEC);
	/* The table runs past the end of the file. */
	make_image(&im);
	CU_ASSERT_EQUAL(ehdr(&im, sizeof(im),
			     offsetof(struct image, ph) + sizeof(im.ph) - 1),
			-ENOEXEC);
	/* An offset that would wrap around when the table's size is added. */
	make_image(&im);
	im.eh.e_phoff = UINT64_MAX - 8;
	CU_ASSERT_EQUAL(ehdr(&im, sizeof(im), sizeof(im)), -ENOEXEC);
	im.eh.e_phoff = sizeof(im) + 1;
	CU_ASSERT_EQUAL(ehdr(&im, sizeof(im), sizeof(im)), -ENOEXEC);
}

static int phdr(const Elf64_Phdr *ph, uint64_t size)
{
	char err[256] = "";
	int r = elf_check_phdr(ph, size, err, sizeof(err));

	if (r)
		CU_ASSERT(strstr(err, "malformed") != NULL);
	return r;
}

static void test_segments(void)
{
	struct image im;
	Elf64_Phdr p;

	make_image(&im);
	CU_ASSERT_EQUAL(phdr(&im.ph[0], sizeof(im)), 0);
	CU_ASSERT_EQUAL(phdr(&im.ph[1], sizeof(im)), 0);
	p = im.ph[0];
	p.p_memsz = p.p_filesz - 1;
	CU_ASSERT_EQUAL(phdr(&p, sizeof(im)), -ENOEXEC);
	p = im.ph[0];
	CU_ASSERT_EQUAL(phdr(&p, p.p_offset + p.p_filesz - 1), -ENOEXEC);
	p.p_offset = UINT64_MAX - 16;
	CU_ASSERT_EQUAL(phdr(&p, sizeof(im)), -ENOEXEC);
	p = im.ph[0];
	p.p_filesz = UINT64_MAX;
	p.p_memsz = UINT64_MAX;
	CU_ASSERT_EQUAL(phdr(&p, sizeof(im)), -ENOEXEC);
	p = im.ph[0];
	p.p_paddr = UINT64_MAX - 100;
	CU_ASSERT_EQUAL(phdr(&p, sizeof(im)), -ENOEXEC);
}

/* Appends one note (4-byte aligned) to buf at *off. */
static void put_note(uint8_t *buf, size_t *off, const char *name, uint32_t type,
		     const void *desc, uint32_t descsz)
{
	Elf64_Nhdr nh = { (uint32_t)strlen(name) + 1, descsz, type };

	memcpy(buf + *off, &nh, sizeof(nh));
	*off += sizeof(nh);
	memcpy(buf + *off, name, nh.n_namesz);
	*off += (nh.n_namesz + 3) & ~3u;
	memcpy(buf + *off, desc, descsz);
	*off += (descsz + 3) & ~3u;
}

static void test_notes(void)
{
	uint8_t buf[256] = { 0 };
	uint64_t entry = 0x1234567;
	const uint8_t *desc = NULL;
	uint32_t descsz = 0, build_id[5] = { 1, 2, 3, 4, 5 };
	size_t len = 0;
	Elf64_Nhdr *nh;

	put_note(buf, &len, "GNU", 3, build_id, sizeof(build_id));
	put_note(buf, &len, "Xenon", PVH_TYPE, &entry, 4);
	put_note(buf, &len, "Xen", 17, &entry, 8);
	put_note(buf, &len, "Xen", PVH_TYPE, &entry, 8);
	CU_ASSERT_TRUE(
		elf_note_find(buf, len, "Xen", PVH_TYPE, &desc, &descsz));
	CU_ASSERT_EQUAL(descsz, 8);
	CU_ASSERT_EQUAL(desc, buf + len - 8);
	CU_ASSERT_FALSE(elf_note_find(buf, len, "Xen", 99, &desc, &descsz));
	/* Cut short: the last note's descriptor no longer fits. */
	CU_ASSERT_FALSE(
		elf_note_find(buf, len - 1, "Xen", PVH_TYPE, &desc, &descsz));
	CU_ASSERT_FALSE(elf_note_find(buf, 0, "Xen", PVH_TYPE, &desc, &descsz));
	CU_ASSERT_FALSE(elf_note_find(buf, sizeof(Elf64_Nhdr) - 1, "GNU", 3,
				      &desc, &descsz));
	/* Sizes that would wrap an offset: the walk stops, nothing found. */
	nh = (Elf64_Nhdr *)buf;
	nh->n_namesz = UINT32_MAX;
	CU_ASSERT_FALSE(
		elf_note_find(buf, len, "Xen", PVH_TYPE, &desc, &descsz));
	nh->n_namesz = 4;
	nh->n_descsz = UINT32_MAX - 2;
	CU_ASSERT_FALSE(
		elf_note_find(buf, len, "Xen", PVH_TYPE, &desc, &descsz));
}

/* Writes len bytes of im to a temporary file; returns its fd. */
static int image_file(const struct image *im, size_t len)
{
	char path[] = "/tmp/kiln-unit-vmlinux-XXXXXX";
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	unlink(path);
	CU_ASSERT_FATAL(write(fd, im, len) == (ssize_t)len);
	return fd;
}

static void test_read_file(void)
{
	struct elf_kernel *k = malloc(sizeof(*k));
	char err[256];
	struct image im;
	int fd;

	CU_ASSERT_FATAL(k != NULL);
	make_image(&im);
	fd = image_file(&im, sizeof(im));
	CU_ASSERT_EQUAL(elf_kernel_read(fd, k, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(k->phnum, 2);
	CU_ASSERT_EQUAL(k->entry, 0x1000000);
	CU_ASSERT_EQUAL(k->ph[0].p_type, PT_LOAD);
	CU_ASSERT_EQUAL(k->ph[1].p_type, PT_NOTE);
	close(fd);
	/* The loadable segment lies past the end of a truncated file. */
	fd = image_file(&im, offsetof(struct image, code) + 10);
	CU_ASSERT_EQUAL(elf_kernel_read(fd, k, err, sizeof(err)), -ENOEXEC);
	CU_ASSERT(strstr(err, "malformed") != NULL);
	close(fd);
	/* Not even a whole header. */
	fd = image_file(&im, 20);
	CU_ASSERT_EQUAL(elf_kernel_read(fd, k, err, sizeof(err)), -ENOEXEC);
	close(fd);
	free(k);
}

/* --- The relocation table after the image (KASLR) ----------------------- */

#define KMAP 0xffffffff80000000ULL

/*
 * A vmlinux whose one segment (linked at 16 MiB, kernel map) holds a
 * 64-bit pointer at +0x10, a 32-bit one at +0x20 and an inverse one at
 * +0x30, then the table naming them: 0, 64-bit, 0, inverse, 0, 32-bit.
 */
struct rimage {
	struct image im;
	uint32_t table[6];
};

static void make_rimage(struct rimage *r)
{
	uint64_t p64 = KMAP + 0x1000040;
	uint32_t p32 = 0x81000050, inv = 0x7effffb0;

	make_image(&r->im);
	r->im.ph[0].p_vaddr = KMAP + 0x1000000;
	/* To the struct's end: the table follows the image's last byte. */
	r->im.ph[0].p_filesz = sizeof(r->im) - offsetof(struct image, code);
	r->im.ph[0].p_memsz = r->im.ph[0].p_filesz;
	memcpy(r->im.code + 0x10, &p64, 8);
	memcpy(r->im.code + 0x20, &p32, 4);
	memcpy(r->im.code + 0x30, &inv, 4);
	r->table[0] = 0;
	r->table[1] = (uint32_t)(KMAP + 0x1000010);
	r->table[2] = 0;
	r->table[3] = (uint32_t)(KMAP + 0x1000030);
	r->table[4] = 0;
	r->table[5] = (uint32_t)(KMAP + 0x1000020);
}

static int rfind(const struct rimage *r, size_t len, struct x86_relocs *t)
{
	char err[256] = "";
	int rc = x86_relocs_find((const uint8_t *)r, len,
				 elf_file_end((const uint8_t *)r, len), t, err,
				 sizeof(err));

	if (rc && rc != -ENOENT)
		CU_ASSERT(err[0] != 0);
	return rc;
}

static void test_relocs_find(void)
{
	struct x86_relocs t;
	struct rimage r;

	make_rimage(&r);
	CU_ASSERT_EQUAL(elf_file_end((uint8_t *)&r.im, sizeof(r.im)),
			sizeof(r.im));
	CU_ASSERT_EQUAL(rfind(&r, sizeof(r), &t), 0);
	CU_ASSERT_EQUAL(t.n64, 1);
	CU_ASSERT_EQUAL(t.ninv, 1);
	CU_ASSERT_EQUAL(t.n32, 1);
	CU_ASSERT_EQUAL(t.start, sizeof(r.im));
	/* Nothing after the image: no table, not an error. */
	CU_ASSERT_EQUAL(rfind(&r, sizeof(r.im), &t), -ENOENT);
	/* Not a multiple of 4, too short, no leading zero, a missing run. */
	CU_ASSERT_EQUAL(rfind(&r, sizeof(r) - 2, &t), -ENOEXEC);
	CU_ASSERT_EQUAL(rfind(&r, sizeof(r.im) + 8, &t), -ENOEXEC);
	r.table[0] = 7;
	CU_ASSERT_EQUAL(rfind(&r, sizeof(r), &t), -ENOEXEC);
	make_rimage(&r);
	r.table[2] = 5;
	r.table[4] = 5;
	CU_ASSERT_EQUAL(rfind(&r, sizeof(r), &t), -ENOEXEC);
	/* Empty runs are fine: three zeros. */
	memset(r.table, 0, 12);
	CU_ASSERT_EQUAL(rfind(&r, sizeof(r.im) + 12, &t), 0);
	CU_ASSERT_EQUAL(t.n64 + t.ninv + t.n32, 0);
}

static void test_relocs_apply(void)
{
	uint64_t delta = 0x2a00000, p64;
	uint32_t p32, inv;
	struct x86_relocs t;
	struct rimage r;
	uint8_t img[64];
	char err[256];

	make_rimage(&r);
	CU_ASSERT_EQUAL_FATAL(rfind(&r, sizeof(r), &t), 0);
	memcpy(img, r.im.code, sizeof(img));
	/* The segment is 64 bytes linked at 16 MiB: fields inside it. */
	CU_ASSERT_EQUAL(x86_relocs_apply(&t, NULL, 0x1000000, sizeof(img),
					 delta, true, err, sizeof(err)),
			0);
	CU_ASSERT_EQUAL(x86_relocs_apply(&t, img, 0x1000000, sizeof(img), delta,
					 false, err, sizeof(err)),
			0);
	memcpy(&p64, img + 0x10, 8);
	memcpy(&p32, img + 0x20, 4);
	memcpy(&inv, img + 0x30, 4);
	CU_ASSERT_EQUAL(p64, KMAP + 0x1000040 + delta);
	CU_ASSERT_EQUAL(p32, 0x81000050 + (uint32_t)delta);
	CU_ASSERT_EQUAL(inv, 0x7effffb0 - (uint32_t)delta);

	/* A field past the image, one straddling its end, one below it. */
	r.table[1] = (uint32_t)(KMAP + 0x1000040);
	CU_ASSERT_EQUAL(rfind(&r, sizeof(r), &t), 0);
	CU_ASSERT_EQUAL(x86_relocs_apply(&t, NULL, 0x1000000, sizeof(img),
					 delta, true, err, sizeof(err)),
			-ENOEXEC);
	CU_ASSERT(strstr(err, "64-bit") != NULL);
	make_rimage(&r);
	r.table[5] = (uint32_t)(KMAP + 0x100003e);
	CU_ASSERT_EQUAL(rfind(&r, sizeof(r), &t), 0);
	CU_ASSERT_EQUAL(x86_relocs_apply(&t, NULL, 0x1000000, sizeof(img),
					 delta, true, err, sizeof(err)),
			-ENOEXEC);
	make_rimage(&r);
	r.table[3] = 0x00fffff0; /* not a kernel-map address at all */
	CU_ASSERT_EQUAL(rfind(&r, sizeof(r), &t), 0);
	CU_ASSERT_EQUAL(x86_relocs_apply(&t, NULL, 0x1000000, sizeof(img),
					 delta, true, err, sizeof(err)),
			-ENOEXEC);
	CU_ASSERT(strstr(err, "inverse") != NULL);
}

void suite_vmlinux(void)
{
	static const CU_TestInfo tests[] = {
		{ "ELF header", test_header },
		{ "program header table", test_phdr_table },
		{ "segments", test_segments },
		{ "notes", test_notes },
		{ "reading a file", test_read_file },
		{ "relocation table found or refused", test_relocs_find },
		{ "relocations applied, out-of-range refused",
		  test_relocs_apply },
		CU_TEST_INFO_NULL,
	};
	unit_add_suite("vmlinux reader", tests);
}
