/* SPDX-License-Identifier: MIT */
#ifndef KILN_ARM64_H
#define KILN_ARM64_H

#include <stddef.h>
#include <stdint.h>

/* --- The arm64 Image header (Documentation/arm64/booting.rst) --- */

#define ARM64_IMAGE_MAGIC 0x644d5241U /* "ARM\x64" */
#define ARM64_IMAGE_HDR_LEN 64

struct arm64_image {
	uint64_t text_offset; /* load offset from a 2 MiB aligned base */
	uint64_t image_size; /* bytes the kernel needs there, bss included */
	uint64_t flags;
};

/*
 * Checks the first bytes of a kernel file (buflen of them, the file being
 * file_size long) and fills img. Returns 0, or -EINVAL with a reason of
 * one line in err: truncated, no magic, big-endian, compressed, an old
 * kernel without image_size, a text_offset or size that makes no sense.
 */
int arm64_image_parse(const uint8_t *buf, size_t buflen, uint64_t file_size,
		      struct arm64_image *img, char *err, size_t errlen);

/* --- The GIC's guest-physical layout --- */

struct arm64_gic_layout {
	uint64_t dist_base, dist_size;
	/* v3: the redistributors; v2: the CPU interface */
	uint64_t cpu_base, cpu_size;
};

/* Fills l for a GIC of version 2 or 3 serving ncpus vCPUs; -EINVAL when
 * that GIC cannot (v2 beyond 8 CPUs, redistributors beyond their room). */
int arm64_gic_layout(int version, unsigned int ncpus,
		     struct arm64_gic_layout *l);

/* --- The device tree --- */

struct arm64_fdt_desc {
	uint64_t ram_base, ram_size;
	unsigned int ncpus;
	const uint64_t *mpidr; /* per vCPU, as KVM reports MPIDR_EL1 */
	int gic_version;
	struct arm64_gic_layout gic;
	const char *bootargs;
	uint64_t initrd_start, initrd_size; /* size 0: no initrd */
	uint64_t uart_base;
	uint32_t uart_spi;
	uint64_t rtc_base; /* 0: no RTC */
	uint32_t rtc_spi;
	unsigned int nr_virtio;
	const uint64_t *virtio_base;
	const uint32_t *virtio_spi;
};

/* Phandles in the tree: the GIC, the APB clock of PrimeCell devices. */
#define ARM64_FDT_GIC_PHANDLE 1
#define ARM64_FDT_CLOCK_PHANDLE 2

/*
 * Writes the device tree for d into buf (len bytes): memory, CPUs with
 * PSCI, the timer, the GIC, the UART, the RTC, one virtio-mmio node per device,
 * /chosen. Returns the blob's size, or -ENOSPC / -EINVAL.
 */
int arm64_fdt_build(const struct arm64_fdt_desc *d, void *buf, size_t len);

#endif
