/* SPDX-License-Identifier: MIT */
#ifndef KILN_I8042_H
#define KILN_I8042_H

#include "device.h"

#include <stdbool.h>
#include <stdint.h>

/*
 * The PC keyboard controller, as far as Linux needs it: the controller
 * self-test and command byte so the i8042 driver probes quietly, a keyboard
 * that acknowledges commands, and the CPU reset line (command 0xfe, or a
 * write of the output port with bit 0 clear) that `reboot=k` uses.
 */

struct i8042;

typedef void (*i8042_reset_fn)(void *opaque);
typedef void (*i8042_irq_fn)(void *opaque, unsigned int irq, int level);

struct i8042 *i8042_new(i8042_reset_fn reset, i8042_irq_fn irq, void *opaque);
void i8042_free(struct i8042 *k);

/* Bus handler for ports 0x60..0x64 (offset 0 = data, 4 = command/status). */
void i8042_access(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
		  bool is_write);

#define I8042_DATA_PORT 0x60
#define I8042_PORT_SPAN 5

/*
 * Queues keyboard scancodes (set 1, as the controller's translation gives
 * them) and interrupts: a key typed on a keyboard the VM does not have.
 * Returns 0, or -1 when they do not fit the output buffer.
 */
int i8042_keys(struct i8042 *k, const uint8_t *codes, unsigned int n);

/* Its entry in the VM's device list (vmm/device.h). */
extern const struct device_ops i8042_device_ops;

#endif
