// SPDX-License-Identifier: MIT
/* The AML writer, byte for byte, and the ACPI tables kiln builds. */
#include <stdlib.h>
#include <string.h>

#include "acpi.h"
#include "aml.h"
#include "layout.h"
#include "../unit.h"

/* Whether a holds exactly the n bytes given. */
static int same(const struct aml *a, const uint8_t *want, size_t n)
{
	return !a->failed && a->len == n && !memcmp(a->buf, want, n);
}

#define EXPECT(a, ...)                                       \
	do {                                                 \
		static const uint8_t w_[] = { __VA_ARGS__ }; \
		CU_ASSERT(same(a, w_, sizeof(w_)));          \
	} while (0)

static void pkglen_of(size_t body, uint8_t *out, size_t *n)
{
	struct aml a = { 0 };

	aml_pkglen(&a, body);
	memcpy(out, a.buf, a.len);
	*n = a.len;
	aml_free(&a);
}

static void test_pkglen(void)
{
	static const struct {
		size_t body;
		uint8_t enc[4];
		size_t n;
	} cases[] = {
		{ 0, { 0x01 }, 1 },
		{ 62, { 0x3f }, 1 }, /* the largest single byte */
		{ 63, { 0x41, 0x04 }, 2 }, /* 65 = 0x41 */
		{ 4093, { 0x4f, 0xff }, 2 }, /* 0xfff, the largest of two */
		{ 4094, { 0x81, 0x00, 0x01 }, 3 }, /* 0x1001 */
		{ 0xfffff - 3, { 0x8f, 0xff, 0xff }, 3 },
		{ 0xfffff - 2, { 0xc1, 0x00, 0x00, 0x01 }, 4 }, /* 0x100001 */
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t enc[8];
		size_t n;

		pkglen_of(cases[i].body, enc, &n);
		CU_ASSERT_EQUAL(n, cases[i].n);
		CU_ASSERT_EQUAL(memcmp(enc, cases[i].enc, cases[i].n), 0);
	}
}

static void test_integers(void)
{
	static const struct {
		uint64_t v;
		uint8_t enc[9];
		size_t n;
	} cases[] = {
		{ 0, { 0x00 }, 1 },
		{ 1, { 0x01 }, 1 },
		{ 2, { 0x0a, 0x02 }, 2 },
		{ 0xff, { 0x0a, 0xff }, 2 },
		{ 0x100, { 0x0b, 0x00, 0x01 }, 3 },
		{ 0xffff, { 0x0b, 0xff, 0xff }, 3 },
		{ 0x10000, { 0x0c, 0x00, 0x00, 0x01, 0x00 }, 5 },
		{ 0xffffffff, { 0x0c, 0xff, 0xff, 0xff, 0xff }, 5 },
		{ 0x100000000ULL, { 0x0e, 0, 0, 0, 0, 1, 0, 0, 0 }, 9 },
		{ ~0ULL, { 0xff }, 1 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct aml a = { 0 };

		aml_integer(&a, cases[i].v);
		CU_ASSERT(same(&a, cases[i].enc, cases[i].n));
		aml_free(&a);
	}
}

static void test_names(void)
{
	struct aml a = { 0 };

	aml_name_string(&a, "_HID");
	EXPECT(&a, '_', 'H', 'I', 'D');
	aml_free(&a);
	aml_name_string(&a, "COM");
	EXPECT(&a, 'C', 'O', 'M', '_');
	aml_free(&a);
	aml_name_string(&a, "\\_SB");
	EXPECT(&a, '\\', '_', 'S', 'B', '_');
	aml_free(&a);
	aml_name_string(&a, "\\_SB.COM1");
	EXPECT(&a, '\\', 0x2e, '_', 'S', 'B', '_', 'C', 'O', 'M', '1');
	aml_free(&a);
	aml_name_string(&a, "A.B.C");
	EXPECT(&a, 0x2f, 3, 'A', '_', '_', '_', 'B', '_', '_', '_', 'C', '_',
	       '_', '_');
	aml_free(&a);
	/* Lower case, a leading digit, five characters, empty segments. */
	aml_name_string(&a, "com1");
	CU_ASSERT(a.failed);
	aml_free(&a);
	aml_name_string(&a, "1ABC");
	CU_ASSERT(a.failed);
	aml_free(&a);
	aml_name_string(&a, "ABCDE");
	CU_ASSERT(a.failed);
	aml_free(&a);
	aml_name_string(&a, "A..B");
	CU_ASSERT(a.failed);
	aml_free(&a);
	aml_string(&a, "LN");
	EXPECT(&a, 0x0d, 'L', 'N', 0);
	aml_free(&a);
}

static void test_objects(void)
{
	struct aml a = { 0 }, body = { 0 };

	/* Device(COM1) { Name(_UID, 0) } */
	aml_name(&body, "_UID");
	aml_integer(&body, 0);
	aml_device(&a, "COM1", &body);
	EXPECT(&a, 0x5b, 0x82, 0x0b, 'C', 'O', 'M', '1', 0x08, '_', 'U', 'I',
	       'D', 0x00);
	aml_free(&a);
	/* Scope(\_SB) { the same } */
	aml_scope(&a, "\\_SB", &body);
	EXPECT(&a, 0x10, 0x0c, '\\', '_', 'S', 'B', '_', 0x08, '_', 'U', 'I',
	       'D', 0x00);
	aml_free(&a);
	aml_free(&body);
	/* Package() { 5, 5 } */
	aml_integer(&body, 5);
	aml_integer(&body, 5);
	aml_package(&a, 2, &body);
	EXPECT(&a, 0x12, 0x06, 0x02, 0x0a, 0x05, 0x0a, 0x05);
	aml_free(&a);
	aml_free(&body);
	/* Buffer() { 1, 2, 3 } */
	aml_buffer(&a, "\x01\x02\x03", 3);
	EXPECT(&a, 0x11, 0x06, 0x0a, 0x03, 1, 2, 3);
	aml_free(&a);
	/* A long body takes a two-byte PkgLength. */
	{
		uint8_t big[100] = { 0 };

		aml_buffer(&a, big, sizeof(big));
		CU_ASSERT_EQUAL(a.buf[0], 0x11);
		CU_ASSERT_EQUAL(a.buf[1], 0x40 | ((100 + 2 + 2) & 0xf));
		CU_ASSERT_EQUAL(a.buf[2], (100 + 2 + 2) >> 4);
		CU_ASSERT_EQUAL(a.len, 1 + 2 + 2 + 100);
		aml_free(&a);
	}
	CU_ASSERT_EQUAL(aml_eisaid("PNP0501"), 0x0105d041);
	CU_ASSERT_EQUAL(aml_eisaid("PNP0A03"), 0x030ad041);
}

static void test_resources(void)
{
	struct aml r = { 0 }, a = { 0 };

	res_memory32_fixed(&r, true, 0xd0000000, 0x1000);
	EXPECT(&r, 0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xd0, 0x00, 0x10,
	       0x00, 0x00);
	aml_free(&r);
	res_interrupt(&r, true, false, false, 5);
	EXPECT(&r, 0x89, 0x06, 0x00, 0x03, 0x01, 0x05, 0x00, 0x00, 0x00);
	aml_free(&r);
	res_interrupt(&r, false, true, true, 0x1234);
	EXPECT(&r, 0x89, 0x06, 0x00, 0x0d, 0x01, 0x34, 0x12, 0x00, 0x00);
	aml_free(&r);
	res_io(&r, 0x3f8, 8);
	EXPECT(&r, 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08);
	aml_free(&r);
	res_irq_noflags(&r, 4);
	EXPECT(&r, 0x22, 0x10, 0x00);
	res_end(&r);
	aml_resource_template(&a, "_CRS", &r);
	EXPECT(&a, 0x08, '_', 'C', 'R', 'S', 0x11, 0x08, 0x0a, 0x05, 0x22, 0x10,
	       0x00, 0x79, 0x00);
	aml_free(&a);
	aml_free(&r);
}

static int sums_to_zero(const void *p, size_t n)
{
	return acpi_checksum(p, n) == 0;
}

static uint32_t u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static void test_madt(void)
{
	static const unsigned int counts[] = { 1, 2, 64 };
	static uint8_t buf[4096];
	unsigned int c;

	for (c = 0; c < 3; c++) {
		unsigned int n = counts[c], i, lapics = 0, ioapics = 0;
		int len = acpi_build_madt(buf, sizeof(buf), n);
		uint8_t *p;

		CU_ASSERT_EQUAL_FATAL(len, (int)acpi_madt_size(n));
		CU_ASSERT_EQUAL(memcmp(buf, "APIC", 4), 0);
		CU_ASSERT_EQUAL(u32(buf + 4), (uint32_t)len);
		CU_ASSERT(sums_to_zero(buf, len));
		CU_ASSERT_EQUAL(u32(buf + 36), X86_LAPIC_ADDR);
		for (p = buf + 44; p < buf + len; p += p[1]) {
			CU_ASSERT_FATAL(p[1] >= 2);
			if (p[0] == 0) {
				/* ACPI id and APIC id in order, enabled. */
				CU_ASSERT_EQUAL(p[2], lapics);
				CU_ASSERT_EQUAL(p[3], lapics);
				CU_ASSERT_EQUAL(p[4] & 1, 1);
				lapics++;
			} else if (p[0] == 1) {
				CU_ASSERT_EQUAL(u32(p + 4), X86_IOAPIC_ADDR);
				CU_ASSERT_EQUAL(u32(p + 8), 0);
				ioapics++;
			}
		}
		CU_ASSERT_EQUAL(p, buf + len);
		CU_ASSERT_EQUAL(lapics, n);
		CU_ASSERT_EQUAL(ioapics, 1);
		(void)i;
	}
	CU_ASSERT(acpi_build_madt(buf, sizeof(buf), 0) < 0);
	CU_ASSERT(acpi_build_madt(buf, 10, 1) < 0);
}

static void test_tables(void)
{
	static uint8_t buf[X86_ACPI_MAX];
	const struct acpi_dev devs[2] = { { 0xd0000000, 0x1000, 5 },
					  { 0xd0001000, 0x1000, 6 } };
	const uint64_t gpa = X86_ACPI_ADDR;
	int len = acpi_build(buf, sizeof(buf), gpa, 2, devs, 2);
	uint8_t *xsdt, *fadt, *madt, *dsdt;

	CU_ASSERT_FATAL(len > 0);
	/* RSDP: both checksums, the XSDT inside the tables. */
	CU_ASSERT_EQUAL(memcmp(buf, "RSD PTR ", 8), 0);
	CU_ASSERT(sums_to_zero(buf, 20));
	CU_ASSERT(sums_to_zero(buf, 36));
	CU_ASSERT_EQUAL(buf[15], 2);
	CU_ASSERT_FATAL(u64(buf + 24) >= gpa && u64(buf + 24) < gpa + len);
	xsdt = buf + (u64(buf + 24) - gpa);
	CU_ASSERT_EQUAL(memcmp(xsdt, "XSDT", 4), 0);
	CU_ASSERT_EQUAL(u32(xsdt + 4), 36 + 16);
	CU_ASSERT(sums_to_zero(xsdt, u32(xsdt + 4)));
	fadt = buf + (u64(xsdt + 36) - gpa);
	madt = buf + (u64(xsdt + 44) - gpa);
	/* FADT: ACPI 6, hardware-reduced, sleep registers, the DSDT. */
	CU_ASSERT_EQUAL(memcmp(fadt, "FACP", 4), 0);
	CU_ASSERT_EQUAL(u32(fadt + 4), 276);
	CU_ASSERT_EQUAL(fadt[8], 6);
	CU_ASSERT(sums_to_zero(fadt, 276));
	CU_ASSERT(u32(fadt + 112) & (1u << 20));
	CU_ASSERT_EQUAL(fadt[244], 1); /* sleep control: system I/O */
	CU_ASSERT_EQUAL(u64(fadt + 248), X86_ACPI_SLEEP_CONTROL_PORT);
	CU_ASSERT_EQUAL(u64(fadt + 260), X86_ACPI_SLEEP_STATUS_PORT);
	CU_ASSERT_EQUAL(memcmp(madt, "APIC", 4), 0);
	CU_ASSERT(sums_to_zero(madt, u32(madt + 4)));
	dsdt = buf + (u64(fadt + 140) - gpa);
	CU_ASSERT_EQUAL(memcmp(dsdt, "DSDT", 4), 0);
	CU_ASSERT(sums_to_zero(dsdt, u32(dsdt + 4)));
	CU_ASSERT_EQUAL(dsdt + u32(dsdt + 4), buf + len);
	/* Two virtio devices with their windows and interrupts, and _S5. */
	{
		static const uint8_t w1[] = { 0x86, 9, 0, 1, 0, 0, 0, 0xd0 };
		static const uint8_t w2[] = { 0x86, 9, 0, 1, 0, 0x10, 0, 0xd0 };
		static const uint8_t i6[] = { 0x89, 6, 0, 3, 1, 6, 0, 0, 0 };
		size_t dl = u32(dsdt + 4);
		uint8_t *first = memmem(dsdt, dl, "LNRO0005", 8);

		CU_ASSERT_PTR_NOT_NULL(first);
		CU_ASSERT_PTR_NOT_NULL(first ? memmem(first + 8,
						      dl - (first + 8 - dsdt),
						      "LNRO0005", 8) :
					       NULL);
		CU_ASSERT_PTR_NOT_NULL(memmem(dsdt, dl, w1, sizeof(w1)));
		CU_ASSERT_PTR_NOT_NULL(memmem(dsdt, dl, w2, sizeof(w2)));
		CU_ASSERT_PTR_NOT_NULL(memmem(dsdt, dl, i6, sizeof(i6)));
		CU_ASSERT_PTR_NOT_NULL(memmem(dsdt, dl, "\\_S5_", 5));
		CU_ASSERT_PTR_NOT_NULL(memmem(dsdt, dl, "COM1", 4));
	}
	CU_ASSERT(acpi_build(buf, 100, gpa, 2, devs, 2) < 0);
}

static void test_sleep_register(void)
{
	CU_ASSERT(acpi_sleep_write(5 << 2 | 0x20));
	CU_ASSERT(!acpi_sleep_write(5 << 2)); /* no SLP_EN */
	CU_ASSERT(!acpi_sleep_write(0x20)); /* S0 */
	CU_ASSERT(!acpi_sleep_write(3 << 2 | 0x20)); /* S3: not offered */
}

void suite_acpi(void)
{
	static const CU_TestInfo tests[] = {
		{ "AML PkgLength across sizes", test_pkglen },
		{ "AML integers of each width", test_integers },
		{ "AML names and strings", test_names },
		{ "AML device, scope, package, buffer", test_objects },
		{ "AML resource templates", test_resources },
		{ "MADT for 1, 2 and 64 CPUs", test_madt },
		{ "RSDP, XSDT, FADT, DSDT", test_tables },
		{ "sleep control register", test_sleep_register },
		CU_TEST_INFO_NULL,
	};
	unit_add_suite("acpi", tests);
}
