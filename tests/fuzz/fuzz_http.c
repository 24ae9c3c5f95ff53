// SPDX-License-Identifier: MIT
/*
 * The API socket's request parser as a hostile local client drives it:
 * the input is the byte stream. It is fed whole to one parser and in
 * pieces of 1 to 64 bytes (sizes drawn from the input's hash) to another;
 * both must see the same requests and end the same way. Each request must
 * keep http.h's promises and gets its answer formatted. The body limit is
 * small, so that 413 and a full buffer are within reach.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define FZ_BODY_MAX 1024

struct fz_log {
	uint64_t hash;
	unsigned int nreq;
	int rc;
};

static uint64_t mix(uint64_t h, const void *d, size_t n)
{
	const uint8_t *b = d;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ULL;
	return h;
}

static uint64_t mix_str(uint64_t h, const char *s)
{
	return s ? mix(h, s, strlen(s) + 1) : mix(h, "\xff", 1);
}

static void check(const struct http_parser *p, struct fz_log *l)
{
	const struct http_request *r = &p->req;
	char out[HTTP_MAX_HEADER + FZ_BODY_MAX + 256];
	const char *lo = p->buf, *hi = p->buf + p->cap;
	int flags = r->keep_alive | r->expect_continue << 1;

	if (r->path[0] != '/' || strpbrk(r->path, " \t\r\n") ||
	    !r->method_name[0] || (r->version != 10 && r->version != 11) ||
	    (r->expect_continue && r->version != 11) ||
	    r->body_len > FZ_BODY_MAX || r->body < lo ||
	    r->body + r->body_len > hi || r->body[r->body_len])
		abort();
	l->nreq++;
	l->hash = mix(l->hash, &r->method, sizeof(r->method));
	l->hash = mix(l->hash, &r->version, sizeof(r->version));
	l->hash = mix(l->hash, &flags, sizeof(flags));
	l->hash = mix_str(l->hash, r->method_name);
	l->hash = mix_str(l->hash, r->path);
	l->hash = mix_str(l->hash, r->query);
	l->hash = mix_str(l->hash, r->content_type);
	l->hash = mix(l->hash, r->body, r->body_len);
	if (http_format_response(out, sizeof(out), r->body_len ? 200 : 204,
				 r->content_type, r->body, r->body_len,
				 r->keep_alive) <= 0)
		abort();
}

static int drive(const uint8_t *data, size_t size, uint64_t seed,
		 struct fz_log *l)
{
	const char *d = (const char *)data;
	struct http_parser p;
	size_t off = 0, end, used;
	int rc = HTTP_NEED_MORE;

	memset(l, 0, sizeof(*l));
	if (http_parser_init(&p, FZ_BODY_MAX))
		abort();
	while (rc >= 0 && off < size) {
		end = size;
		if (seed) {
			seed = seed * 6364136223846793005ULL + 1;
			if (size - off > (seed >> 58) + 1)
				end = off + (seed >> 58) + 1;
		}
		do {
			rc = http_feed(&p, d + off, end - off, &used);
			off += used;
			if (rc == HTTP_REQUEST_READY) {
				check(&p, l);
				http_next(&p);
			} else if (rc == HTTP_NEED_MORE && off != end) {
				abort();
			}
		} while (rc > 0);
	}
	if (rc < 0) {
		char out[256];

		if (http_feed(&p, d, size, &used) != rc || used ||
		    http_format_response(out, sizeof(out), -rc, NULL, NULL, 0,
					 false) <= 0 ||
		    !http_reason(-rc)[0])
			abort();
	}
	http_parser_free(&p);
	return l->rc = rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_log whole, pieces;

	drive(data, size, 0, &whole);
	drive(data, size, mix(0xcbf29ce484222325ULL, data, size) | 1, &pieces);
	if (whole.hash != pieces.hash || whole.nreq != pieces.nreq ||
	    whole.rc != pieces.rc)
		abort();
	return 0;
}
