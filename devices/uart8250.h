/* SPDX-License-Identifier: MIT */
#ifndef KILN_UART8250_H
#define KILN_UART8250_H

#include "device.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A 16550A UART: what Linux's 8250 driver needs for a console, with a
 * receive FIFO fed from the host and transmit going straight to a fd.
 * The same model sits on port I/O (x86, 8 one-byte registers) or MMIO.
 */

struct uart8250;

/* Raises (level 1) or lowers (0) the UART's interrupt line. */
typedef void (*uart_irq_fn)(void *opaque, int level);

/*
 * Creates a UART that writes transmitted bytes to out_fd (-1: dropped).
 * Returns NULL on allocation failure.
 */
struct uart8250 *uart8250_new(int out_fd, uart_irq_fn irq, void *irq_opaque);
void uart8250_free(struct uart8250 *u);

/* Bus handler: offset 0..7 is the register index. */
void uart8250_access(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
		     bool is_write);

/*
 * Queues host input for the guest. Returns how many bytes fit; when fewer
 * than n, the fd from uart8250_space_fd() turns readable once the guest
 * has drained the FIFO (read it to re-arm).
 */
size_t uart8250_receive(struct uart8250 *u, const uint8_t *buf, size_t n);
int uart8250_space_fd(const struct uart8250 *u);

/* Its entry in the VM's device list (vmm/device.h). */
extern const struct device_ops uart8250_device_ops;

#endif
