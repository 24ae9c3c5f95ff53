/* SPDX-License-Identifier: MIT */
#ifndef KILN_X86_ACPI_H
#define KILN_X86_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aml;

/* A virtio-mmio device for the DSDT. */
struct acpi_dev {
	uint64_t base;
	uint32_t size;
	uint32_t irq;
};

#define ACPI_S5_SLP_TYP 5
#define ACPI_SLP_EN 0x20

/* The byte that makes the whole table sum to zero. */
uint8_t acpi_checksum(const void *p, size_t n);

/* The DSDT's AML (no header): devices under \_SB and \_S5. */
int acpi_build_dsdt(struct aml *out, const struct acpi_dev *devs,
		    unsigned int ndevs);

/* The MADT for ncpus CPUs: its size, and the table (header included). */
size_t acpi_madt_size(unsigned int ncpus);
int acpi_build_madt(void *buf, size_t cap, unsigned int ncpus);

/*
 * Every table into buf, which the guest sees at gpa, the RSDP first.
 * Returns the bytes used, or -ENOSPC / -EINVAL / -ENOMEM.
 */
int acpi_build(void *buf, size_t cap, uint64_t gpa, unsigned int ncpus,
	       const struct acpi_dev *devs, unsigned int ndevs);

/* Whether a write of v to the sleep control register means power off. */
bool acpi_sleep_write(uint8_t v);

#endif
