// SPDX-License-Identifier: MIT
/* virtio-blk (virtio 1.x, 5.2) over a raw image file or block device. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "blk.h"
#include "iothread.h"
#include "log.h"
#include "vm.h"

#define SECTOR 512ULL
#define MAX_DISCARD_SECTORS (1U << 22) /* 2 GiB per request */

static void blk_config_read(void *dev, uint32_t off, uint8_t *data,
			    uint32_t len)
{
	struct virtio_blk *b = dev;

	if (off < sizeof(b->cfg) && len <= sizeof(b->cfg) - off)
		memcpy(data, (uint8_t *)&b->cfg + off, len);
}

static uint32_t blk_chain(void *dev, struct virtq_chain *c)
{
	return virtio_blk_request(dev, c);
}

/* Bytes a request moves, for the bandwidth bucket. */
static uint64_t req_bytes(const struct virtq_chain *c)
{
	struct virtio_blk_outhdr hdr = { 0 };

	if (c->out_len < sizeof(hdr))
		return 0;
	iov_to_buf(c->out, c->n_out, 0, &hdr, sizeof(hdr));
	if (hdr.type == VIRTIO_BLK_T_IN)
		return c->in_len ? c->in_len - 1 : 0;
	if (hdr.type == VIRTIO_BLK_T_OUT)
		return c->out_len - sizeof(hdr);
	return 0;
}

/*
 * The queue under a rate limiter: each request takes its tokens first;
 * one that cannot goes back on the ring, and the timer wakes the queue
 * when there would be enough (no polling while throttled).
 */
static void drain_limited(struct virtio_blk *b)
{
	struct virtq *q = &b->vdev.vq[0];
	struct virtq_chain *c = &b->chain;
	bool any = false;
	uint64_t wait;
	int r;

	if (b->throttled)
		return;
	do {
		while ((r = virtq_pop(q, c)) != 0) {
			if (r == -EIO)
				break;
			if (r > 0 && !ratelimit_take(&b->rl, req_bytes(c),
						     ratelimit_now(), &wait)) {
				struct itimerspec t = {
					.it_value = { wait / 1000000000ULL,
						      wait % 1000000000ULL }
				};

				q->last_avail--;
				b->throttled = true;
				metric_add(&b->throttled_count, 1);
				timerfd_settime(b->timer_fd, 0, &t, NULL);
				goto out;
			}
			virtq_push(q, c->head,
				   r > 0 ? virtio_blk_request(b, c) : 0);
			any = true;
		}
		if (r == -EIO)
			break;
	} while (virtq_enable_notify(q));
out:
	if (any)
		virtio_dev_complete(&b->vdev, 0);
}

static void blk_notify(void *dev, unsigned int qi)
{
	struct virtio_blk *b = dev;

	if (ratelimit_on(&b->rl) && b->timer_fd >= 0)
		drain_limited(b);
	else
		virtio_dev_drain(&b->vdev, qi, &b->chain, blk_chain);
}

/* The timer: tokens enough for the request held back (I/O thread). */
static void blk_timer(void *opaque, uint32_t events)
{
	struct virtio_blk *b = opaque;
	uint64_t n;

	(void)events;
	if (read(b->timer_fd, &n, sizeof(n)) < 0)
		return;
	virtio_dev_lock(&b->vdev);
	b->throttled = false;
	if (virtio_dev_live(&b->vdev) && b->vdev.vq[0].ready)
		blk_notify(b, 0);
	virtio_dev_unlock(&b->vdev);
}

void virtio_blk_set_limits(struct virtio_blk *b, const struct ratelimit *rl)
{
	/* Fires at once: the queue is looked at under the new limits. */
	struct itimerspec now = { .it_value = { 0, 1 } };

	virtio_dev_lock(&b->vdev);
	b->rl = *rl;
	virtio_dev_unlock(&b->vdev);
	if (b->timer_fd >= 0)
		timerfd_settime(b->timer_fd, 0, &now, NULL);
}

static const struct virtio_dev_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = 2,
	.nr_queues = 1,
	.queue_max = BLK_QUEUE_SIZE,
	.config_read = blk_config_read,
	.notify = blk_notify,
};

/* Bytes of data in a chain beside the header and the status byte. */
static int do_rw(struct virtio_blk *b, struct virtq_chain *c, bool write,
		 uint64_t sector, uint32_t *done)
{
	struct iovec iov[VIRTQ_MAX_CHAIN];
	const struct iovec *src = write ? c->out : c->in;
	unsigned int n = write ? c->n_out : c->n_in, k, i;
	uint64_t skip = write ? sizeof(struct virtio_blk_outhdr) : 0;
	uint64_t len = write ? c->out_len - skip : c->in_len - 1;
	ssize_t r;
	off_t off;

	if (len % SECTOR || sector > b->sectors ||
	    len / SECTOR > b->sectors - sector)
		return VIRTIO_BLK_S_IOERR;
	/* The data: past the header (writes), short of the status byte. */
	k = iov_slice(src, n, skip, len, iov);
	off = sector * SECTOR;
	for (i = 0; i < k;) {
		r = write ? pwritev(b->fd, iov + i, k - i, off) :
			    preadv(b->fd, iov + i, k - i, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			pr_guest("%s: %s at sector %llu failed: %s", b->path,
				 write ? "write" : "read",
				 (unsigned long long)(off / SECTOR),
				 r ? strerror(errno) : "end of file");
			return VIRTIO_BLK_S_IOERR;
		}
		off += r;
		/* Short transfer: advance through the iovecs and go on. */
		while (i < k && (size_t)r >= iov[i].iov_len)
			r -= iov[i++].iov_len;
		if (i < k) {
			iov[i].iov_base = (uint8_t *)iov[i].iov_base + r;
			iov[i].iov_len -= r;
		}
	}
	if (!write)
		*done = len;
	return VIRTIO_BLK_S_OK;
}

static int do_discard(struct virtio_blk *b, struct virtq_chain *c, bool zeroes)
{
	struct virtio_blk_discard_write_zeroes seg;
	uint64_t off = sizeof(struct virtio_blk_outhdr);

	if (b->ro)
		return VIRTIO_BLK_S_IOERR;
	if (c->out_len - off == 0 || (c->out_len - off) % sizeof(seg))
		return VIRTIO_BLK_S_UNSUPP;
	/* We advertise max_*_seg = 1, but accept and check each. */
	for (; off < c->out_len; off += sizeof(seg)) {
		uint64_t sector, n;
		int mode;

		iov_to_buf(c->out, c->n_out, off, &seg, sizeof(seg));
		sector = seg.sector;
		n = seg.num_sectors;
		if (seg.flags & ~1U || (!zeroes && seg.flags))
			return VIRTIO_BLK_S_UNSUPP;
		if (n > MAX_DISCARD_SECTORS || sector > b->sectors ||
		    n > b->sectors - sector)
			return VIRTIO_BLK_S_IOERR;
		if (b->bdev) {
			uint64_t range[2] = { sector * SECTOR, n * SECTOR };

			if (ioctl(b->fd, zeroes ? BLKZEROOUT : BLKDISCARD,
				  range) < 0)
				return VIRTIO_BLK_S_IOERR;
			continue;
		}
		/* Punching a hole reads back as zeroes: it does both. */
		mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		if (zeroes && !(seg.flags & 1))
			mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
		if (fallocate(b->fd, mode, sector * SECTOR, n * SECTOR) < 0 &&
		    (errno != EOPNOTSUPP || !zeroes ||
		     fallocate(b->fd,
			       FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       sector * SECTOR, n * SECTOR) < 0)) {
			if (!zeroes && errno == EOPNOTSUPP)
				continue; /* discard is only a hint */
			return VIRTIO_BLK_S_IOERR;
		}
	}
	return VIRTIO_BLK_S_OK;
}

uint32_t virtio_blk_request(struct virtio_blk *b, struct virtq_chain *c)
{
	struct virtio_blk_outhdr hdr = { 0 };
	uint32_t data = 0;
	uint8_t status;

	/* The last writable byte is the status: without it, no answer. */
	if (!c->in_len)
		return 0;
	if (c->out_len < sizeof(hdr)) {
		status = VIRTIO_BLK_S_IOERR;
		goto out;
	}
	iov_to_buf(c->out, c->n_out, 0, &hdr, sizeof(hdr));
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
		status = do_rw(b, c, false, hdr.sector, &data);
		break;
	case VIRTIO_BLK_T_OUT:
		status = b->ro ? VIRTIO_BLK_S_IOERR :
				 do_rw(b, c, true, hdr.sector, &data);
		break;
	case VIRTIO_BLK_T_FLUSH:
		/* Flushed data must be on the disk before we say so. */
		status = b->ro || fdatasync(b->fd) == 0 ? VIRTIO_BLK_S_OK :
							  VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_GET_ID:
		data = c->in_len - 1 < VIRTIO_BLK_ID_BYTES ?
			       c->in_len - 1 :
			       VIRTIO_BLK_ID_BYTES;
		buf_to_iov(c->in, c->n_in, 0, b->id, data);
		status = VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_DISCARD:
		status = do_discard(b, c, false);
		break;
	case VIRTIO_BLK_T_WRITE_ZEROES:
		status = do_discard(b, c, true);
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
out:
	if (status == VIRTIO_BLK_S_OK) {
		if (hdr.type == VIRTIO_BLK_T_IN) {
			metric_add(&b->read_count, 1);
			metric_add(&b->read_bytes, data);
		} else if (hdr.type == VIRTIO_BLK_T_OUT) {
			metric_add(&b->write_count, 1);
			metric_add(&b->write_bytes, c->out_len - sizeof(hdr));
		} else if (hdr.type == VIRTIO_BLK_T_FLUSH) {
			metric_add(&b->flush_count, 1);
		}
	} else {
		metric_add(status == VIRTIO_BLK_S_IOERR &&
					   c->out_len >= sizeof(hdr) ?
				   &b->io_errors :
				   &b->invalid_reqs_count,
			   1);
	}
	buf_to_iov(c->in, c->n_in, c->in_len - 1, &status, 1);
	return data + 1;
}

/* Names the process holding a conflicting lock on fd, if it can. */
static void lock_holder(int fd, short type, char *buf, size_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET };
	char path[64], comm[64] = "";
	FILE *f;

	snprintf(buf, len, "another process");
	if (fcntl(fd, F_GETLK, &fl) || fl.l_type == F_UNLCK || fl.l_pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/comm", fl.l_pid);
	f = fopen(path, "r");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = 0;
		fclose(f);
	}
	snprintf(buf, len, "process %d%s%s%s", fl.l_pid, *comm ? " (" : "",
		 comm, *comm ? ")" : "");
}

/*
 * Opens path as a disk: O_RDWR (O_RDONLY for ro), its size, the advisory
 * lock (exclusive for writers, shared for readers). Returns the fd, or -1
 * with err saying what to do.
 */
static int open_backing(const char *path, bool ro, uint64_t *sectors,
			bool *bdev, char *err, size_t errlen)
{
	struct flock fl = { .l_type = ro ? F_RDLCK : F_WRLCK,
			    .l_whence = SEEK_SET };
	struct stat st;
	uint64_t size;
	char who[128];
	int fd;

	fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			snprintf(err, errlen,
				 "disk '%s' does not exist: check the path",
				 path);
		else if (errno == EACCES || errno == EROFS)
			snprintf(
				err, errlen,
				"disk '%s': cannot open for %s: %s (add ,ro for read-only use)",
				path, ro ? "reading" : "writing",
				strerror(errno));
		else
			snprintf(err, errlen, "cannot open disk '%s': %s", path,
				 strerror(errno));
		return -1;
	}
	if (fstat(fd, &st)) {
		snprintf(err, errlen, "disk '%s': %s", path, strerror(errno));
		goto fail;
	}
	*bdev = S_ISBLK(st.st_mode);
	if (*bdev) {
		if (ioctl(fd, BLKGETSIZE64, &size)) {
			snprintf(err, errlen,
				 "disk '%s': cannot get its size: %s", path,
				 strerror(errno));
			goto fail;
		}
	} else if (S_ISREG(st.st_mode)) {
		size = st.st_size;
	} else {
		snprintf(err, errlen,
			 "disk '%s' is neither a file nor a block device",
			 path);
		goto fail;
	}
	/* Two writers on one image corrupt it: refuse the second. */
	if (fcntl(fd, F_SETLK, &fl)) {
		lock_holder(fd, fl.l_type, who, sizeof(who));
		snprintf(
			err, errlen,
			"disk '%s' is in use by %s: stop it, or add ,ro to both",
			path, who);
		goto fail;
	}
	if (size % SECTOR)
		pr_warn("disk '%s': size %llu is not a multiple of 512; the last %llu bytes are not visible to the guest",
			path, (unsigned long long)size,
			(unsigned long long)(size % SECTOR));
	*sectors = size / SECTOR;
	return fd;
fail:
	close(fd);
	return -1;
}

struct virtio_blk *virtio_blk_open(struct vm *vm, const char *path, bool ro,
				   const char *id, char *err, size_t errlen)
{
	struct virtio_blk *b;
	uint64_t feat;

	b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	b->path = path;
	b->ro = ro;
	b->timer_fd = -1;
	b->fd = open_backing(path, ro, &b->sectors, &b->bdev, err, errlen);
	if (b->fd < 0)
		goto fail;
	/* The rate limiter's timer, on the VM's I/O thread (a model made
	 * without one, in tests, has no limiter). */
	if (vm->io) {
		b->timer_fd = timerfd_create(CLOCK_MONOTONIC,
					     TFD_NONBLOCK | TFD_CLOEXEC);
		if (b->timer_fd < 0 ||
		    iothread_add(vm->io, b->timer_fd, blk_timer, b)) {
			snprintf(err, errlen,
				 "disk '%s': cannot make its timer", path);
			goto fail;
		}
	}
	if (id)
		memcpy(b->id, id, strnlen(id, sizeof(b->id)));

	b->cfg.capacity = b->sectors;
	b->cfg.seg_max = BLK_QUEUE_SIZE - 2;
	b->cfg.blk_size = SECTOR;
	b->cfg.max_discard_sectors = MAX_DISCARD_SECTORS;
	b->cfg.max_discard_seg = 1;
	b->cfg.discard_sector_alignment = 8; /* 4 KiB */
	b->cfg.max_write_zeroes_sectors = MAX_DISCARD_SECTORS;
	b->cfg.max_write_zeroes_seg = 1;
	b->cfg.write_zeroes_may_unmap = 1;

	feat = (1ULL << VIRTIO_BLK_F_SEG_MAX) |
	       (1ULL << VIRTIO_BLK_F_BLK_SIZE) | (1ULL << VIRTIO_BLK_F_FLUSH);
	if (ro)
		feat |= 1ULL << VIRTIO_BLK_F_RO;
	else
		feat |= (1ULL << VIRTIO_BLK_F_DISCARD) |
			(1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
	virtio_dev_init(&b->vdev, &blk_ops, b, feat, &vm->mem, vm->io);
	return b;
fail:
	virtio_blk_free(b);
	return NULL;
}

int virtio_blk_replace(struct virtio_blk *b, const char *path, char *err,
		       size_t errlen)
{
	uint64_t sectors;
	bool bdev;
	int fd = open_backing(path, b->ro, &sectors, &bdev, err, errlen), old;

	if (fd < 0)
		return -EINVAL;
	/* Requests run under the device's lock: none sees half of this. */
	virtio_dev_lock(&b->vdev);
	old = b->fd;
	b->fd = fd;
	b->bdev = bdev;
	b->path = path;
	b->sectors = sectors;
	b->cfg.capacity = sectors;
	virtio_dev_config_changed(&b->vdev);
	virtio_dev_unlock(&b->vdev);
	close(old);
	return 0;
}

void virtio_blk_free(struct virtio_blk *b)
{
	if (!b)
		return;
	if (b->fd >= 0)
		close(b->fd);
	if (b->timer_fd >= 0)
		close(b->timer_fd);
	free(b);
}

static void virtio_blk_metrics(void *dev, metric_emit_fn emit, void *ctx)
{
	struct virtio_blk *b = dev;

	emit(ctx, "read_count", &b->read_count);
	emit(ctx, "write_count", &b->write_count);
	emit(ctx, "flush_count", &b->flush_count);
	emit(ctx, "read_bytes", &b->read_bytes);
	emit(ctx, "write_bytes", &b->write_bytes);
	emit(ctx, "invalid_reqs_count", &b->invalid_reqs_count);
	emit(ctx, "io_errors", &b->io_errors);
	emit(ctx, "rate_limiter_throttled_events", &b->throttled_count);
}

VIRTIO_DEVICE_OPS_METRICS(virtio_blk);
