/* SPDX-License-Identifier: MIT */
#ifndef KILN_VIRTIO_VSOCK_H
#define KILN_VIRTIO_VSOCK_H

#include "device.h"

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_vsock.h>

#include "metrics.h"
#include "virtio.h"

/*
 * virtio-vsock (virtio 1.x, 5.10) with Firecracker's host side: stream
 * connections between guest ports and UNIX sockets.
 *
 *   host -> guest: a program connects to uds_path and writes
 *                  "CONNECT <port>\n"; kiln asks the guest's listener on
 *                  that port and answers "OK <host port>\n", then relays.
 *   guest -> host: a guest connection to host port P (CID 2) reaches a
 *                  listener at "<uds_path>_<P>".
 *
 * Flow control is the spec's credit scheme both ways: kiln forwards what
 * the guest sends at once and keeps at most VSOCK_BUF_ALLOC bytes of a
 * connection that the host side has not taken (the credit it gives), and
 * reads from a host socket only as much as the guest has room for.
 */

#define VSOCK_QUEUE_SIZE 256
#define VSOCK_HOST_CID 2
#define VSOCK_HDR_LEN ((uint32_t)sizeof(struct virtio_vsock_hdr))
/* The credit each connection gives the guest, and the most kiln holds. */
#define VSOCK_BUF_ALLOC (256U << 10)
/* The largest packet payload kiln accepts or sends. */
#define VSOCK_MAX_PAYLOAD (64U << 10)
#define VSOCK_MAX_CONNS 1024
/* The CONNECT line, newline included. */
#define VSOCK_LINE_MAX 32
/* RSTs waiting for a receive buffer, for packets with no connection. */
#define VSOCK_ORPHAN_RSTS 64

/* The line a host program sends first: "CONNECT <port>\n". */
struct vsock_line {
	char buf[VSOCK_LINE_MAX];
	unsigned int len;
};

/* Feeds one byte: 0 while the line is incomplete, 1 when it ended well
 * (*port set), -1 for anything else (too long, not that form). */
int vsock_line_feed(struct vsock_line *l, char c, uint32_t *port);

/*
 * Bytes the peer can still take: its buffer less what was sent and not
 * yet forwarded by it (32-bit counters that wrap). A peer claiming to
 * have forwarded more than was sent gets no credit.
 */
uint32_t vsock_credit(uint32_t peer_buf_alloc, uint32_t peer_fwd_cnt,
		      uint32_t sent);

/* A packet from the guest: why it is refused, or NULL. */
const char *vsock_hdr_check(const struct virtio_vsock_hdr *h,
			    uint64_t guest_cid, uint64_t payload_room);

enum vconn_state {
	VC_HANDSHAKE, /* a host program's socket: reading its CONNECT */
	VC_CONNECTING, /* REQUEST for the guest, waiting for its answer */
	VC_ESTABLISHED,
};

struct vconn {
	struct vconn *hnext; /* hash chain */
	struct vconn *prev, *next; /* every connection */
	int fd;
	enum vconn_state state;
	bool dead; /* closed: freed once no event can name it */
	uint32_t local_port; /* the host's port */
	uint32_t peer_port; /* the guest's */
	struct vsock_line line;
	uint32_t events; /* what the event loop watches for */

	unsigned int pend; /* control packets owed to the guest (PEND_*) */
	/* Guest to host: bytes received, forwarded to the host socket, and
	 * the forwarded count last told the guest; what the host socket
	 * has not taken waits in a ring of VSOCK_BUF_ALLOC (made on need). */
	uint32_t recv_cnt, fwd_cnt, fwd_told;
	uint8_t *ring;
	uint32_t ring_head, ring_len;
	/* Host to guest: bytes sent; the guest's buffer and forward count. */
	uint32_t sent;
	uint32_t peer_buf_alloc, peer_fwd_cnt;
	bool want_rx; /* data waits but the guest has no buffer */
	bool host_eof; /* the host side will send no more (guest told) */
	bool guest_no_send, guest_no_recv; /* the guest's SHUTDOWN flags */
	bool host_wr_shut; /* shutdown(SHUT_WR) done */
};

#define VSOCK_HASH 256

struct virtio_vsock {
	struct virtio_dev vdev;
	struct virtio_vsock_config cfg;
	uint64_t cid;
	char *uds_path;
	int listen_fd;
	int ep; /* the connections' own epoll set, itself in the I/O loop */
	struct vconn *hash[VSOCK_HASH];
	struct vconn *all, *graveyard;
	unsigned int nr_conns, nr_pend;
	uint32_t next_port; /* host ports for host-initiated connections */
	struct {
		uint32_t local, peer;
	} orphan[VSOCK_ORPHAN_RSTS];
	unsigned int nr_orphans;
	bool rx_starved; /* the guest had no receive buffer */
	bool rx_any; /* receive buffers used, not yet published */
	bool bound; /* uds_path is ours: removed at the end */
	struct virtq_chain rxc, txc;
	struct iovec iov[VIRTQ_MAX_CHAIN]; /* a packet's payload */

	struct metric rx_packets_count, rx_bytes_count;
	struct metric tx_packets_count, tx_bytes_count;
	struct metric conns_added, conns_killed, conns_removed;
	struct metric tx_write_fails, rx_read_fails, tx_invalid;
};

/*
 * Listens on uds_path (which must not exist: the one-line error says so)
 * for a guest with CID cid (3 or more). Returns a device not yet attached,
 * or NULL with err saying what to do.
 */
struct virtio_vsock *virtio_vsock_new(struct vm *vm, uint64_t cid,
				      const char *uds_path, char *err,
				      size_t errlen);
/* Registers the device's event set with the I/O thread (after attach). */
int virtio_vsock_start(struct virtio_vsock *v);
/* Serves whatever the host sockets have for it (the I/O thread's
 * handler; fuzzing and tests call it directly). */
void virtio_vsock_poll(struct virtio_vsock *v);
/* Closes every connection and the listener, removes uds_path. */
void virtio_vsock_free(struct virtio_vsock *v);

/* Its entry in the VM's device list (vmm/device.h). */
extern const struct device_ops virtio_vsock_device_ops;

#endif
