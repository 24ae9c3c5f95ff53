// SPDX-License-Identifier: MIT
/*
 * randio DEV read|write SEQ_MB RAND_OPS: block device throughput inside a
 * guest, with O_DIRECT so the guest's page cache stays out of it.
 * Prints one line: "randio <mode> seq_mbps=S rand_iops=R".
 * Sequential: SEQ_MB MiB in 1 MiB requests; random: RAND_OPS 4 KiB
 * requests at pseudo-random 4 KiB-aligned offsets within the first SEQ_MB.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int fd, write_mode, i;
	long mb, ops;
	void *buf;
	double t0, seq, rnd;
	unsigned long x = 88172645463325252UL;

	if (argc != 5) {
		fprintf(stderr,
			"usage: randio DEV read|write SEQ_MB RAND_OPS\n");
		return 2;
	}
	write_mode = !strcmp(argv[2], "write");
	mb = atol(argv[3]);
	ops = atol(argv[4]);
	fd = open(argv[1], (write_mode ? O_WRONLY : O_RDONLY) | O_DIRECT);
	if (fd < 0 || posix_memalign(&buf, 4096, 1 << 20)) {
		perror(argv[1]);
		return 1;
	}
	memset(buf, 0x5a, 1 << 20);
	t0 = now();
	for (i = 0; i < mb; i++) {
		ssize_t r = write_mode ?
				    pwrite(fd, buf, 1 << 20, (off_t)i << 20) :
				    pread(fd, buf, 1 << 20, (off_t)i << 20);
		if (r != 1 << 20) {
			perror("sequential");
			return 1;
		}
	}
	if (write_mode)
		fdatasync(fd);
	seq = mb / (now() - t0);
	t0 = now();
	for (i = 0; i < ops; i++) {
		off_t off;
		ssize_t r;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		off = (off_t)(x % (mb * 256)) * 4096;
		r = write_mode ? pwrite(fd, buf, 4096, off) :
				 pread(fd, buf, 4096, off);
		if (r != 4096) {
			perror("random");
			return 1;
		}
	}
	if (write_mode)
		fdatasync(fd);
	rnd = ops / (now() - t0);
	printf("randio %s seq_mbps=%.1f rand_iops=%.0f\n", argv[2], seq, rnd);
	return 0;
}
