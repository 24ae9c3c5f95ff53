/* SPDX-License-Identifier: MIT */
/*
 * A hostile virtio driver for whole-device fuzz targets: the input is a
 * script of register accesses, guest-memory writes, descriptor chains,
 * queue kicks, resets and host-side input, run against one device model
 * over a small guest RAM. An op can also perform a well-formed driver
 * set-up, so the fuzzer spends its time on what follows.
 */
#ifndef KILN_FUZZ_DRIVER_H
#define KILN_FUZZ_DRIVER_H

#include <stdint.h>
#include <string.h>

#include "log.h"
#include "mmio.h"
#include "vm.h"

#define FZ_RAM (256 << 10)
#define FZ_QSIZE 16

struct fuzz_dev {
	struct virtio_mmio *t; /* in front of the model's virtio device */
	/* Host-side input (a received frame, console input). */
	void (*host_input)(void *dev, uint8_t sel, const uint8_t *d, size_t n);
	void *dev;
	/* Host-side output to drain after each op, or NULL. */
	void (*drain)(void *dev);
	uint16_t avail_idx[VIRTIO_MMIO_MAX_QUEUES];
	uint16_t next_desc[VIRTIO_MMIO_MAX_QUEUES];
};

static uint8_t fz_ram[FZ_RAM];

static void fz_vm(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->mem.nr = 1;
	vm->mem.region[0] = (struct mem_region){ 0, FZ_RAM, fz_ram };
	memset(fz_ram, 0, FZ_RAM);
	log_set_level(LOG_QUIET);
}

static uint32_t fz_reg(struct fuzz_dev *d, uint32_t off)
{
	uint8_t b[4] = { 0 };

	virtio_mmio_access(d->t, off, b, 4, false);
	return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

static void fz_wreg(struct fuzz_dev *d, uint32_t off, uint32_t v)
{
	uint8_t b[4] = { v, v >> 8, v >> 16, v >> 24 };

	virtio_mmio_access(d->t, off, b, 4, true);
}

/* Queue q's rings: descriptors, then avail, then used, 3 pages each. */
static uint64_t fz_desc(unsigned int q)
{
	return 0x1000 + q * 0x3000;
}

static void fz_setup(struct fuzz_dev *d)
{
	unsigned int q;
	uint32_t f;

	fz_wreg(d, 0x70, 0);
	fz_wreg(d, 0x70, 1);
	fz_wreg(d, 0x70, 3);
	for (f = 0; f < 2; f++) {
		fz_wreg(d, 0x14, f);
		fz_wreg(d, 0x24, f);
		fz_wreg(d, 0x20, fz_reg(d, 0x10));
	}
	fz_wreg(d, 0x70, 0xb);
	for (q = 0; q < d->t->dev->ops->nr_queues && q < 8; q++) {
		uint64_t a = fz_desc(q);

		fz_wreg(d, 0x30, q);
		fz_wreg(d, 0x38, FZ_QSIZE);
		fz_wreg(d, 0x80, a);
		fz_wreg(d, 0x84, 0);
		fz_wreg(d, 0x90, a + 0x1000);
		fz_wreg(d, 0x94, 0);
		fz_wreg(d, 0xa0, a + 0x2000);
		fz_wreg(d, 0xa4, 0);
		fz_wreg(d, 0x44, 1);
		d->avail_idx[q] = d->next_desc[q] = 0;
	}
	fz_wreg(d, 0x70, 0xf);
}

static void put16(uint64_t gpa, uint16_t v)
{
	fz_ram[gpa] = v;
	fz_ram[gpa + 1] = v >> 8;
}

/*
 * A chain of n descriptors in queue q: each names an address (anywhere in
 * RAM, or not), a length and flags; the chain is offered and kicked.
 */
static size_t fz_chain(struct fuzz_dev *d, const uint8_t *p, size_t left)
{
	unsigned int q, n, i;
	uint64_t dt;
	uint16_t head;

	if (left < 2)
		return left;
	q = p[0] %
	    (d->t->dev->ops->nr_queues < 8 ? d->t->dev->ops->nr_queues : 8);
	n = p[1] % 8 + 1;
	p += 2;
	left -= 2;
	dt = fz_desc(q);
	head = d->next_desc[q];
	for (i = 0; i < n && left >= 6; i++, p += 6, left -= 6) {
		uint16_t idx = (head + i) % FZ_QSIZE;
		uint64_t e = dt + idx * 16;
		uint64_t addr = (uint64_t)(p[0] | p[1] << 8) << 3;
		uint32_t len = p[2] | p[3] << 8;
		uint16_t flags = p[4] & 7; /* NEXT, WRITE, INDIRECT */

		if (p[5] & 0x80)
			addr |= (uint64_t)p[5] << 40; /* outside RAM */
		memcpy(fz_ram + e, &addr, 8);
		memcpy(fz_ram + e + 8, &len, 4);
		if (i + 1 < n)
			flags |= 1;
		else
			flags &= ~1;
		put16(e + 12, flags);
		put16(e + 14, (flags & 1) ? (idx + 1) % FZ_QSIZE : p[5] % 32);
	}
	d->next_desc[q] = (head + n) % FZ_QSIZE;
	put16(dt + 0x1000 + 4 + (d->avail_idx[q] % FZ_QSIZE) * 2, head);
	d->avail_idx[q]++;
	put16(dt + 0x1000 + 2, d->avail_idx[q]);
	virtio_mmio_queue_kick(d->t, q);
	return left;
}

static void fuzz_drive(struct fuzz_dev *d, const uint8_t *p, size_t size)
{
	while (size) {
		uint8_t op = p[0] % 8;
		size_t need = 1;

		p++;
		size--;
		switch (op) {
		case 0: /* register write: offset, size, value */
		case 1: /* register read */
			if (size < 7)
				return;
			{
				uint32_t off = (p[0] | p[1] << 8) & 0x1ff;
				uint8_t b[8];

				memcpy(b, p + 3, 4);
				memset(b + 4, 0, 4);
				virtio_mmio_access(d->t, off, b,
						   1u << (p[2] & 3), op == 0);
			}
			need = 7;
			break;
		case 2: /* guest memory: offset, then up to 16 bytes */
			if (size < 3)
				return;
			{
				uint32_t off =
					((p[0] | p[1] << 8) << 2) % FZ_RAM;
				size_t n = p[2] % 17;

				if (n > size - 3)
					n = size - 3;
				if (off + n > FZ_RAM)
					n = FZ_RAM - off;
				memcpy(fz_ram + off, p + 3, n);
				need = 3 + n;
			}
			break;
		case 3: /* kick */
			if (size < 1)
				return;
			virtio_mmio_queue_kick(
				d->t, p[0] % d->t->dev->ops->nr_queues);
			break;
		case 4: /* host input: selector, length, bytes */
			if (size < 2)
				return;
			{
				size_t n = p[1];

				if (n > size - 2)
					n = size - 2;
				if (d->host_input)
					d->host_input(d->dev, p[0], p + 2, n);
				need = 2 + n;
			}
			break;
		case 5:
			fz_setup(d);
			need = 0;
			break;
		case 6:
			need = size - fz_chain(d, p, size);
			break;
		case 7: /* reset in the middle of anything */
			fz_wreg(d, 0x70, 0);
			need = 0;
			break;
		}
		if (d->drain)
			d->drain(d->dev);
		if (need > size)
			return;
		p += need;
		size -= need;
	}
}

#endif
