// SPDX-License-Identifier: MIT
/*
 * virtio-net as a hostile driver sees it: transmit chains (header and
 * frame parsing, passt framing out to a socket), receive buffers for
 * frames arriving from the host (MRG_RXBUF splitting), feature
 * negotiation and resets in between. See driver.h for the script.
 */
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "driver.h"
#include "net.h"

static int peer = -1;

static void net_input(void *dev, uint8_t sel, const uint8_t *d, size_t n)
{
	struct virtio_net *net = dev;

	(void)sel;
	if (n > NET_MAX_FRAME)
		n = NET_MAX_FRAME;
	memset(net->rx, 0, NET_HDR_LEN);
	memcpy(net->rx + NET_HDR_LEN, d, n);
	net->rx_len = NET_HDR_LEN + n;
	if (net_rx_deliver(net) != 0)
		net->rx_len = 0;
}

static void net_drain(void *dev)
{
	static uint8_t sink[1 << 16];

	(void)dev;
	while (read(peer, sink, sizeof(sink)) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
	static struct vm vm;
	struct fuzz_dev d = { 0 };
	struct virtio_net *n;
	struct virtio_mmio t;
	int sv[2];

	fz_vm(&vm);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		       sv))
		return 0;
	n = virtio_net_alloc(&vm, NET_USER, mac, 0);
	if (!n) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	n->fd = sv[0];
	peer = sv[1];
	virtio_mmio_init(&t, &vm, &n->vdev);
	d.t = &t;
	d.dev = n;
	d.host_input = net_input;
	d.drain = net_drain;
	fuzz_drive(&d, data, size);
	virtio_mmio_detach(&t);
	virtio_net_device_ops.destroy(n);
	close(sv[1]);
	return 0;
}
