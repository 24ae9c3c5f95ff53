// SPDX-License-Identifier: MIT
/* File descriptor I/O helpers: see fdio.h. */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "fdio.h"

int write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= n;
	}
	return 0;
}
