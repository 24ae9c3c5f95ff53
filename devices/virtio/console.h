/* SPDX-License-Identifier: MIT */
#ifndef KILN_VIRTIO_CONSOLE_H
#define KILN_VIRTIO_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmio.h"

/*
 * virtio-console. Port 0 is the guest's hvc0, wired to kiln's terminal.
 * Ports are kept in an array with their own queue pair and host fds so
 * that multiport (VIRTIO_CONSOLE_F_MULTIPORT: control queues, ports named
 * for the guest) can be added without reworking the data path.
 */

#define CONSOLE_MAX_PORTS 1
#define CONSOLE_QUEUE_SIZE 64

struct console_port {
	int out_fd; /* guest output goes here */
	unsigned int rxq, txq;
	bool spoke; /* the guest has written: it has the port open */
};

struct virtio_console {
	struct virtio_mmio t;
	struct console_port port[CONSOLE_MAX_PORTS];
	int space_fd; /* readable when the guest posted receive buffers */
	struct virtq_chain chain;
	struct virtq_chain rx_chain;
};

struct virtio_console *virtio_console_new(struct vm *vm, int out_fd);
void virtio_console_free(struct virtio_console *c);

/*
 * Gives host input to port 0. Returns the bytes the guest had room for;
 * when short, space_fd turns readable once it posts more buffers.
 */
size_t virtio_console_receive(struct virtio_console *c, const uint8_t *buf,
			      size_t n);

#endif
