// SPDX-License-Identifier: MIT
/*
 * Hardware-reduced ACPI tables for x86_64 (ACPI 6.x): RSDP, XSDT, FADT,
 * MADT and a DSDT declaring the virtio-mmio devices (LNRO0005), the serial
 * port and the S5 sleep state. Powering off writes SLP_TYP 5 | SLP_EN to
 * the sleep control register, a port kiln watches.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "acpi.h"
#include "aml.h"
#include "layout.h"

#define OEM_ID "KILN  "
#define OEM_TABLE_ID "KILNVM  "
#define CREATOR_ID "KILN"

struct sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

struct rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum;
	uint8_t reserved[3];
} __attribute__((packed));

struct gas {
	uint8_t space_id; /* 1: system I/O */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size; /* 1: byte */
	uint64_t address;
} __attribute__((packed));

struct fadt {
	struct sdt_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
	uint32_t pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk;
	struct gas x_pm1b_cnt_blk, x_pm2_cnt_blk, x_pm_tmr_blk;
	struct gas x_gpe0_blk, x_gpe1_blk;
	struct gas sleep_control_reg, sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} __attribute__((packed));

_Static_assert(sizeof(struct fadt) == 276, "FADT is 276 bytes (ACPI 6)");
_Static_assert(sizeof(struct rsdp) == 36, "RSDP is 36 bytes");

#define FADT_WBINVD (1u << 0)
#define FADT_PWR_BUTTON (1u << 4) /* no fixed power button */
#define FADT_SLP_BUTTON (1u << 5)
#define FADT_HW_REDUCED_ACPI (1u << 20)
#define BOOT_ARCH_8042 (1u << 1)
#define BOOT_ARCH_NO_VGA (1u << 2)
#define BOOT_ARCH_NO_MSI (1u << 3)

struct madt {
	struct sdt_header h;
	uint32_t lapic_address;
	uint32_t flags; /* 1: PC-AT compatible 8259s present */
} __attribute__((packed));

uint8_t acpi_checksum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (n--)
		sum += *b++;
	return -sum;
}

static void header(struct sdt_header *h, const char *sig, uint32_t len,
		   uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, OEM_ID, 6);
	memcpy(h->oem_table_id, OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, CREATOR_ID, 4);
	h->creator_revision = 1;
	h->checksum = 0;
	h->checksum = acpi_checksum(h, len);
}

int acpi_build_dsdt(struct aml *out, const struct acpi_dev *devs,
		    unsigned int ndevs)
{
	struct aml sb = { 0 }, s5 = { 0 }, el = { 0 };
	unsigned int i;

	/* The serial port, so the guest need not probe for it. */
	{
		struct aml dev = { 0 }, res = { 0 };

		aml_name(&dev, "_HID");
		aml_integer(&dev, aml_eisaid("PNP0501"));
		aml_name(&dev, "_UID");
		aml_integer(&dev, 0);
		res_io(&res, X86_COM1_PORT, 8);
		res_irq_noflags(&res, X86_COM1_IRQ);
		res_end(&res);
		aml_resource_template(&dev, "_CRS", &res);
		aml_device(&sb, "COM1", &dev);
		aml_free(&dev);
		aml_free(&res);
	}
	/*
	 * The keyboard controller (reset, Firecracker's SendCtrlAltDel): a
	 * guest probing without i8042.nopnp finds it, and its IRQ 1.
	 */
	{
		struct aml dev = { 0 }, res = { 0 };

		aml_name(&dev, "_HID");
		aml_integer(&dev, aml_eisaid("PNP0303"));
		aml_name(&dev, "_UID");
		aml_integer(&dev, 0);
		res_io(&res, 0x60, 1);
		res_io(&res, 0x64, 1);
		res_irq_noflags(&res, 1);
		res_end(&res);
		aml_resource_template(&dev, "_CRS", &res);
		aml_device(&sb, "KBD0", &dev);
		aml_free(&dev);
		aml_free(&res);
	}
	for (i = 0; i < ndevs; i++) {
		struct aml dev = { 0 }, res = { 0 };
		char name[8];

		snprintf(name, sizeof(name), "V%03X", i & 0xfff);
		aml_name(&dev, "_HID");
		aml_string(&dev, "LNRO0005");
		aml_name(&dev, "_UID");
		aml_integer(&dev, i);
		res_memory32_fixed(&res, true, devs[i].base, devs[i].size);
		/* irqfd interrupts are edge-triggered, active high. */
		res_interrupt(&res, true, false, false, devs[i].irq);
		res_end(&res);
		aml_resource_template(&dev, "_CRS", &res);
		aml_device(&sb, name, &dev);
		aml_free(&dev);
		aml_free(&res);
	}
	aml_scope(out, "\\_SB", &sb);
	/* Name(_S5, Package() { 5, 5 }): SLP_TYP for soft-off. */
	aml_integer(&el, ACPI_S5_SLP_TYP);
	aml_integer(&el, ACPI_S5_SLP_TYP);
	aml_package(&s5, 2, &el);
	aml_name(out, "\\_S5");
	aml_bytes(out, s5.buf, s5.len);
	if (s5.failed)
		out->failed = true;
	aml_free(&sb);
	aml_free(&s5);
	aml_free(&el);
	return out->failed ? -ENOMEM : 0;
}

size_t acpi_madt_size(unsigned int ncpus)
{
	return sizeof(struct madt) + 8 * ncpus + 12 + 10 + 6;
}

int acpi_build_madt(void *buf, size_t cap, unsigned int ncpus)
{
	size_t len = acpi_madt_size(ncpus);
	struct madt *m = buf;
	uint8_t *p;
	unsigned int i;

	if (!ncpus || ncpus > 255 || cap < len)
		return -EINVAL;
	memset(buf, 0, len);
	m->lapic_address = X86_LAPIC_ADDR;
	m->flags = 1;
	p = (uint8_t *)(m + 1);
	for (i = 0; i < ncpus; i++, p += 8) {
		/* Processor Local APIC: ACPI id, APIC id, enabled. */
		p[0] = 0;
		p[1] = 8;
		p[2] = i;
		p[3] = i;
		p[4] = 1;
	}
	/* The IOAPIC, id after the CPUs', GSIs from 0. */
	p[0] = 1;
	p[1] = 12;
	p[2] = ncpus < 255 ? ncpus : 0;
	memcpy(p + 4, &(uint32_t){ X86_IOAPIC_ADDR }, 4);
	p += 12;
	/*
	 * ISA IRQ 0 (the PIT) is GSI 0, as KVM routes it: said explicitly so
	 * no kernel assumes the PC's IRQ 0 -> GSI 2 wiring.
	 */
	p[0] = 2;
	p[1] = 10;
	p[2] = 0; /* ISA */
	p[3] = 0;
	p += 10;
	/* LINT1 of every CPU is NMI. */
	p[0] = 4;
	p[1] = 6;
	p[2] = 0xff;
	p[5] = 1;
	header(&m->h, "APIC", len, 5);
	return len;
}

static void sleep_regs(struct fadt *f)
{
	f->sleep_control_reg =
		(struct gas){ 1, 8, 0, 1, X86_ACPI_SLEEP_CONTROL_PORT };
	f->sleep_status_reg =
		(struct gas){ 1, 8, 0, 1, X86_ACPI_SLEEP_STATUS_PORT };
}

int acpi_build(void *buf, size_t cap, uint64_t gpa, unsigned int ncpus,
	       const struct acpi_dev *devs, unsigned int ndevs)
{
	uint8_t *b = buf;
	struct aml dsdt_body = { 0 };
	size_t off, xsdt_off, fadt_off, madt_off, dsdt_off, dsdt_len;
	struct rsdp *rsdp = buf;
	struct sdt_header *xsdt;
	struct fadt *fadt;
	int r;

	r = acpi_build_dsdt(&dsdt_body, devs, ndevs);
	if (r) {
		aml_free(&dsdt_body);
		return r;
	}
	dsdt_len = sizeof(struct sdt_header) + dsdt_body.len;
	xsdt_off = 0x40;
	fadt_off = xsdt_off + 0x40;
	madt_off = (fadt_off + sizeof(struct fadt) + 15) & ~15UL;
	dsdt_off = (madt_off + acpi_madt_size(ncpus) + 15) & ~15UL;
	off = dsdt_off + dsdt_len;
	if (off > cap || ncpus > 255) {
		aml_free(&dsdt_body);
		return -ENOSPC;
	}
	memset(buf, 0, off);

	/* DSDT: a header and the AML. */
	memcpy(b + dsdt_off + sizeof(struct sdt_header), dsdt_body.buf,
	       dsdt_body.len);
	header((struct sdt_header *)(b + dsdt_off), "DSDT", dsdt_len, 2);
	aml_free(&dsdt_body);

	r = acpi_build_madt(b + madt_off, acpi_madt_size(ncpus), ncpus);
	if (r < 0)
		return r;

	fadt = (struct fadt *)(b + fadt_off);
	fadt->x_dsdt = gpa + dsdt_off;
	fadt->flags = FADT_WBINVD | FADT_PWR_BUTTON | FADT_SLP_BUTTON |
		      FADT_HW_REDUCED_ACPI;
	fadt->iapc_boot_arch = BOOT_ARCH_8042 | BOOT_ARCH_NO_VGA |
			       BOOT_ARCH_NO_MSI;
	fadt->minor_version = 0;
	sleep_regs(fadt);
	memcpy(&fadt->hypervisor_vendor_id, "KILN\0\0\0\0", 8);
	header(&fadt->h, "FACP", sizeof(*fadt), 6);

	xsdt = (struct sdt_header *)(b + xsdt_off);
	memcpy(b + xsdt_off + sizeof(*xsdt), &(uint64_t){ gpa + fadt_off }, 8);
	memcpy(b + xsdt_off + sizeof(*xsdt) + 8, &(uint64_t){ gpa + madt_off },
	       8);
	header(xsdt, "XSDT", sizeof(*xsdt) + 16, 1);

	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, OEM_ID, 6);
	rsdp->revision = 2;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt_address = gpa + xsdt_off;
	rsdp->checksum = acpi_checksum(rsdp, 20);
	rsdp->extended_checksum = acpi_checksum(rsdp, sizeof(*rsdp));
	return off;
}

bool acpi_sleep_write(uint8_t v)
{
	/* SLP_EN with SLP_TYP 5: soft-off. */
	return (v & ACPI_SLP_EN) && ((v >> 2) & 7) == ACPI_S5_SLP_TYP;
}
