/* SPDX-License-Identifier: MIT */
#ifndef KILN_FDIO_H
#define KILN_FDIO_H

#include <stddef.h>

/*
 * Writes all len bytes of buf to a blocking fd, going on after EINTR and
 * short writes. Returns 0, or -errno (-EIO when write wrote nothing).
 */
int write_full(int fd, const void *buf, size_t len);

#endif
