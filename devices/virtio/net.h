/* SPDX-License-Identifier: MIT */
#ifndef KILN_VIRTIO_NET_H
#define KILN_VIRTIO_NET_H

#include "device.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/virtio_net.h>

#include "metrics.h"
#include "ratelimit.h"
#include "virtio.h"

/*
 * virtio-net with two backends: a TAP device (frames carry a 12-byte
 * virtio_net_hdr both ways, offloads mirrored on the TAP) or passt's
 * stream socket for unprivileged user-mode networking (each frame
 * preceded by its 32-bit big-endian length, no offloads).
 */

#define NET_QUEUE_SIZE 256
#define NET_HDR_LEN ((uint32_t)sizeof(struct virtio_net_hdr_v1))
#define NET_MAX_FRAME (65535 + 14 + 4) /* a full GSO frame with VLAN */

enum net_backend { NET_TAP, NET_USER };

/* Decodes passt's stream: 4-byte big-endian length, then the frame. */
struct passt_codec {
	uint8_t len_bytes[4];
	uint32_t have_len; /* bytes of the length read so far */
	uint32_t want; /* frame length once known */
	uint32_t got; /* frame bytes read so far */
	bool error; /* an impossible length: the stream is unusable */
};

/*
 * Feeds n stream bytes. Complete frames are written to frame (room for
 * NET_MAX_FRAME) one at a time: returns the bytes consumed, sets *frame_len
 * when a frame completed (the caller then delivers it before feeding more).
 */
size_t passt_decode(struct passt_codec *c, const uint8_t *in, size_t n,
		    uint8_t *frame, uint32_t *frame_len);

struct virtio_net {
	struct virtio_dev vdev;
	enum net_backend backend;
	int fd; /* the TAP, or our end of passt's socket */
	pid_t passt;
	char ifname[16];
	uint8_t mac[6];
	struct virtio_net_config cfg;
	uint64_t acked; /* features the guest accepted */

	/* One received frame waiting for guest buffers: header + frame. */
	uint8_t rx[NET_HDR_LEN + NET_MAX_FRAME];
	uint32_t rx_len;
	bool rx_stalled; /* backend fd out of the epoll set */
	bool dead; /* the backend went away: never poll it again */
	struct passt_codec codec;
	uint8_t stream[65536];
	uint32_t stream_off, stream_len;

	uint8_t tx[4 + NET_MAX_FRAME];
	/* Rate limiters each way (none when both buckets are 0); a frame
	 * held back waits for its direction's timer (on the I/O thread).
	 * rx_paid: the frame in rx has taken its tokens. */
	struct ratelimit rx_rl, tx_rl;
	int rx_timer_fd, tx_timer_fd;
	bool rx_throttled, tx_throttled, rx_paid;
	struct metric rx_throttled_count, tx_throttled_count;
	/* Frames through, and frames dropped (the guest's buffers were
	 * unusable, or the backend refused). */
	struct metric rx_packets_count, rx_bytes_count;
	struct metric tx_packets_count, tx_bytes_count;
	struct metric tx_dropped, rx_dropped;
	struct virtq_chain chain;
};

/* TUN_F_* offloads the TAP may use towards a guest with these features. */
unsigned int net_tap_offloads(uint64_t guest_features);

/*
 * Delivers the frame staged in n->rx (rx_len bytes, header first) into the
 * receive queue, across several buffers with MRG_RXBUF. Returns 1 when
 * delivered, 0 when the guest has not posted enough buffers (nothing is
 * consumed), -1 when the frame was dropped (too big for a buffer without
 * MRG_RXBUF, or a malformed chain).
 */
int net_rx_deliver(struct virtio_net *n);

/* The device without a backend (fd -1); the constructors below use it. */
struct virtio_net *virtio_net_alloc(struct vm *vm, enum net_backend b,
				    const uint8_t mac[6], uint64_t features);

/* Opens the backend. Returns NULL with err saying what to do. */
struct virtio_net *virtio_net_new_tap(struct vm *vm, const char *ifname,
				      const uint8_t mac[6], char *err,
				      size_t errlen);
struct virtio_net *virtio_net_new_user(struct vm *vm, const char *fwds,
				       const uint8_t mac[6], char *err,
				       size_t errlen);
/*
 * Sets the NIC's rate limiters (Firecracker's rx_rate_limiter and
 * tx_rate_limiter: guest-bound and host-bound frames), full; what they
 * held back is looked at again. Any thread.
 */
void virtio_net_set_limits(struct virtio_net *n, const struct ratelimit *rx,
			   const struct ratelimit *tx);
/* Registers the backend fd with the I/O thread (after attach). */
int virtio_net_start(struct virtio_net *n);
void virtio_net_free(struct virtio_net *n);

/* Its entry in the VM's device list (vmm/device.h). */
extern const struct device_ops virtio_net_device_ops;

#endif
