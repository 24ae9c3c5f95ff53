// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <asm/e820.h>

#include "boot.h"
#include "layout.h"
#include "../unit.h"

#define HDR(f) offsetof(struct boot_params, hdr.f)

static void put16(uint8_t *b, size_t off, uint16_t v)
{
	memcpy(b + off, &v, 2);
}

static void put32(uint8_t *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, 4);
}

/* A header like Debian 12's kernel has. */
static void make_header(uint8_t *b)
{
	uint64_t pref = 0x1000000;

	memset(b, 0, 1024);
	b[HDR(setup_sects)] = 39;
	put16(b, HDR(boot_flag), 0xaa55);
	b[0x200] = 0xeb;
	b[0x201] = 0x6a; /* the header ends at 0x26c */
	put32(b, HDR(header), 0x53726448);
	put16(b, HDR(version), 0x020f);
	b[HDR(loadflags)] = LOADED_HIGH;
	put32(b, HDR(initrd_addr_max), 0x7fffffff);
	put32(b, HDR(kernel_alignment), 0x200000);
	b[HDR(relocatable_kernel)] = 1;
	put16(b, HDR(xloadflags), XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G);
	put32(b, HDR(cmdline_size), 2047);
	memcpy(b + HDR(pref_address), &pref, 8);
	put32(b, HDR(init_size), 0x3f98000);
}

/* An 8 MiB bzImage with header b, into info; err gets the reason. */
static int parse(const uint8_t *b, struct bzimage_info *info, char *err)
{
	err[0] = 0;
	return bzimage_parse(b, 1024, 8 << 20, info, err, 256);
}

/* Where info's kernel goes with RAM up to ram_end; err gets the reason. */
static int load_addr(const struct bzimage_info *info, uint64_t ram_end,
		     uint64_t *load, char *err)
{
	return bzimage_load_addr(info, ram_end, load, err, 256);
}

static void test_bzimage_valid(void)
{
	struct bzimage_info info;
	uint8_t b[1024];
	char err[256];

	make_header(b);
	CU_ASSERT_EQUAL(parse(b, &info, err), 0);
	CU_ASSERT_EQUAL(info.version, 0x020f);
	CU_ASSERT_EQUAL(info.setup_size, 40 * 512);
	CU_ASSERT_EQUAL(info.payload_size, (8 << 20) - 40 * 512);
	CU_ASSERT_EQUAL(info.init_size, 0x3f98000);
	CU_ASSERT_EQUAL(info.pref_address, 0x1000000);
	CU_ASSERT_EQUAL(info.cmdline_size, 2047);
	CU_ASSERT_EQUAL(info.initrd_addr_max, 0x7fffffff);
	CU_ASSERT_EQUAL(info.hdr_len, 0x26c - 0x1f1);

	/* setup_sects 0 means 4. */
	b[HDR(setup_sects)] = 0;
	CU_ASSERT_EQUAL(parse(b, &info, err), 0);
	CU_ASSERT_EQUAL(info.setup_size, 5 * 512);
}

static int parse_err(uint8_t *b, size_t len, uint64_t fsize, char *err)
{
	struct bzimage_info info;

	err[0] = 0;
	return bzimage_parse(b, len, fsize, &info, err, 256);
}

static void test_bzimage_rejects(void)
{
	uint8_t b[1024];
	char err[256];

	make_header(b);
	CU_ASSERT_EQUAL(parse_err(b, 0x100, 8 << 20, err), -ENOEXEC);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "too short"));
	/* Truncated: the file ends inside the setup code. */
	CU_ASSERT_EQUAL(parse_err(b, sizeof(b), 4096, err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "truncated"));

	make_header(b);
	put32(b, HDR(header), 0x12345678);
	CU_ASSERT_EQUAL(parse_err(b, sizeof(b), 8 << 20, err), -ENOEXEC);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a Linux kernel"));

	make_header(b);
	put16(b, HDR(boot_flag), 0);
	CU_ASSERT_EQUAL(parse_err(b, sizeof(b), 8 << 20, err), -ENOEXEC);

	make_header(b);
	put16(b, HDR(version), 0x020a);
	CU_ASSERT_EQUAL(parse_err(b, sizeof(b), 8 << 20, err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "2.10 is too old"));

	make_header(b);
	put16(b, HDR(xloadflags), 0);
	CU_ASSERT_EQUAL(parse_err(b, sizeof(b), 8 << 20, err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "64-bit"));

	make_header(b);
	b[HDR(loadflags)] = 0;
	CU_ASSERT_EQUAL(parse_err(b, sizeof(b), 8 << 20, err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "zImage"));

	make_header(b);
	put32(b, HDR(kernel_alignment), 0x300000);
	CU_ASSERT_EQUAL(parse_err(b, sizeof(b), 8 << 20, err), -EINVAL);
}

static void test_bzimage_payload(void)
{
	struct bzimage_info info;
	uint64_t off, len;
	uint8_t b[1024];
	char err[256];

	make_header(b);
	put32(b, HDR(payload_offset), 0x2cc);
	put32(b, HDR(payload_length), 0x7bf000);
	CU_ASSERT_EQUAL_FATAL(parse(b, &info, err), 0);
	CU_ASSERT_EQUAL(bzimage_payload(&info, &off, &len, err, 256), 0);
	CU_ASSERT_EQUAL(off, 40 * 512 + 0x2cc);
	CU_ASSERT_EQUAL(len, 0x7bf000);
	/* Past the end of the file, zero, and a sum that wraps. */
	put32(b, HDR(payload_length), (8 << 20) - 40 * 512 - 0x2cc + 1);
	CU_ASSERT_EQUAL(parse(b, &info, err), 0);
	CU_ASSERT_EQUAL(bzimage_payload(&info, &off, &len, err, 256), -ENOEXEC);
	CU_ASSERT(strstr(err, "past the end") != NULL);
	put32(b, HDR(payload_length), 0);
	CU_ASSERT_EQUAL(parse(b, &info, err), 0);
	CU_ASSERT_EQUAL(bzimage_payload(&info, &off, &len, err, 256), -ENOEXEC);
	put32(b, HDR(payload_offset), 0xfffffff0);
	put32(b, HDR(payload_length), 0x20);
	CU_ASSERT_EQUAL(parse(b, &info, err), 0);
	CU_ASSERT_EQUAL(bzimage_payload(&info, &off, &len, err, 256), -ENOEXEC);
	put32(b, HDR(payload_offset), 0x10);
	put32(b, HDR(payload_length), 0xfffffff8);
	CU_ASSERT_EQUAL(parse(b, &info, err), 0);
	CU_ASSERT_EQUAL(bzimage_payload(&info, &off, &len, err, 256), -ENOEXEC);
}

static void test_kaslr_pick(void)
{
	const uint64_t lo = 0x1000000, size = 58 << 20, al = 0x200000;
	uint64_t phys, virt, r;
	bool moved = false;

	for (r = 0; r < 2000; r += 7) {
		CU_ASSERT_FATAL(x86_kaslr_pick(
			lo, size, 256 << 20, al, r * 0x9e3779b97f4a7c15ULL,
			r * 0xc2b2ae3d27d4eb4fULL, &phys, &virt));
		/* Aligned, inside RAM below the top, inside the 1 GiB map. */
		CU_ASSERT(phys >= lo && phys + size <= 256 << 20);
		CU_ASSERT(!(phys & (al - 1)) && !(virt & (al - 1)));
		CU_ASSERT(lo + virt + size <= 1ULL << 30);
		moved |= phys != lo && virt != 0;
	}
	CU_ASSERT(moved);
	/* The top slot is reachable, and no room means the link address. */
	CU_ASSERT(x86_kaslr_pick(lo, size, lo + size + al, al, 1, 0, &phys,
				 &virt));
	CU_ASSERT_EQUAL(phys, lo + al);
	CU_ASSERT_FALSE(x86_kaslr_pick(lo, size, lo + size - 1, al, 1, 1, &phys,
				       &virt));
	CU_ASSERT_EQUAL(phys, lo);
	CU_ASSERT_EQUAL(virt, 0);
	/* A bad alignment, or a kernel bigger than the kernel map. */
	CU_ASSERT_FALSE(x86_kaslr_pick(lo, size, 1ULL << 32, 0x300000, 1, 1,
				       &phys, &virt));
	CU_ASSERT_FALSE(x86_kaslr_pick(lo, 1ULL << 30, 1ULL << 32, al, 1, 1,
				       &phys, &virt));
}

static uint64_t e820_sum(const struct boot_e820_entry *e, int n, uint32_t type)
{
	uint64_t s = 0;
	int i;

	for (i = 0; i < n; i++)
		if (e[i].type == type)
			s += e[i].size;
	return s;
}

/* Where the kernel goes: relocatable or not, fitting in RAM or not. */
static void test_bzimage_load_addr(void)
{
	struct bzimage_info info;
	uint64_t load = 0, pref;
	uint8_t b[1024];
	char err[256];

	make_header(b);
	CU_ASSERT_EQUAL(parse(b, &info, err), 0);
	CU_ASSERT_TRUE(info.relocatable);
	CU_ASSERT_EQUAL(load_addr(&info, 256 << 20, &load, err), 0);
	CU_ASSERT_EQUAL(load, 0x1000000);

	/* A relocatable kernel that prefers a bad address gets 16 MiB. */
	info.pref_address = 0x80000;
	CU_ASSERT_EQUAL(load_addr(&info, 256 << 20, &load, err), 0);
	CU_ASSERT_EQUAL(load, 0x1000000);
	info.pref_address = 0x2100000; /* not 2 MiB aligned */
	CU_ASSERT_EQUAL(load_addr(&info, 256 << 20, &load, err), 0);
	CU_ASSERT_EQUAL(load, 0x1000000);

	/* Not relocatable (tinyconfig): parsed, and loaded where linked. */
	make_header(b);
	b[HDR(relocatable_kernel)] = 0;
	pref = 0x2100000;
	memcpy(b + HDR(pref_address), &pref, 8);
	CU_ASSERT_EQUAL(parse(b, &info, err), 0);
	CU_ASSERT_FALSE(info.relocatable);
	CU_ASSERT_EQUAL(load_addr(&info, 256 << 20, &load, err), 0);
	CU_ASSERT_EQUAL(load, 0x2100000);

	/* ... and it must fit from there: 0x2100000 + init_size. */
	load = 0;
	CU_ASSERT_EQUAL(load_addr(&info, 0x2100000 + 0x3f98000 - 1, &load, err),
			-ENOMEM);
	CU_ASSERT_EQUAL(load, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not relocatable"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--mem"));
	CU_ASSERT_EQUAL(load_addr(&info, 0x2100000 + 0x3f98000, &load, err), 0);
	/* An address past the end of RAM, and one that would wrap. */
	info.pref_address = 1ULL << 40;
	CU_ASSERT_EQUAL(load_addr(&info, 256 << 20, &load, err), -ENOMEM);
	info.pref_address = UINT64_MAX - 0x1000;
	CU_ASSERT_EQUAL(load_addr(&info, UINT64_MAX - 1, &load, err), -ENOMEM);

	/* Below 1 MiB it would overwrite the boot data: refused. */
	info.pref_address = 0x10000;
	CU_ASSERT_EQUAL(load_addr(&info, 256 << 20, &load, err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "below 1 MiB"));

	/* A relocatable kernel too big for RAM. */
	make_header(b);
	CU_ASSERT_EQUAL(parse(b, &info, err), 0);
	CU_ASSERT_EQUAL(load_addr(&info, 64 << 20, &load, err), -ENOMEM);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "at least 96 MiB"));
}

static void check_e820_sorted(const struct boot_e820_entry *e, int n)
{
	int i;

	for (i = 1; i < n; i++)
		CU_ASSERT_TRUE(e[i].addr >= e[i - 1].addr + e[i - 1].size);
}

static void test_e820_small(void)
{
	struct boot_e820_entry e[8];
	int n = x86_build_e820(256 << 20, e, 8);

	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_EQUAL(e[0].addr, 0);
	CU_ASSERT_EQUAL(e[0].size, X86_EBDA_START);
	CU_ASSERT_EQUAL(e[0].type, E820_RAM);
	CU_ASSERT_EQUAL(e[1].addr, X86_EBDA_START);
	CU_ASSERT_EQUAL(e[1].type, E820_RESERVED);
	CU_ASSERT_EQUAL(e[2].addr, 0x100000);
	CU_ASSERT_EQUAL(e[2].addr + e[2].size, 256 << 20);
	/* Every byte of RAM is either usable or the reserved low area. */
	CU_ASSERT_EQUAL(e820_sum(e, n, E820_RAM) + e[1].size, 256 << 20);
	check_e820_sorted(e, n);
}

static void test_e820_at_hole(void)
{
	struct boot_e820_entry e[8];
	int n = x86_build_e820(3ULL << 30, e, 8);

	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_EQUAL(e[2].addr + e[2].size, 3ULL << 30);
}

static void test_e820_across_hole(void)
{
	struct boot_e820_entry e[8];
	uint64_t mem = 3500ULL << 20;
	int n = x86_build_e820(mem, e, 8);

	CU_ASSERT_EQUAL_FATAL(n, 4);
	CU_ASSERT_EQUAL(e[2].addr + e[2].size, X86_MMIO_HOLE_START);
	CU_ASSERT_EQUAL(e[3].addr, 0x100000000ULL);
	CU_ASSERT_EQUAL(e[3].addr + e[3].size - 1, 0x11abfffffULL);
	CU_ASSERT_EQUAL(e[3].type, E820_RAM);
	CU_ASSERT_EQUAL(e820_sum(e, n, E820_RAM) + e[1].size, mem);
	check_e820_sorted(e, n);

	n = x86_build_e820(64ULL << 30, e, 8);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	CU_ASSERT_EQUAL(e[3].addr + e[3].size, 65ULL << 30);
	CU_ASSERT_EQUAL(x86_build_e820(1 << 20, e, 8), -EINVAL);
	CU_ASSERT_EQUAL(x86_build_e820(256 << 20, e, 2), -EINVAL);
}

static void test_gdt_roundtrip(void)
{
	struct kvm_segment s;
	uint64_t code64 = gdt_entry(0xa09b, 0, 0xfffff);

	CU_ASSERT_EQUAL(code64, 0x00af9b000000ffffULL);
	CU_ASSERT_EQUAL(gdt_entry(0xc093, 0, 0xfffff), 0x00cf93000000ffffULL);
	gdt_to_kvm_segment(code64, 0x10, &s);
	CU_ASSERT_EQUAL(s.base, 0);
	CU_ASSERT_EQUAL(s.limit, 0xffffffff);
	CU_ASSERT_EQUAL(s.selector, 0x10);
	CU_ASSERT_EQUAL(s.type, 0xb);
	CU_ASSERT_EQUAL(s.present, 1);
	CU_ASSERT_EQUAL(s.l, 1);
	CU_ASSERT_EQUAL(s.db, 0);
	CU_ASSERT_EQUAL(s.s, 1);
	CU_ASSERT_EQUAL(s.g, 1);
	CU_ASSERT_EQUAL(s.unusable, 0);
	gdt_to_kvm_segment(gdt_entry(0x008b, 0x12345678, 0x67), 0x20, &s);
	CU_ASSERT_EQUAL(s.base, 0x12345678);
	CU_ASSERT_EQUAL(s.limit, 0x67);
	CU_ASSERT_EQUAL(s.g, 0);
	CU_ASSERT_EQUAL(s.s, 0);
	gdt_to_kvm_segment(0, 0, &s);
	CU_ASSERT_EQUAL(s.unusable, 1);
}

void suite_x86_boot(void)
{
	static const CU_TestInfo tests[] = {
		{ "bzImage header valid", test_bzimage_valid },
		{ "bzImage header rejected", test_bzimage_rejects },
		{ "bzImage load address", test_bzimage_load_addr },
		{ "bzImage payload bounds", test_bzimage_payload },
		{ "KASLR slots", test_kaslr_pick },
		{ "e820 256M", test_e820_small },
		{ "e820 3G", test_e820_at_hole },
		{ "e820 across the MMIO hole", test_e820_across_hole },
		{ "GDT encode/decode", test_gdt_roundtrip },
		CU_TEST_INFO_NULL,
	};
	unit_add_suite("x86 boot", tests);
}
