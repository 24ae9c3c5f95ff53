// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpio.h"

static void put(struct cpio *c, const void *p, size_t n)
{
	if (c->failed)
		return;
	if (n > c->cap - c->len) {
		size_t cap = c->cap ? c->cap : 4096;
		uint8_t *b;

		while (cap - c->len < n) {
			if (cap > SIZE_MAX / 2) {
				c->failed = true;
				return;
			}
			cap *= 2;
		}
		b = realloc(c->buf, cap);
		if (!b) {
			c->failed = true;
			return;
		}
		c->buf = b;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
}

static void pad4(struct cpio *c)
{
	static const uint8_t zero[4];

	put(c, zero, (4 - (c->len & 3)) & 3);
}

void cpio_add(struct cpio *c, const char *name, uint32_t mode, const void *data,
	      size_t len, uint32_t rdev_major, uint32_t rdev_minor)
{
	char hdr[6 + 13 * 8 + 1];
	size_t nlen = strlen(name) + 1;

	if (len > UINT32_MAX || nlen > UINT32_MAX) {
		c->failed = true;
		return;
	}
	snprintf(hdr, sizeof(hdr),
		 "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X",
		 ++c->ino, mode, 0, 0, 1, 0, len, 0, 0, rdev_major, rdev_minor,
		 nlen, 0);
	put(c, hdr, 6 + 13 * 8);
	put(c, name, nlen);
	pad4(c);
	if (len)
		put(c, data, len);
	pad4(c);
}

int cpio_finish(struct cpio *c)
{
	cpio_add(c, "TRAILER!!!", 0, NULL, 0, 0, 0);
	return c->failed ? -ENOMEM : 0;
}

void cpio_free(struct cpio *c)
{
	free(c->buf);
	*c = (struct cpio){ 0 };
}
