// SPDX-License-Identifier: MIT
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

enum { ST_LINE, ST_HEADERS, ST_BODY, ST_READY };

static const struct {
	const char *name;
	enum http_method method;
} methods[] = {
	{ "GET", HTTP_GET },	   { "PUT", HTTP_PUT },
	{ "PATCH", HTTP_PATCH },   { "POST", HTTP_POST },
	{ "DELETE", HTTP_DELETE }, { "HEAD", HTTP_HEAD },
};

static const struct {
	int status;
	const char *reason;
} reasons[] = {
	{ 100, "Continue" },
	{ 200, "OK" },
	{ 204, "No Content" },
	{ 400, "Bad Request" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 413, "Content Too Large" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" },
	{ 501, "Not Implemented" },
	{ 505, "HTTP Version Not Supported" },
};

/* RFC 9110's tchar; not isalnum(), whose answer depends on the locale. */
static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* field-vchar, SP or HTAB; obs-text (0x80-0xff) is let through. */
static bool is_field_char(unsigned char c)
{
	return c == '\t' || (c >= ' ' && c != 0x7f);
}

static void reset(struct http_parser *p)
{
	memset(&p->req, 0, sizeof(p->req));
	p->line = p->scan = p->head_end = 0;
	p->length = 0;
	p->state = ST_LINE;
	p->have_length = p->conn_close = p->conn_keep_alive = false;
}

int http_parser_init(struct http_parser *p, size_t body_max)
{
	memset(p, 0, sizeof(*p));
	if (body_max > SIZE_MAX / 2)
		return -EINVAL;
	/* One more byte for the NUL after a body that fills the buffer. */
	p->buf = malloc(HTTP_MAX_HEADER + body_max + 1);
	if (!p->buf)
		return -ENOMEM;
	p->cap = HTTP_MAX_HEADER + body_max;
	p->body_max = body_max;
	reset(p);
	return 0;
}

void http_parser_free(struct http_parser *p)
{
	free(p->buf);
	memset(p, 0, sizeof(*p));
}

/* method SP request-target SP HTTP-version, n bytes, NUL at s[n]. */
static int request_line(struct http_parser *p, char *s, size_t n)
{
	struct http_request *r = &p->req;
	size_t i = 0, t, v;
	char *q;

	while (i < n && is_tchar(s[i]))
		i++;
	if (i == 0 || i == n || s[i] != ' ')
		return HTTP_ERR_BAD_REQUEST;
	s[i++] = '\0';
	t = i;
	while (i < n && (unsigned char)s[i] > ' ' && (unsigned char)s[i] < 0x7f)
		i++;
	if (i == n || s[i] != ' ' || s[t] != '/')
		return HTTP_ERR_BAD_REQUEST;
	s[i++] = '\0';
	v = i;
	if (n - v != 8 || memcmp(s + v, "HTTP/", 5) || s[v + 6] != '.' ||
	    s[v + 5] < '0' || s[v + 5] > '9' || s[v + 7] < '0' ||
	    s[v + 7] > '9')
		return HTTP_ERR_BAD_REQUEST;
	if (s[v + 5] != '1' || s[v + 7] > '1')
		return HTTP_ERR_VERSION;
	r->version = 10 + (s[v + 7] - '0');
	r->method_name = s;
	r->method = HTTP_OTHER;
	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (!strcmp(s, methods[i].name))
			r->method = methods[i].method;
	r->path = s + t;
	q = strchr(s + t, '?');
	if (q) {
		*q = '\0';
		r->query = q + 1;
	}
	return 0;
}

static int parse_length(const char *v, uint64_t *out)
{
	uint64_t n = 0;

	if (!*v)
		return -1;
	for (; *v; v++) {
		if (*v < '0' || *v > '9' || n > (UINT64_MAX - (*v - '0')) / 10)
			return -1;
		n = n * 10 + (*v - '0');
	}
	*out = n;
	return 0;
}

/* Whether the comma-separated list v has tok, case-insensitively. */
static bool has_token(const char *v, const char *tok)
{
	size_t n = strlen(tok), k, m;

	while (*v) {
		while (is_ows(*v) || *v == ',')
			v++;
		k = strcspn(v, ",");
		for (m = k; m && is_ows(v[m - 1]); m--)
			;
		if (m == n && !strncasecmp(v, tok, n))
			return true;
		v += k;
	}
	return false;
}

/* name ":" OWS value OWS, n bytes, NUL at s[n]. */
static int header_line(struct http_parser *p, char *s, size_t n)
{
	struct http_request *r = &p->req;
	size_t i = 0, e = n, j;
	uint64_t len;
	char *v;

	/* Also refuses obs-fold (a leading SP or HTAB) and "Name :". */
	while (i < n && is_tchar(s[i]))
		i++;
	if (i == 0 || i == n || s[i] != ':')
		return HTTP_ERR_BAD_REQUEST;
	s[i++] = '\0';
	while (i < e && is_ows(s[i]))
		i++;
	while (e > i && is_ows(s[e - 1]))
		e--;
	for (j = i; j < e; j++)
		if (!is_field_char(s[j]))
			return HTTP_ERR_BAD_REQUEST;
	s[e] = '\0';
	v = s + i;
	if (!strcasecmp(s, "Content-Length")) {
		/* Identical repeats are allowed (RFC 9110 8.6), others not. */
		if (parse_length(v, &len) ||
		    (p->have_length && len != p->length))
			return HTTP_ERR_BAD_REQUEST;
		p->have_length = true;
		p->length = len;
	} else if (!strcasecmp(s, "Transfer-Encoding")) {
		return HTTP_ERR_NOT_IMPLEMENTED;
	} else if (!strcasecmp(s, "Connection")) {
		p->conn_close |= has_token(v, "close");
		p->conn_keep_alive |= has_token(v, "keep-alive");
	} else if (!strcasecmp(s, "Expect")) {
		/* RFC 9110 10.1.1: a 1.0 client cannot be waiting for it. */
		if (r->version == 11 && !strcasecmp(v, "100-continue"))
			r->expect_continue = true;
	} else if (!strcasecmp(s, "Content-Type")) {
		if (r->content_type)
			return HTTP_ERR_BAD_REQUEST;
		r->content_type = v;
	}
	return 0;
}

static int end_headers(struct http_parser *p)
{
	struct http_request *r = &p->req;

	p->head_end = p->line;
	p->state = ST_BODY;
	if (p->length > p->body_max)
		return HTTP_ERR_TOO_LARGE;
	r->body_len = p->length;
	r->keep_alive = !p->conn_close &&
			(r->version == 11 || p->conn_keep_alive);
	if (r->expect_continue && p->fill - p->head_end < r->body_len)
		return HTTP_EXPECT_CONTINUE;
	return 0;
}

/*
 * Each line is parsed once it is complete, so the result does not depend
 * on how the bytes were split up, and only the first HTTP_MAX_HEADER
 * bytes are ever looked at for the header section.
 */
static int parse(struct http_parser *p)
{
	struct http_request *r = &p->req;
	size_t lim = p->fill < HTTP_MAX_HEADER ? p->fill : HTTP_MAX_HEADER;
	size_t n, end;
	char *s, *nl;
	int rc;

	while (p->state < ST_BODY) {
		nl = NULL;
		if (p->scan < lim)
			nl = memchr(p->buf + p->scan, '\n', lim - p->scan);
		if (!nl) {
			p->scan = lim;
			if (p->fill >= HTTP_MAX_HEADER)
				return HTTP_ERR_HEADER_TOO_LARGE;
			return HTTP_NEED_MORE;
		}
		s = p->buf + p->line;
		n = nl - s;
		p->line = p->scan = nl - p->buf + 1;
		if (!n || s[n - 1] != '\r')
			return HTTP_ERR_BAD_REQUEST;
		s[--n] = '\0';
		if (p->state == ST_LINE) {
			rc = request_line(p, s, n);
			p->state = ST_HEADERS;
		} else if (n) {
			rc = header_line(p, s, n);
		} else {
			rc = end_headers(p);
		}
		if (rc)
			return rc;
	}
	if (p->fill - p->head_end < r->body_len)
		return HTTP_NEED_MORE;
	end = p->head_end + r->body_len;
	r->body = p->buf + p->head_end;
	p->saved = p->buf[end];
	p->buf[end] = '\0';
	p->state = ST_READY;
	return HTTP_REQUEST_READY;
}

int http_feed(struct http_parser *p, const char *data, size_t len, size_t *used)
{
	size_t n = 0;
	int rc;

	if (!p->error && p->state != ST_READY) {
		n = p->cap - p->fill < len ? p->cap - p->fill : len;
		if (n)
			memcpy(p->buf + p->fill, data, n);
		p->fill += n;
	}
	if (used)
		*used = n;
	if (p->error)
		return p->error;
	if (p->state == ST_READY)
		return HTTP_REQUEST_READY;
	rc = parse(p);
	if (rc < 0)
		p->error = rc;
	return rc;
}

void http_next(struct http_parser *p)
{
	size_t end;

	if (p->state != ST_READY)
		return;
	end = p->head_end + p->req.body_len;
	p->buf[end] = p->saved;
	p->fill -= end;
	memmove(p->buf, p->buf + end, p->fill);
	reset(p);
}

const char *http_reason(int status)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "";
}

int http_format_response(char *buf, size_t size, int status,
			 const char *content_type, const char *body,
			 size_t body_len, bool keep_alive)
{
	/* RFC 9110 8.6: no Content-Length in 1xx and 204 responses. */
	bool bodiless = status < 200 || status == 204;
	char length[48] = "";
	int n;

	if (status < 100 || status > 599 || (bodiless && body_len) ||
	    (content_type && strpbrk(content_type, "\r\n")))
		return -EINVAL;
	if (bodiless)
		content_type = NULL;
	else
		snprintf(length, sizeof(length), "Content-Length: %zu\r\n",
			 body_len);
	n = snprintf(buf, size,
		     "HTTP/1.1 %d %s\r\nServer: kiln\r\n%s%s%s%s%s\r\n", status,
		     http_reason(status), content_type ? "Content-Type: " : "",
		     content_type ? content_type : "",
		     content_type ? "\r\n" : "", length,
		     keep_alive ? "" : "Connection: close\r\n");
	if (n < 0 || (size_t)n >= size || body_len >= size - n ||
	    body_len > (size_t)(INT_MAX - n))
		return -ENOSPC;
	if (body_len)
		memcpy(buf + n, body, body_len);
	buf[n + body_len] = '\0';
	return n + (int)body_len;
}
