/* SPDX-License-Identifier: MIT */
#ifndef KILN_VIRTIO_CONSOLE_H
#define KILN_VIRTIO_CONSOLE_H

#include "device.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio.h"

/*
 * virtio-console (virtio 1.x, 5.3). Port 0 is the guest's hvc0. With
 * multiport (VIRTIO_CONSOLE_F_MULTIPORT) more ports are offered, each
 * named for the guest (/sys/class/virtio-ports/vport*p* /name) and each a
 * byte-exact stream: `kiln run -- CMD` maps the command's stdin, stdout
 * and stderr to ports, and a status port carries its exit status.
 *
 * The control queues tell each side when the other opens or closes a
 * port, which is how end-of-file travels: the guest closing an output
 * port closes kiln's fd behind it, kiln's input ending closes the port
 * for the guest once every byte was delivered.
 */

#define CONSOLE_MAX_PORTS 6
#define CONSOLE_QUEUE_SIZE 128
#define CONSOLE_CTRL_PENDING 32
#define CONSOLE_NAME_MAX 32

enum console_port_role {
	PORT_CONSOLE, /* hvc0: output to out_fd, input from the main loop */
	PORT_INPUT, /* host to guest only */
	PORT_OUTPUT, /* guest to host only; guest close closes out_fd */
	PORT_STATUS, /* guest writes "exit N\n" lines */
};

struct console_port {
	enum console_port_role role;
	char name[CONSOLE_NAME_MAX];
	int out_fd; /* guest output goes here, -1 drops it */
	unsigned int rxq, txq;
	bool guest_open; /* the guest has the port open */
	bool host_open; /* the host side is connected */
	char line[32]; /* PORT_STATUS: the line being received */
	unsigned int line_len;
};

/* A control message waiting for a buffer on the control receive queue. */
struct console_ctrl_msg {
	uint32_t id;
	uint16_t event, value;
	char name[CONSOLE_NAME_MAX]; /* PORT_NAME only */
};

struct virtio_console {
	struct virtio_dev vdev;
	bool multiport;
	unsigned int nr_ports;
	struct console_port port[CONSOLE_MAX_PORTS];
	int space_fd; /* readable when the guest can take more input */
	int null_fd; /* /dev/null, for output ports the guest closes */
	struct virtq_chain chain;
	struct console_port *tx_port; /* whose queue is being served */
	struct virtq_chain rx_chain;
	struct console_ctrl_msg pending[CONSOLE_CTRL_PENDING];
	unsigned int nr_pending;
	/* PORT_STATUS: called with the status the guest reported. */
	void (*on_status)(void *opaque, int status);
	void *opaque;
};

/* A single-port console: hvc0 only, its output to out_fd. */
struct virtio_console *virtio_console_new(struct vm *vm, int out_fd);

/*
 * A multiport console with port 0 (hvc0, output to console_fd) only;
 * add named ports before the guest starts.
 */
struct virtio_console *virtio_console_new_multi(struct vm *vm, int console_fd);

/* Adds a named port; returns its id or -1 when full. */
int virtio_console_add_port(struct virtio_console *c, const char *name,
			    enum console_port_role role, int out_fd,
			    bool host_open);
void virtio_console_free(struct virtio_console *c);

/*
 * Gives host input to a port (0 for hvc0). Returns the bytes the guest had
 * room for; when short, space_fd turns readable once it can take more.
 */
size_t virtio_console_receive(struct virtio_console *c, const uint8_t *buf,
			      size_t n);
size_t virtio_console_port_receive(struct virtio_console *c, unsigned int id,
				   const uint8_t *buf, size_t n);

/* The host's side of a port ended: the guest reads end-of-file. */
void virtio_console_host_close(struct virtio_console *c, unsigned int id);

/* Serves every queued guest output (at stop, after the I/O thread). */
void virtio_console_flush(struct virtio_console *c);

/* Parses a status line ("exit N"): 0..255, or -1 when malformed. */
int console_parse_status(const char *line);

/* Its entry in the VM's device list (vmm/device.h). */
extern const struct device_ops virtio_console_device_ops;

#endif
