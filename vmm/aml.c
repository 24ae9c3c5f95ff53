// SPDX-License-Identifier: MIT
/* ACPI Machine Language writer (see aml.h). */
#include <stdlib.h>
#include <string.h>

#include "aml.h"

void aml_free(struct aml *a)
{
	free(a->buf);
	*a = (struct aml){ 0 };
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->failed || !n)
		return;
	if (n > a->cap - a->len) {
		size_t cap = a->cap ? a->cap : 256;
		uint8_t *b;

		while (cap - a->len < n)
			cap *= 2;
		b = realloc(a->buf, cap);
		if (!b) {
			a->failed = true;
			return;
		}
		a->buf = b;
		a->cap = cap;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void le(struct aml *a, uint64_t v, unsigned int n)
{
	while (n--) {
		aml_byte(a, v);
		v >>= 8;
	}
}

void aml_pkglen(struct aml *a, size_t body_len)
{
	size_t total;

	if (body_len + 1 <= 0x3f) {
		aml_byte(a, body_len + 1);
		return;
	}
	if (body_len + 2 <= 0xfff)
		total = body_len + 2;
	else if (body_len + 3 <= 0xfffff)
		total = body_len + 3;
	else if (body_len + 4 <= 0xfffffff)
		total = body_len + 4;
	else {
		a->failed = true;
		return;
	}
	/* Byte 0: how many bytes follow (bits 7-6), the low nibble. */
	aml_byte(a, ((total > 0xfff) + (total > 0xfffff) + 1) << 6 |
			    (total & 0xf));
	for (total >>= 4; total; total >>= 8)
		aml_byte(a, total);
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0) {
		aml_byte(a, 0x00); /* ZeroOp */
	} else if (v == 1) {
		aml_byte(a, 0x01); /* OneOp */
	} else if (v == ~0ULL) {
		aml_byte(a, 0xff); /* OnesOp */
	} else if (v <= 0xff) {
		aml_byte(a, 0x0a);
		le(a, v, 1);
	} else if (v <= 0xffff) {
		aml_byte(a, 0x0b);
		le(a, v, 2);
	} else if (v <= 0xffffffff) {
		aml_byte(a, 0x0c);
		le(a, v, 4);
	} else {
		aml_byte(a, 0x0e);
		le(a, v, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	aml_byte(a, 0x0d);
	aml_bytes(a, s, strlen(s) + 1);
}

static bool seg_char_ok(char c, bool first)
{
	return c == '_' || (c >= 'A' && c <= 'Z') ||
	       (!first && c >= '0' && c <= '9');
}

void aml_name_string(struct aml *a, const char *path)
{
	char segs[16][4];
	unsigned int n = 0, i;
	const char *p = path;

	if (*p == '\\') {
		aml_byte(a, '\\');
		p++;
	}
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);

		if (!len || len > 4 || n == 16) {
			a->failed = true;
			return;
		}
		for (i = 0; i < 4; i++) {
			char c = i < len ? p[i] : '_';

			if (!seg_char_ok(c, i == 0)) {
				a->failed = true;
				return;
			}
			segs[n][i] = c;
		}
		n++;
		p += len + (dot ? 1 : 0);
	}
	if (n == 0) {
		aml_byte(a, 0x00); /* NullName */
		return;
	}
	if (n == 2)
		aml_byte(a, 0x2e); /* DualNamePrefix */
	else if (n > 2) {
		aml_byte(a, 0x2f); /* MultiNamePrefix */
		aml_byte(a, n);
	}
	aml_bytes(a, segs, 4 * n);
}

void aml_name(struct aml *a, const char *name)
{
	aml_byte(a, 0x08); /* NameOp */
	aml_name_string(a, name);
}

/* op, PkgLength, then head (a NameString or count) and the body. */
static void pkg(struct aml *a, const uint8_t *op, size_t oplen,
		const struct aml *head, const struct aml *body)
{
	if (head->failed || body->failed) {
		a->failed = true;
		return;
	}
	aml_bytes(a, op, oplen);
	aml_pkglen(a, head->len + body->len);
	aml_bytes(a, head->buf, head->len);
	aml_bytes(a, body->buf, body->len);
}

void aml_scope(struct aml *a, const char *path, const struct aml *body)
{
	static const uint8_t op[] = { 0x10 };
	struct aml head = { 0 };

	aml_name_string(&head, path);
	pkg(a, op, sizeof(op), &head, body);
	aml_free(&head);
}

void aml_device(struct aml *a, const char *name, const struct aml *body)
{
	static const uint8_t op[] = { 0x5b, 0x82 }; /* ExtOpPrefix DeviceOp */
	struct aml head = { 0 };

	aml_name_string(&head, name);
	pkg(a, op, sizeof(op), &head, body);
	aml_free(&head);
}

void aml_package(struct aml *a, unsigned int n, const struct aml *body)
{
	static const uint8_t op[] = { 0x12 };
	struct aml head = { 0 };

	if (n > 255) {
		a->failed = true;
		return;
	}
	aml_byte(&head, n);
	pkg(a, op, sizeof(op), &head, body);
	aml_free(&head);
}

void aml_buffer(struct aml *a, const void *p, size_t n)
{
	static const uint8_t op[] = { 0x11 };
	struct aml head = { 0 }, body = { 0 };

	aml_integer(&head, n);
	aml_bytes(&body, p, n);
	pkg(a, op, sizeof(op), &head, &body);
	aml_free(&head);
	aml_free(&body);
}

uint32_t aml_eisaid(const char *id)
{
	uint32_t v;
	int i;

	if (strlen(id) != 7)
		return 0;
	/* Three letters of 5 bits, four hex digits; stored big-endian. */
	v = ((id[0] - '@') & 0x1f) << 26 | ((id[1] - '@') & 0x1f) << 21 |
	    ((id[2] - '@') & 0x1f) << 16;
	for (i = 3; i < 7; i++) {
		char c = id[i];
		uint32_t d = c >= 'A' ? c - 'A' + 10 : c - '0';

		v |= (d & 0xf) << (4 * (6 - i));
	}
	return __builtin_bswap32(v);
}

void res_memory32_fixed(struct aml *r, bool rw, uint32_t base, uint32_t len)
{
	aml_byte(r, 0x86); /* large item, Memory32Fixed */
	le(r, 9, 2);
	aml_byte(r, rw);
	le(r, base, 4);
	le(r, len, 4);
}

void res_interrupt(struct aml *r, bool edge, bool active_low, bool shared,
		   uint32_t irq)
{
	aml_byte(r, 0x89); /* large item, Extended Interrupt */
	le(r, 6, 2);
	aml_byte(r,
		 1 /* consumer */ | edge << 1 | active_low << 2 | shared << 3);
	aml_byte(r, 1); /* one interrupt */
	le(r, irq, 4);
}

void res_io(struct aml *r, uint16_t port, uint8_t len)
{
	aml_byte(r, 0x47); /* small item, I/O port, 7 bytes */
	aml_byte(r, 1); /* 16-bit decode */
	le(r, port, 2);
	le(r, port, 2);
	aml_byte(r, 1); /* alignment */
	aml_byte(r, len);
}

void res_irq_noflags(struct aml *r, uint8_t irq)
{
	aml_byte(r, 0x22); /* small item, IRQ, 2 bytes */
	le(r, irq < 16 ? 1u << irq : 0, 2);
}

void res_end(struct aml *r)
{
	aml_byte(r, 0x79); /* End Tag */
	aml_byte(r, 0); /* checksum 0: "the template is fine" */
}

void aml_resource_template(struct aml *a, const char *name, const struct aml *r)
{
	if (r->failed) {
		a->failed = true;
		return;
	}
	aml_name(a, name);
	aml_buffer(a, r->buf, r->len);
}
