// SPDX-License-Identifier: MIT
/* The device tree an aarch64 guest boots with, written with libfdt. */
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "arm64.h"
#include "layout.h"

/* Interrupt specifier cells of the GIC binding. */
#define GIC_SPI 0
#define GIC_PPI 1
#define IRQ_EDGE_RISING 1
#define IRQ_LEVEL_HIGH 4
#define IRQ_LEVEL_LOW 8

/* The architected timer's PPIs: secure, non-secure, virtual, hypervisor. */
static const uint32_t timer_ppis[] = { 13, 14, 11, 10 };

struct w {
	void *fdt;
	int err;
};

/* Every libfdt call goes through one of these: the first error sticks. */
static void chk(struct w *w, int r)
{
	if (r < 0 && !w->err)
		w->err = r;
}

static void prop_u32(struct w *w, const char *name, uint32_t v)
{
	chk(w, fdt_property_u32(w->fdt, name, v));
}

static void prop_str(struct w *w, const char *name, const char *s)
{
	chk(w, fdt_property_string(w->fdt, name, s));
}

static void prop_cells(struct w *w, const char *name, const uint32_t *c,
		       unsigned int n)
{
	fdt32_t be[16];
	unsigned int i;

	for (i = 0; i < n && i < 16; i++)
		be[i] = cpu_to_fdt32(c[i]);
	chk(w, fdt_property(w->fdt, name, be, n * sizeof(be[0])));
}

/* reg = <addr size> with two cells each. */
static void prop_reg(struct w *w, const uint64_t *pairs, unsigned int n)
{
	fdt64_t be[8];
	unsigned int i;

	for (i = 0; i < 2 * n && i < 8; i++)
		be[i] = cpu_to_fdt64(pairs[i]);
	chk(w, fdt_property(w->fdt, "reg", be, 2 * n * sizeof(be[0])));
}

static void begin(struct w *w, const char *name)
{
	chk(w, fdt_begin_node(w->fdt, name));
}

static void end(struct w *w)
{
	chk(w, fdt_end_node(w->fdt));
}

static void cpus_node(struct w *w, const struct arm64_fdt_desc *d)
{
	char name[32];
	unsigned int i;

	begin(w, "cpus");
	prop_u32(w, "#address-cells", 1);
	prop_u32(w, "#size-cells", 0);
	for (i = 0; i < d->ncpus; i++) {
		/* Aff2..Aff0: a microVM has no Aff3. */
		uint32_t reg = (uint32_t)(d->mpidr[i] & 0xffffff);

		snprintf(name, sizeof(name), "cpu@%x", reg);
		begin(w, name);
		prop_str(w, "device_type", "cpu");
		prop_str(w, "compatible", "arm,arm-v8");
		prop_str(w, "enable-method", "psci");
		prop_u32(w, "reg", reg);
		end(w);
	}
	end(w);
}

static void gic_node(struct w *w, const struct arm64_fdt_desc *d)
{
	const struct arm64_gic_layout *g = &d->gic;
	uint64_t reg[4] = { g->dist_base, g->dist_size, g->cpu_base,
			    g->cpu_size };
	char name[40];

	snprintf(name, sizeof(name), "intc@%llx",
		 (unsigned long long)g->dist_base);
	begin(w, name);
	prop_str(w, "compatible",
		 d->gic_version == 3 ? "arm,gic-v3" : "arm,cortex-a15-gic");
	prop_u32(w, "#interrupt-cells", 3);
	chk(w, fdt_property(w->fdt, "interrupt-controller", NULL, 0));
	prop_u32(w, "#address-cells", 2);
	prop_u32(w, "#size-cells", 2);
	prop_reg(w, reg, 2);
	prop_u32(w, "phandle", ARM64_FDT_GIC_PHANDLE);
	end(w);
}

static void timer_node(struct w *w, const struct arm64_fdt_desc *d)
{
	uint32_t cells[12], flags = IRQ_LEVEL_LOW;
	unsigned int i, n = d->ncpus > 8 ? 8 : d->ncpus;

	/* GICv2 names the CPUs a PPI goes to in the flags. */
	if (d->gic_version == 2)
		flags |= ((1U << n) - 1) << 8;
	for (i = 0; i < 4; i++) {
		cells[3 * i] = GIC_PPI;
		cells[3 * i + 1] = timer_ppis[i];
		cells[3 * i + 2] = flags;
	}
	begin(w, "timer");
	prop_str(w, "compatible", "arm,armv8-timer");
	prop_cells(w, "interrupts", cells, 12);
	chk(w, fdt_property(w->fdt, "always-on", NULL, 0));
	end(w);
}

static void uart_node(struct w *w, const struct arm64_fdt_desc *d, char *path,
		      size_t pathlen)
{
	uint64_t reg[2] = { d->uart_base, ARM64_UART_SIZE };
	uint32_t irq[3] = { GIC_SPI, d->uart_spi, IRQ_LEVEL_HIGH };

	snprintf(path, pathlen, "uart@%llx", (unsigned long long)d->uart_base);
	begin(w, path);
	prop_str(w, "compatible", "ns16550a");
	prop_reg(w, reg, 1);
	prop_cells(w, "interrupts", irq, 3);
	prop_u32(w, "clock-frequency", ARM64_UART_CLOCK);
	prop_u32(w, "reg-shift", 0);
	prop_u32(w, "reg-io-width", 1);
	end(w);
}

/* The PL031, an AMBA PrimeCell: its bus driver wants the APB clock. */
static void rtc_node(struct w *w, const struct arm64_fdt_desc *d)
{
	uint64_t reg[2] = { d->rtc_base, 0x1000 };
	uint32_t irq[3] = { GIC_SPI, d->rtc_spi, IRQ_LEVEL_HIGH };
	char name[40];

	if (!d->rtc_base)
		return;
	begin(w, "apb-pclk");
	prop_str(w, "compatible", "fixed-clock");
	prop_u32(w, "#clock-cells", 0);
	prop_u32(w, "clock-frequency", ARM64_APB_CLOCK);
	prop_str(w, "clock-output-names", "clk24mhz");
	prop_u32(w, "phandle", ARM64_FDT_CLOCK_PHANDLE);
	end(w);
	snprintf(name, sizeof(name), "rtc@%llx",
		 (unsigned long long)d->rtc_base);
	begin(w, name);
	chk(w, fdt_property(w->fdt, "compatible", "arm,pl031\0arm,primecell",
			    sizeof("arm,pl031\0arm,primecell")));
	prop_reg(w, reg, 1);
	prop_cells(w, "interrupts", irq, 3);
	prop_u32(w, "clocks", ARM64_FDT_CLOCK_PHANDLE);
	prop_str(w, "clock-names", "apb_pclk");
	end(w);
}

static void virtio_nodes(struct w *w, const struct arm64_fdt_desc *d)
{
	char name[40];
	unsigned int i;

	for (i = 0; i < d->nr_virtio; i++) {
		uint64_t reg[2] = { d->virtio_base[i], 0x200 };
		/* Signalled through an irqfd: a pulse, so edge-triggered. */
		uint32_t irq[3] = { GIC_SPI, d->virtio_spi[i],
				    IRQ_EDGE_RISING };

		snprintf(name, sizeof(name), "virtio_mmio@%llx",
			 (unsigned long long)d->virtio_base[i]);
		begin(w, name);
		prop_str(w, "compatible", "virtio,mmio");
		prop_reg(w, reg, 1);
		prop_cells(w, "interrupts", irq, 3);
		chk(w, fdt_property(w->fdt, "dma-coherent", NULL, 0));
		end(w);
	}
}

int arm64_fdt_build(const struct arm64_fdt_desc *d, void *buf, size_t len)
{
	struct w w = { buf, 0 };
	uint64_t mem[2] = { d->ram_base, d->ram_size };
	char name[48], uart[40];

	if (!d->ncpus || (d->gic_version != 2 && d->gic_version != 3) ||
	    len > INT32_MAX)
		return -EINVAL;
	chk(&w, fdt_create(buf, (int)len));
	chk(&w, fdt_finish_reservemap(buf));
	begin(&w, "");
	prop_str(&w, "compatible", "linux,dummy-virt");
	prop_u32(&w, "#address-cells", 2);
	prop_u32(&w, "#size-cells", 2);
	prop_u32(&w, "interrupt-parent", ARM64_FDT_GIC_PHANDLE);

	snprintf(name, sizeof(name), "memory@%llx",
		 (unsigned long long)d->ram_base);
	begin(&w, name);
	prop_str(&w, "device_type", "memory");
	prop_reg(&w, mem, 1);
	end(&w);

	cpus_node(&w, d);
	begin(&w, "psci");
	chk(&w, fdt_property(w.fdt, "compatible", "arm,psci-1.0\0arm,psci-0.2",
			     sizeof("arm,psci-1.0\0arm,psci-0.2")));
	prop_str(&w, "method", "hvc");
	end(&w);
	gic_node(&w, d);
	timer_node(&w, d);
	uart_node(&w, d, uart, sizeof(uart));
	rtc_node(&w, d);
	virtio_nodes(&w, d);

	begin(&w, "chosen");
	if (d->bootargs)
		prop_str(&w, "bootargs", d->bootargs);
	snprintf(name, sizeof(name), "/%s", uart);
	prop_str(&w, "stdout-path", name);
	if (d->initrd_size) {
		chk(&w, fdt_property_u64(w.fdt, "linux,initrd-start",
					 d->initrd_start));
		chk(&w, fdt_property_u64(w.fdt, "linux,initrd-end",
					 d->initrd_start + d->initrd_size));
	}
	end(&w);

	end(&w);
	chk(&w, fdt_finish(buf));
	if (w.err)
		return w.err == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
	return (int)fdt_totalsize(buf);
}
