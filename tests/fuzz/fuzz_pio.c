// SPDX-License-Identifier: MIT
/*
 * The legacy port devices (8250 UART, i8042, CMOS): the input is a
 * sequence of (device, register, direction, value) accesses.
 */
#include <stdint.h>
#include <string.h>

#include "cmos.h"
#include "i8042.h"
#include "uart8250.h"

static void irq(void *opaque, int level)
{
	(void)opaque;
	(void)level;
}

static void kirq(void *opaque, unsigned int n, int level)
{
	(void)opaque;
	(void)n;
	(void)level;
}

static void reset(void *opaque)
{
	(void)opaque;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uart8250 *u = uart8250_new(-1, irq, NULL);
	struct i8042 *k = i8042_new(reset, kirq, NULL);
	struct cmos c;
	size_t i;

	cmos_init(&c);
	for (i = 0; i + 3 <= size; i += 3) {
		uint8_t v = data[i + 2], reg = data[i + 1];
		bool w = data[i] & 0x80;
		uint32_t len = 1u << ((data[i] >> 4) & 3);
		uint8_t buf[8] = { v, v, v, v, v, v, v, v };

		switch (data[i] & 3) {
		case 0:
			uart8250_access(u, reg & 15, buf, len, w);
			break;
		case 1:
			i8042_access(k, reg % 8, buf, len, w);
			break;
		case 2:
			cmos_access(&c, reg & 3, buf, len, w);
			break;
		default:
			uart8250_receive(u, data + i, 3);
			break;
		}
	}
	uart8250_free(u);
	i8042_free(k);
	return 0;
}
