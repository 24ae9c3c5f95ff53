// SPDX-License-Identifier: MIT
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "i8042.h"

#define STATUS_OBF 0x01
#define STATUS_SYS 0x04
#define STATUS_CMD 0x08 /* last write was to the command port */
#define STATUS_UNLOCKED 0x10 /* the keyboard is not inhibited */

#define CTR_KBD_INT 0x01
#define CTR_SYS 0x04
#define CTR_KBD_DISABLE 0x10
#define CTR_AUX_DISABLE 0x20
#define CTR_XLATE 0x40

#define CMD_READ_CTR 0x20
#define CMD_WRITE_CTR 0x60
#define CMD_AUX_DISABLE 0xa7
#define CMD_AUX_ENABLE 0xa8
#define CMD_AUX_TEST 0xa9
#define CMD_SELF_TEST 0xaa
#define CMD_KBD_TEST 0xab
#define CMD_KBD_DISABLE 0xad
#define CMD_KBD_ENABLE 0xae
#define CMD_READ_OUTP 0xd0
#define CMD_WRITE_OUTP 0xd1
#define CMD_AUX_LOOP 0xd3 /* write the mouse's output buffer */
#define CMD_WRITE_AUX 0xd4
#define CMD_RESET_CPU 0xfe

#define OUTBUF_SIZE 16

struct i8042 {
	pthread_mutex_t lock;
	i8042_reset_fn reset;
	i8042_irq_fn irq;
	void *opaque;

	uint8_t status, ctr, outp;
	uint8_t pending_cmd; /* a command waiting for its data byte */
	uint8_t out[OUTBUF_SIZE];
	unsigned int out_head, out_count;
	int irq1;
};

struct i8042 *i8042_new(i8042_reset_fn reset, i8042_irq_fn irq, void *opaque)
{
	struct i8042 *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	pthread_mutex_init(&k->lock, NULL);
	k->reset = reset;
	k->irq = irq;
	k->opaque = opaque;
	k->status = STATUS_SYS | STATUS_UNLOCKED;
	k->ctr = CTR_KBD_INT | CTR_SYS | CTR_XLATE;
	k->outp = 0x01; /* reset line not asserted */
	return k;
}

void i8042_free(struct i8042 *k)
{
	if (!k)
		return;
	pthread_mutex_destroy(&k->lock);
	free(k);
}

static void update_irq(struct i8042 *k)
{
	int level = (k->status & STATUS_OBF) && (k->ctr & CTR_KBD_INT);

	if (level != k->irq1) {
		k->irq1 = level;
		if (k->irq)
			k->irq(k->opaque, 1, level);
	}
}

static void push(struct i8042 *k, uint8_t v)
{
	if (k->out_count == OUTBUF_SIZE)
		return;
	k->out[(k->out_head + k->out_count) % OUTBUF_SIZE] = v;
	k->out_count++;
	k->status |= STATUS_OBF;
}

static uint8_t pop(struct i8042 *k)
{
	uint8_t v;

	if (!k->out_count)
		return 0;
	v = k->out[k->out_head];
	k->out_head = (k->out_head + 1) % OUTBUF_SIZE;
	if (!--k->out_count)
		k->status &= ~STATUS_OBF;
	return v;
}

/* Returns true when the guest asked for a CPU reset. */
static bool command(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case CMD_READ_CTR:
		push(k, k->ctr);
		break;
	case CMD_WRITE_CTR:
	case CMD_WRITE_OUTP:
	case CMD_WRITE_AUX:
	case CMD_AUX_LOOP:
		k->pending_cmd = cmd;
		break;
	case CMD_AUX_DISABLE:
		k->ctr |= CTR_AUX_DISABLE;
		break;
	case CMD_AUX_ENABLE:
		k->ctr &= ~CTR_AUX_DISABLE;
		break;
	case CMD_AUX_TEST:
		/*
		 * "Clock line stuck low": Linux gives the mouse port up at
		 * once (0xff it takes for a working port, then waits for
		 * interrupts that never come).
		 */
		push(k, 0x01);
		break;
	case CMD_SELF_TEST:
		push(k, 0x55);
		break;
	case CMD_KBD_TEST:
		push(k, 0x00);
		break;
	case CMD_KBD_DISABLE:
		k->ctr |= CTR_KBD_DISABLE;
		break;
	case CMD_KBD_ENABLE:
		k->ctr &= ~CTR_KBD_DISABLE;
		break;
	case CMD_READ_OUTP:
		push(k, k->outp);
		break;
	default:
		/* 0xf0..0xff pulse output lines; bit 0 is the reset line. */
		if (cmd >= 0xf0 && !(cmd & 0x01))
			return true;
		break;
	}
	return false;
}

/* A byte written to the data port. Returns true for a reset request. */
static bool data_write(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending_cmd;

	k->pending_cmd = 0;
	switch (cmd) {
	case CMD_WRITE_CTR:
		k->ctr = v;
		break;
	case CMD_WRITE_OUTP:
		k->outp = v;
		if (!(v & 0x01))
			return true;
		break;
	case CMD_WRITE_AUX:
		/* No mouse: nothing answers. */
		break;
	case CMD_AUX_LOOP:
		/*
		 * Comes back as keyboard data, not the mouse's: the loop test
		 * fails at once instead of timing out.
		 */
		push(k, v);
		break;
	default:
		/* A keyboard command: acknowledge it. */
		push(k, 0xfa);
		if (v == 0xff) /* reset: passed its self-test */
			push(k, 0xaa);
		else if (v == 0xf2) /* identify: an MF2 keyboard */
			push(k, 0xab), push(k, 0x83);
		break;
	}
	return false;
}

void i8042_access(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
		  bool is_write)
{
	struct i8042 *k = opaque;
	bool reset = false;

	if (len != 1 || (offset != 0 && offset != 4)) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&k->lock);
	if (offset == 4) {
		if (is_write) {
			k->status |= STATUS_CMD;
			reset = command(k, data[0]);
		} else {
			data[0] = k->status;
		}
	} else {
		if (is_write) {
			k->status &= ~STATUS_CMD;
			reset = data_write(k, data[0]);
		} else {
			data[0] = pop(k);
			/*
			 * IRQ 1 is edge-triggered and Linux reads one byte
			 * per interrupt: the next byte gets its own edge.
			 */
			if (k->out_count && k->irq1) {
				k->irq1 = 0;
				if (k->irq)
					k->irq(k->opaque, 1, 0);
			}
		}
	}
	update_irq(k);
	pthread_mutex_unlock(&k->lock);
	if (reset && k->reset)
		k->reset(k->opaque);
}

int i8042_keys(struct i8042 *k, const uint8_t *codes, unsigned int n)
{
	unsigned int i;

	pthread_mutex_lock(&k->lock);
	if (k->out_count + n > OUTBUF_SIZE) {
		pthread_mutex_unlock(&k->lock);
		return -1;
	}
	for (i = 0; i < n; i++)
		push(k, codes[i]);
	update_irq(k);
	pthread_mutex_unlock(&k->lock);
	return 0;
}

static void i8042_destroy(void *dev)
{
	i8042_free(dev);
}

const struct device_ops i8042_device_ops = {
	.destroy = i8042_destroy,
};
