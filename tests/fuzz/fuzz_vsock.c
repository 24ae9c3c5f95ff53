// SPDX-License-Identifier: MIT
/*
 * virtio-vsock as a hostile driver and hostile host programs see it:
 * transmit packets (headers, credit, connection state), receive buffers,
 * resets, and on the host side CONNECT lines, data and hang-ups from
 * programs on its UNIX socket and from the listeners the guest reaches.
 * See driver.h for the script.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "driver.h"
#include "vsock.h"

#define CLIENTS 8

static int clients[CLIENTS], nclients;
static int accepted[CLIENTS], naccepted;
static int lfd = -1;
static char uds[108], lpath[120];

static void remove_sockets(void)
{
	unlink(uds);
	unlink(lpath);
}

static int uds_client(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", uds);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* sel: a new program (its first bytes), a program's bytes, a hang-up,
 * or bytes from a listener's side of a guest connection. */
static void vs_input(void *dev, uint8_t sel, const uint8_t *d, size_t n)
{
	struct virtio_vsock *v = dev;
	int fd = -1;

	switch (sel % 4) {
	case 0:
		if (nclients < CLIENTS && (fd = uds_client()) >= 0)
			clients[nclients++] = fd;
		break;
	case 1:
		if (nclients)
			fd = clients[sel / 4 % nclients];
		break;
	case 2:
		if (nclients) {
			unsigned int i = sel / 4 % nclients;

			close(clients[i]);
			clients[i] = clients[--nclients];
		}
		break;
	case 3:
		if (naccepted)
			fd = accepted[sel / 4 % naccepted];
		break;
	}
	if (fd >= 0 && n && send(fd, d, n, MSG_NOSIGNAL) < 0) {
		/* A full or closed socket: as a program would see it. */
	}
	virtio_vsock_poll(v);
}

static void vs_drain(void *dev)
{
	static uint8_t sink[1 << 16];
	int i, fd;

	while (naccepted < CLIENTS &&
	       (fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0)
		accepted[naccepted++] = fd;
	for (i = 0; i < nclients; i++)
		while (read(clients[i], sink, sizeof(sink)) > 0)
			;
	for (i = 0; i < naccepted; i++)
		while (read(accepted[i], sink, sizeof(sink)) > 0)
			;
	virtio_vsock_poll(dev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm vm;
	struct fuzz_dev d = { 0 };
	struct virtio_vsock *v;
	struct virtio_mmio t;
	char err[256];
	int i;

	fz_vm(&vm);
	if (lfd < 0) {
		struct sockaddr_un a = { .sun_family = AF_UNIX };

		snprintf(uds, sizeof(uds), "/tmp/kiln-fuzz-vsock-%d", getpid());
		/* The guest's connections to host port 5000 land here. */
		snprintf(lpath, sizeof(lpath), "%s_5000", uds);
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", lpath);
		unlink(lpath);
		atexit(remove_sockets);
		lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) ||
		    listen(lfd, 64))
			return 0;
	}
	unlink(uds);
	v = virtio_vsock_new(&vm, 3, uds, err, sizeof(err));
	if (!v)
		return 0;
	virtio_mmio_init(&t, &vm, &v->vdev);
	d.t = &t;
	d.dev = v;
	d.host_input = vs_input;
	d.drain = vs_drain;
	fuzz_drive(&d, data, size);
	virtio_mmio_detach(&t);
	virtio_vsock_device_ops.destroy(v);
	for (i = 0; i < nclients; i++)
		close(clients[i]);
	for (i = 0; i < naccepted; i++)
		close(accepted[i]);
	nclients = naccepted = 0;
	return 0;
}
