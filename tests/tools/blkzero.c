// SPDX-License-Identifier: MIT
/*
 * blkzero DEV OFFSET_MIB LEN_MIB: zeroes a stretch of a block device with
 * BLKZEROOUT (a virtio-blk WRITE_ZEROES request in a guest), the call
 * util-linux's "blkdiscard -z" makes and busybox lacks.
 * Prints "blkzero ok" on success; exit status 1 with the error otherwise.
 */
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	uint64_t range[2];
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: blkzero DEV OFFSET_MIB LEN_MIB\n");
		return 2;
	}
	range[0] = strtoull(argv[2], NULL, 0) << 20;
	range[1] = strtoull(argv[3], NULL, 0) << 20;
	fd = open(argv[1], O_WRONLY);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	if (ioctl(fd, BLKZEROOUT, range)) {
		perror("BLKZEROOUT");
		return 1;
	}
	close(fd);
	printf("blkzero ok\n");
	return 0;
}
