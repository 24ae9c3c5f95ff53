// SPDX-License-Identifier: MIT
#include <errno.h>
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "../unit.h"
#include "arch.h"
#include "arm64.h"
#include "layout.h"
#include "vm.h"

void suite_arm64(void);

static void put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

/* A header as Linux 6.1 writes it: text_offset 0, 4K pages. */
static void make_header(uint8_t *h, uint64_t text_offset, uint64_t size,
			uint64_t flags)
{
	memset(h, 0, ARM64_IMAGE_HDR_LEN);
	h[0] = 0x4d; /* "MZ": the EFI stub's branch */
	h[1] = 0x5a;
	put64(h + 8, text_offset);
	put64(h + 16, size);
	put64(h + 24, flags);
	h[56] = 'A';
	h[57] = 'R';
	h[58] = 'M';
	h[59] = 0x64;
}

static void test_image_valid(void)
{
	uint8_t h[ARM64_IMAGE_HDR_LEN];
	struct arm64_image img;
	char err[200] = "";

	make_header(h, 0, 0x2010000, 0xa);
	CU_ASSERT_EQUAL(arm64_image_parse(h, sizeof(h), 0x1000000, &img, err,
					  sizeof(err)),
			0);
	CU_ASSERT_EQUAL(img.text_offset, 0);
	CU_ASSERT_EQUAL(img.image_size, 0x2010000);
	CU_ASSERT_EQUAL(img.flags, 0xa);
	/* The old fixed offset is still a valid one. */
	make_header(h, 0x80000, 0x800000, 0);
	CU_ASSERT_EQUAL(arm64_image_parse(h, sizeof(h), 0x700000, &img, err,
					  sizeof(err)),
			0);
	CU_ASSERT_EQUAL(img.text_offset, 0x80000);
}

#define EXPECT_BAD(h, buflen, fsize, what)                                 \
	do {                                                               \
		struct arm64_image img_;                                   \
		char err_[200] = "";                                       \
		CU_ASSERT_EQUAL(arm64_image_parse(h, buflen, fsize, &img_, \
						  err_, sizeof(err_)),     \
				-EINVAL);                                  \
		CU_ASSERT_PTR_NOT_NULL(strstr(err_, what));                \
	} while (0)

static void test_image_bad(void)
{
	uint8_t h[ARM64_IMAGE_HDR_LEN];

	make_header(h, 0, 0x100000, 0);
	EXPECT_BAD(h, 63, 63, "too short");
	EXPECT_BAD(h, 0, 0, "too short");
	EXPECT_BAD(h, sizeof(h), 32, "too short");
	h[59] = 0x65;
	EXPECT_BAD(h, sizeof(h), 0x1000, "no arm64 Image header");
	make_header(h, 0, 0x100000, 1);
	EXPECT_BAD(h, sizeof(h), 0x1000, "big-endian");
	make_header(h, 0, 0, 0);
	EXPECT_BAD(h, sizeof(h), 0x1000, "without image_size");
	make_header(h, 0x200000, 0x100000, 0);
	EXPECT_BAD(h, sizeof(h), 0x1000, "text_offset");
	make_header(h, 0x80010, 0x100000, 0);
	EXPECT_BAD(h, sizeof(h), 0x1000, "text_offset");
	make_header(h, 0, 0x1000, 0);
	EXPECT_BAD(h, sizeof(h), 0x2000, "does not fit");
	make_header(h, 0, 1ULL << 40, 0);
	EXPECT_BAD(h, sizeof(h), 0x2000, "does not fit");
	memset(h, 0, sizeof(h));
	h[0] = 0x1f;
	h[1] = 0x8b;
	EXPECT_BAD(h, sizeof(h), 0x100000, "gzip");
}

static void test_gic_layout(void)
{
	struct arm64_gic_layout l;

	CU_ASSERT_EQUAL(arm64_gic_layout(3, 1, &l), 0);
	CU_ASSERT_EQUAL(l.dist_base, ARM64_GICD_BASE);
	CU_ASSERT_EQUAL(l.dist_size, 0x10000);
	CU_ASSERT_EQUAL(l.cpu_base, ARM64_GICR_BASE);
	CU_ASSERT_EQUAL(l.cpu_size, 0x20000);
	/* Two 64 KiB frames per vCPU, contiguous, clear of the distributor
	 * and the devices above it. */
	CU_ASSERT_EQUAL(arm64_gic_layout(3, 254, &l), 0);
	CU_ASSERT_EQUAL(l.cpu_size, 254 * 0x20000ULL);
	CU_ASSERT_TRUE(l.cpu_base >=
		       ARM64_VIRTIO_MMIO_BASE + ARM64_VIRTIO_SLOTS * 0x1000ULL);
	CU_ASSERT_TRUE(l.cpu_base + l.cpu_size <= ARM64_RAM_BASE);
	CU_ASSERT_EQUAL(arm64_gic_layout(3, 512, &l), 0);
	CU_ASSERT_EQUAL(arm64_gic_layout(3, 513, &l), -EINVAL);
	CU_ASSERT_EQUAL(arm64_gic_layout(3, 0, &l), -EINVAL);
	/* v2: a CPU interface, eight CPUs at most. */
	CU_ASSERT_EQUAL(arm64_gic_layout(2, 8, &l), 0);
	CU_ASSERT_EQUAL(l.cpu_base, ARM64_GICC_BASE);
	CU_ASSERT_EQUAL(l.cpu_size, 0x2000);
	CU_ASSERT_TRUE(l.dist_base + l.dist_size <= l.cpu_base);
	CU_ASSERT_EQUAL(arm64_gic_layout(2, 9, &l), -EINVAL);
	CU_ASSERT_EQUAL(arm64_gic_layout(4, 1, &l), -EINVAL);
}

static void test_memory_layout(void)
{
	struct mem_region r[VM_MAX_MEM_REGIONS];

	CU_ASSERT_EQUAL(arch_memory_layout(512ULL << 20, r, 4), 1);
	CU_ASSERT_EQUAL(r[0].gpa, ARM64_RAM_BASE);
	CU_ASSERT_EQUAL(r[0].size, 512ULL << 20);
	/* Up to the 40-bit guest-physical limit of a default VM. */
	CU_ASSERT_EQUAL(
		arch_memory_layout(ARM64_IPA_LIMIT - ARM64_RAM_BASE, r, 4), 1);
	CU_ASSERT_EQUAL(arch_memory_layout(1ULL << 40, r, 4), -EINVAL);
	CU_ASSERT_EQUAL(arch_memory_layout(1ULL << 30, r, 0), -EINVAL);
}

/* An interrupt specifier property: three cells each, read back. */
static int irq_cells(const void *fdt, int node, const char *prop, uint32_t *out,
		     int max)
{
	int len, i;
	const fdt32_t *p = fdt_getprop(fdt, node, prop, &len);

	if (!p || len % 4)
		return -1;
	for (i = 0; i < len / 4 && i < max; i++)
		out[i] = fdt32_to_cpu(p[i]);
	return len / 4;
}

static uint64_t reg_cell(const void *fdt, int node, int idx)
{
	int len;
	const fdt64_t *p = fdt_getprop(fdt, node, "reg", &len);

	if (!p || len < (idx + 1) * 8)
		return ~0ULL;
	return fdt64_to_cpu(p[idx]);
}

static void build(struct arm64_fdt_desc *d, int gic, unsigned int ncpus,
		  void *buf, size_t len)
{
	static uint64_t mpidr[16];
	static const uint64_t vbase[] = { 0x0a000000, 0x0a001000, 0x0a002000 };
	static const uint32_t vspi[] = { 16, 17, 18 };
	unsigned int i;

	for (i = 0; i < 16; i++)
		mpidr[i] = 0x80000000ULL | i; /* the RES1 bit, Aff0 = i */
	memset(d, 0, sizeof(*d));
	d->ram_base = ARM64_RAM_BASE;
	d->ram_size = 256ULL << 20;
	d->ncpus = ncpus;
	d->mpidr = mpidr;
	d->gic_version = gic;
	CU_ASSERT_EQUAL_FATAL(arm64_gic_layout(gic, ncpus, &d->gic), 0);
	d->bootargs = "console=ttyS0 panic=-1";
	d->initrd_start = 0x48000000;
	d->initrd_size = 0x123000;
	d->uart_base = ARM64_UART_BASE;
	d->uart_spi = ARM64_UART_SPI;
	d->rtc_base = ARM64_RTC_BASE;
	d->rtc_spi = ARM64_RTC_SPI;
	d->nr_virtio = 3;
	d->virtio_base = vbase;
	d->virtio_spi = vspi;
	CU_ASSERT_TRUE_FATAL(arm64_fdt_build(d, buf, len) > 0);
	CU_ASSERT_EQUAL_FATAL(fdt_check_header(buf), 0);
}

static void test_fdt_tree(void)
{
	static uint8_t buf[65536];
	struct arm64_fdt_desc d;
	const void *fdt = buf;
	uint32_t c[16] = { 0 };
	int node, len, n, cpus = 0, virtio = 0;
	const char *s;
	const fdt64_t *p64;

	build(&d, 3, 4, buf, sizeof(buf));
	CU_ASSERT_EQUAL(fdt_totalsize(fdt) <= sizeof(buf), 1);
	/* Root: 2 address and size cells, the GIC as interrupt parent. */
	CU_ASSERT_EQUAL(fdt32_to_cpu(*(const fdt32_t *)fdt_getprop(
				fdt, 0, "#address-cells", NULL)),
			2);
	CU_ASSERT_EQUAL(irq_cells(fdt, 0, "interrupt-parent", c, 1), 1);
	CU_ASSERT_EQUAL(c[0], ARM64_FDT_GIC_PHANDLE);

	node = fdt_path_offset(fdt, "/memory@40000000");
	CU_ASSERT_TRUE_FATAL(node >= 0);
	CU_ASSERT_STRING_EQUAL(fdt_getprop(fdt, node, "device_type", NULL),
			       "memory");
	CU_ASSERT_EQUAL(reg_cell(fdt, node, 0), ARM64_RAM_BASE);
	CU_ASSERT_EQUAL(reg_cell(fdt, node, 1), 256ULL << 20);

	/* One cpu node per vCPU, reg = MPIDR affinity, PSCI to start. */
	node = fdt_path_offset(fdt, "/cpus");
	CU_ASSERT_TRUE_FATAL(node >= 0);
	for (n = fdt_first_subnode(fdt, node); n >= 0;
	     n = fdt_next_subnode(fdt, n)) {
		CU_ASSERT_STRING_EQUAL(fdt_getprop(fdt, n, "device_type", NULL),
				       "cpu");
		CU_ASSERT_STRING_EQUAL(
			fdt_getprop(fdt, n, "enable-method", NULL), "psci");
		CU_ASSERT_EQUAL(irq_cells(fdt, n, "reg", c, 1), 1);
		CU_ASSERT_EQUAL(c[0], (uint32_t)cpus);
		cpus++;
	}
	CU_ASSERT_EQUAL(cpus, 4);
	node = fdt_path_offset(fdt, "/cpus/cpu@3");
	CU_ASSERT_TRUE(node >= 0);

	node = fdt_path_offset(fdt, "/psci");
	CU_ASSERT_TRUE_FATAL(node >= 0);
	CU_ASSERT_EQUAL(fdt_node_check_compatible(fdt, node, "arm,psci-0.2"),
			0);
	CU_ASSERT_STRING_EQUAL(fdt_getprop(fdt, node, "method", NULL), "hvc");

	/* GICv3: distributor and redistributors, 3 interrupt cells. */
	node = fdt_node_offset_by_phandle(fdt, ARM64_FDT_GIC_PHANDLE);
	CU_ASSERT_TRUE_FATAL(node >= 0);
	CU_ASSERT_EQUAL(fdt_node_check_compatible(fdt, node, "arm,gic-v3"), 0);
	CU_ASSERT_PTR_NOT_NULL(
		fdt_getprop(fdt, node, "interrupt-controller", &len));
	CU_ASSERT_EQUAL(irq_cells(fdt, node, "#interrupt-cells", c, 1), 1);
	CU_ASSERT_EQUAL(c[0], 3);
	CU_ASSERT_EQUAL(reg_cell(fdt, node, 0), ARM64_GICD_BASE);
	CU_ASSERT_EQUAL(reg_cell(fdt, node, 1), ARM64_GICD_SIZE);
	CU_ASSERT_EQUAL(reg_cell(fdt, node, 2), ARM64_GICR_BASE);
	CU_ASSERT_EQUAL(reg_cell(fdt, node, 3), 4 * ARM64_GICR_STRIDE);

	/* The timer's four PPIs, level-triggered. */
	node = fdt_path_offset(fdt, "/timer");
	CU_ASSERT_TRUE_FATAL(node >= 0);
	CU_ASSERT_EQUAL(fdt_node_check_compatible(fdt, node, "arm,armv8-timer"),
			0);
	CU_ASSERT_EQUAL(irq_cells(fdt, node, "interrupts", c, 12), 12);
	CU_ASSERT_EQUAL(c[0], 1);
	CU_ASSERT_EQUAL(c[1], 13);
	CU_ASSERT_EQUAL(c[4], 14);
	CU_ASSERT_EQUAL(c[7], 11);
	CU_ASSERT_EQUAL(c[10], 10);
	CU_ASSERT_EQUAL(c[2] & 0xff00, 0); /* no CPU mask on v3 */

	/* The UART: ns16550a, byte registers, a level SPI, the console. */
	node = fdt_path_offset(fdt, "/uart@9000000");
	CU_ASSERT_TRUE_FATAL(node >= 0);
	CU_ASSERT_EQUAL(fdt_node_check_compatible(fdt, node, "ns16550a"), 0);
	CU_ASSERT_EQUAL(reg_cell(fdt, node, 0), ARM64_UART_BASE);
	CU_ASSERT_EQUAL(irq_cells(fdt, node, "interrupts", c, 3), 3);
	CU_ASSERT_EQUAL(c[0], 0);
	CU_ASSERT_EQUAL(c[1], ARM64_UART_SPI);
	CU_ASSERT_EQUAL(c[2], 4);
	CU_ASSERT_PTR_NOT_NULL(fdt_getprop(fdt, node, "clock-frequency", NULL));

	/* The PL031 on the AMBA bus, with the APB clock it asks for. */
	node = fdt_path_offset(fdt, "/rtc@9001000");
	CU_ASSERT_TRUE_FATAL(node >= 0);
	CU_ASSERT_EQUAL(fdt_node_check_compatible(fdt, node, "arm,primecell"),
			0);
	CU_ASSERT_EQUAL(fdt_node_check_compatible(fdt, node, "arm,pl031"), 0);
	CU_ASSERT_EQUAL(reg_cell(fdt, node, 0), ARM64_RTC_BASE);
	CU_ASSERT_STRING_EQUAL(fdt_getprop(fdt, node, "clock-names", NULL),
			       "apb_pclk");
	CU_ASSERT_EQUAL(irq_cells(fdt, node, "clocks", c, 1), 1);
	n = fdt_node_offset_by_phandle(fdt, c[0]);
	CU_ASSERT_TRUE_FATAL(n >= 0);
	CU_ASSERT_EQUAL(fdt_node_check_compatible(fdt, n, "fixed-clock"), 0);
	CU_ASSERT_EQUAL(irq_cells(fdt, node, "interrupts", c, 3), 3);
	CU_ASSERT_EQUAL(c[1], ARM64_RTC_SPI);

	/* One virtio-mmio node per device, each with its own SPI. */
	for (node = fdt_node_offset_by_compatible(fdt, -1, "virtio,mmio");
	     node >= 0;
	     node = fdt_node_offset_by_compatible(fdt, node, "virtio,mmio")) {
		CU_ASSERT_EQUAL(reg_cell(fdt, node, 0),
				0x0a000000ULL + 0x1000ULL * virtio);
		CU_ASSERT_EQUAL(irq_cells(fdt, node, "interrupts", c, 3), 3);
		CU_ASSERT_EQUAL(c[0], 0);
		CU_ASSERT_EQUAL(c[1], 16U + virtio);
		CU_ASSERT_EQUAL(c[2], 1);
		virtio++;
	}
	CU_ASSERT_EQUAL(virtio, 3);

	/* /chosen: command line, console, initrd as 64-bit cells. */
	node = fdt_path_offset(fdt, "/chosen");
	CU_ASSERT_TRUE_FATAL(node >= 0);
	CU_ASSERT_STRING_EQUAL(fdt_getprop(fdt, node, "bootargs", NULL),
			       "console=ttyS0 panic=-1");
	s = fdt_getprop(fdt, node, "stdout-path", NULL);
	CU_ASSERT_TRUE(s && fdt_path_offset(fdt, s) >= 0);
	p64 = fdt_getprop(fdt, node, "linux,initrd-start", &len);
	CU_ASSERT_TRUE(p64 && len == 8 && fdt64_to_cpu(*p64) == 0x48000000);
	p64 = fdt_getprop(fdt, node, "linux,initrd-end", &len);
	CU_ASSERT_TRUE(p64 && len == 8 &&
		       fdt64_to_cpu(*p64) == 0x48000000 + 0x123000);
}

static void test_fdt_gicv2_and_limits(void)
{
	static uint8_t buf[65536];
	struct arm64_fdt_desc d;
	uint32_t c[12] = { 0 };
	int node;

	build(&d, 2, 2, buf, sizeof(buf));
	node = fdt_node_offset_by_phandle(buf, ARM64_FDT_GIC_PHANDLE);
	CU_ASSERT_EQUAL(
		fdt_node_check_compatible(buf, node, "arm,cortex-a15-gic"), 0);
	CU_ASSERT_EQUAL(reg_cell(buf, node, 2), ARM64_GICC_BASE);
	/* v2 PPIs name their CPUs: two of them. */
	node = fdt_path_offset(buf, "/timer");
	CU_ASSERT_EQUAL(irq_cells(buf, node, "interrupts", c, 12), 12);
	CU_ASSERT_EQUAL((c[2] >> 8) & 0xff, 0x3);
	/* No initrd: no initrd properties. */
	d.initrd_size = 0;
	CU_ASSERT_TRUE(arm64_fdt_build(&d, buf, sizeof(buf)) > 0);
	node = fdt_path_offset(buf, "/chosen");
	CU_ASSERT_PTR_NULL(fdt_getprop(buf, node, "linux,initrd-start", NULL));
	/* Too small a buffer, a bad GIC version, no CPUs. */
	CU_ASSERT_EQUAL(arm64_fdt_build(&d, buf, 256), -ENOSPC);
	d.gic_version = 4;
	CU_ASSERT_EQUAL(arm64_fdt_build(&d, buf, sizeof(buf)), -EINVAL);
	d.gic_version = 3;
	d.ncpus = 0;
	CU_ASSERT_EQUAL(arm64_fdt_build(&d, buf, sizeof(buf)), -EINVAL);
}

static void test_virtio_slots(void)
{
	uint64_t base;
	uint32_t irq;

	CU_ASSERT_EQUAL(arch_virtio_slot(0, &base, &irq), 0);
	CU_ASSERT_EQUAL(base, ARM64_VIRTIO_MMIO_BASE);
	CU_ASSERT_EQUAL(irq, ARM64_VIRTIO_SPI_BASE);
	CU_ASSERT_EQUAL(arch_virtio_slot(31, &base, &irq), 0);
	CU_ASSERT_TRUE(irq < ARM64_GIC_NR_SPIS);
	CU_ASSERT_TRUE(base + 0x1000 <= ARM64_GICR_BASE);
	CU_ASSERT_EQUAL(arch_virtio_slot(32, &base, &irq), -ENOSPC);
}

/* gzip of n bytes at data into a temporary file: its fd. */
static int gz_file(const uint8_t *data, size_t n)
{
	char path[] = "/tmp/kiln-probe-XXXXXX";
	int fd = mkstemp(path);
	gzFile g;

	CU_ASSERT_FATAL(fd >= 0);
	unlink(path);
	g = gzdopen(dup(fd), "wb");
	CU_ASSERT_FATAL(g != NULL);
	CU_ASSERT_EQUAL(gzwrite(g, data, (unsigned int)n), (int)n);
	gzclose(g);
	return fd;
}

/* A compressed kernel is looked into before anything is made: an
 * Image.gz passes, a gzip'ed something else (an initrd) is named. */
static void test_probe_compressed(void)
{
	static uint8_t img[8192];
	char err[256] = "";
	int fd;

	make_header(img, 0, sizeof(img), 0);
	fd = gz_file(img, sizeof(img));
	CU_ASSERT_EQUAL(arch_probe_kernel(fd, "Image.gz", err, sizeof(err)), 0);
	close(fd);
	memset(img, 0, sizeof(img));
	memcpy(img, "070701", 6); /* a cpio archive */
	fd = gz_file(img, sizeof(img));
	CU_ASSERT_NOT_EQUAL(
		arch_probe_kernel(fd, "initrd.gz", err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a Linux kernel"));
	close(fd);
	/* Truncated gzip: the reason is given. */
	fd = gz_file(img, sizeof(img));
	CU_ASSERT_EQUAL(ftruncate(fd, 12), 0);
	CU_ASSERT_NOT_EQUAL(arch_probe_kernel(fd, "bad.gz", err, sizeof(err)),
			    0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "bad.gz"));
	close(fd);
}

void suite_arm64(void)
{
	static const CU_TestInfo tests[] = {
		{ "Image header: valid", test_image_valid },
		{ "Image header: truncated, bad magic, big-endian, gzip, sizes",
		  test_image_bad },
		{ "GIC layout: 1 to 512 vCPUs, v2 up to 8", test_gic_layout },
		{ "memory layout: RAM from 1 GiB, 40-bit limit",
		  test_memory_layout },
		{ "device tree: memory, cpus, psci, gic, timer, uart, virtio, chosen",
		  test_fdt_tree },
		{ "device tree: GICv2, no initrd, errors",
		  test_fdt_gicv2_and_limits },
		{ "virtio slots and SPIs", test_virtio_slots },
		{ "kernel probe: Image.gz, a gzip'ed initrd, truncated",
		  test_probe_compressed },
		CU_TEST_INFO_NULL,
	};

	unit_add_suite("arm64", tests);
}
