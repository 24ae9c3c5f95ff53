// SPDX-License-Identifier: MIT
/*
 * The Intel MultiProcessor Specification 1.4 table: how a kernel without
 * ACPI finds every CPU, the IOAPIC and the ISA interrupt wiring.
 */
#include <errno.h>
#include <string.h>

#include "boot.h"
#include "layout.h"

#define MPC_SPEC 4
#define MPC_APIC_VERSION 0x14
#define MPC_IOAPIC_VERSION 0x11

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };
enum { MP_INT, MP_NMI, MP_SMI, MP_EXTINT };

struct mpf_intel {
	char signature[4]; /* "_MP_" */
	uint32_t physptr;
	uint8_t length; /* in 16-byte units */
	uint8_t specification;
	uint8_t checksum;
	uint8_t feature[5];
} __attribute__((packed));

struct mpc_table {
	char signature[4]; /* "PCMP" */
	uint16_t length;
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char productid[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t oemcount;
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type;
	uint8_t apicid;
	uint8_t apicver;
	uint8_t cpuflag;
	uint32_t cpufeature;
	uint32_t featureflag;
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type;
	uint8_t busid;
	char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type;
	uint8_t apicid;
	uint8_t apicver;
	uint8_t flags;
	uint32_t apicaddr;
} __attribute__((packed));

struct mpc_intsrc {
	uint8_t type;
	uint8_t irqtype;
	uint16_t irqflag;
	uint8_t srcbus;
	uint8_t srcbusirq;
	uint8_t dstapic;
	uint8_t dstirq;
} __attribute__((packed));

_Static_assert(sizeof(struct mpf_intel) == 16, "MP floating pointer size");
_Static_assert(sizeof(struct mpc_table) == 44, "MP config header size");
_Static_assert(sizeof(struct mpc_cpu) == 20, "MP processor entry size");
_Static_assert(sizeof(struct mpc_intsrc) == 8, "MP interrupt entry size");

#define CPU_ENABLED 1
#define CPU_BOOTPROCESSOR 2

static uint8_t checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return (uint8_t)-sum;
}

size_t mptable_size(unsigned int ncpus)
{
	return sizeof(struct mpf_intel) + sizeof(struct mpc_table) +
	       ncpus * sizeof(struct mpc_cpu) + sizeof(struct mpc_bus) +
	       sizeof(struct mpc_ioapic) +
	       X86_IOAPIC_PINS * sizeof(struct mpc_intsrc) +
	       2 * sizeof(struct mpc_intsrc);
}

int mptable_build(void *buf, size_t len, uint32_t gpa, unsigned int ncpus)
{
	size_t need = mptable_size(ncpus);
	struct mpf_intel *mpf = buf;
	struct mpc_table *mpc = (struct mpc_table *)(mpf + 1);
	uint8_t *p = (uint8_t *)(mpc + 1);
	uint8_t ioapic_id = ncpus; /* the first id after the CPUs' */
	unsigned int i, entries = 0;

	if (!ncpus || ncpus > 254)
		return -EINVAL;
	if (len < need)
		return -ENOSPC;
	memset(buf, 0, need);

	for (i = 0; i < ncpus; i++) {
		struct mpc_cpu *c = (struct mpc_cpu *)p;

		c->type = MP_PROCESSOR;
		c->apicid = i;
		c->apicver = MPC_APIC_VERSION;
		c->cpuflag = CPU_ENABLED | (i == 0 ? CPU_BOOTPROCESSOR : 0);
		c->cpufeature = 0x600; /* family 6 */
		c->featureflag = 0x201; /* FPU, APIC */
		p += sizeof(*c);
		entries++;
	}
	{
		struct mpc_bus *b = (struct mpc_bus *)p;

		b->type = MP_BUS;
		b->busid = 0;
		memcpy(b->bustype, "ISA   ", 6);
		p += sizeof(*b);
		entries++;
	}
	{
		struct mpc_ioapic *io = (struct mpc_ioapic *)p;

		io->type = MP_IOAPIC;
		io->apicid = ioapic_id;
		io->apicver = MPC_IOAPIC_VERSION;
		io->flags = 1; /* enabled */
		io->apicaddr = X86_IOAPIC_ADDR;
		p += sizeof(*io);
		entries++;
	}
	/* Bus IRQ n is IOAPIC pin n, as KVM's default GSI routing has it. */
	for (i = 0; i < X86_IOAPIC_PINS; i++) {
		struct mpc_intsrc *s = (struct mpc_intsrc *)p;

		s->type = MP_INTSRC;
		s->irqtype = MP_INT;
		s->irqflag = 0; /* conforms to the bus */
		s->srcbus = 0;
		s->srcbusirq = i;
		s->dstapic = ioapic_id;
		s->dstirq = i;
		p += sizeof(*s);
		entries++;
	}
	{
		struct mpc_intsrc *s = (struct mpc_intsrc *)p;

		/* LINT0: the 8259 as ExtINT; LINT1: NMI to every CPU. */
		s->type = MP_LINTSRC;
		s->irqtype = MP_EXTINT;
		s->dstapic = 0;
		s->dstirq = 0;
		s++;
		s->type = MP_LINTSRC;
		s->irqtype = MP_NMI;
		s->dstapic = 0xff;
		s->dstirq = 1;
		p += 2 * sizeof(*s);
		entries += 2;
	}

	memcpy(mpc->signature, "PCMP", 4);
	mpc->length = p - (uint8_t *)mpc;
	mpc->spec = MPC_SPEC;
	memcpy(mpc->oem, "KILN    ", 8);
	memcpy(mpc->productid, "MICROVM     ", 12);
	mpc->oemcount = entries;
	mpc->lapic = X86_LAPIC_ADDR;
	mpc->checksum = checksum(mpc, mpc->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = gpa + sizeof(*mpf);
	mpf->length = 1;
	mpf->specification = MPC_SPEC;
	mpf->checksum = checksum(mpf, sizeof(*mpf));
	return p - (uint8_t *)buf;
}
