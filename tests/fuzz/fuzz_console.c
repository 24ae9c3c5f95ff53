// SPDX-License-Identifier: MIT
/*
 * The multiport virtio-console of `kiln run -- CMD` as a hostile driver
 * sees it: control messages (port ready/open for ports that do or do not
 * exist), output on every port, the status port's lines, input arriving
 * from the host, resets in between. See driver.h for the script.
 */
#include <fcntl.h>
#include <unistd.h>

#include "console.h"
#include "driver.h"

static void con_input(void *dev, uint8_t sel, const uint8_t *d, size_t n)
{
	struct virtio_console *c = dev;

	if (sel & 0x80)
		virtio_console_host_close(c, sel % c->nr_ports);
	else
		virtio_console_port_receive(c, sel % c->nr_ports, d, n);
}

static void on_status(void *opaque, int status)
{
	(void)opaque;
	(void)status;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm vm;
	static int null = -1;
	struct fuzz_dev d = { 0 };
	struct virtio_console *c;
	struct virtio_mmio t;
	int out[2];

	if (null < 0)
		null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	fz_vm(&vm);
	c = virtio_console_new_multi(&vm, null);
	if (!c)
		return 0;
	/* The ports `kiln run` adds, with output to dup()s of /dev/null. */
	virtio_console_add_port(c, "kiln.stdin", PORT_INPUT, -1, true);
	out[0] = dup(null);
	out[1] = dup(null);
	virtio_console_add_port(c, "kiln.stdout", PORT_OUTPUT, out[0], true);
	virtio_console_add_port(c, "kiln.stderr", PORT_OUTPUT, out[1], true);
	virtio_console_add_port(c, "kiln.status", PORT_STATUS, -1, true);
	c->on_status = on_status;
	virtio_mmio_init(&t, &vm, &c->vdev);
	d.t = &t;
	d.dev = c;
	d.host_input = con_input;
	fuzz_drive(&d, data, size);
	virtio_mmio_detach(&t);
	virtio_console_device_ops.destroy(c);
	close(out[0]);
	close(out[1]);
	return 0;
}
