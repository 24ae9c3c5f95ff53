/* SPDX-License-Identifier: MIT */
/*
 * The HTTP/1.1 side of the API socket: an incremental request parser for
 * untrusted local clients and a response formatter. No I/O here: the
 * caller reads bytes from its socket and feeds them in.
 */
#ifndef KILN_HTTP_H
#define KILN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Request line, header lines and the empty line that ends them. */
#define HTTP_MAX_HEADER 8192
/* The body limit kiln's API uses (Firecracker's default payload limit). */
#define HTTP_API_MAX_BODY 51200

/* What to send when http_feed() returns HTTP_EXPECT_CONTINUE. */
#define HTTP_CONTINUE_RESPONSE "HTTP/1.1 100 Continue\r\n\r\n"

/*
 * http_feed()'s results. An error is minus the status to answer with
 * (http_format_response(..., -rc, ..., false)) before closing.
 */
enum http_result {
	HTTP_NEED_MORE = 0,
	HTTP_REQUEST_READY = 1,
	HTTP_EXPECT_CONTINUE = 2,
	/*
	 * A malformed request line or header line (bad method token, target
	 * not starting with '/', missing version, no colon, space before
	 * the colon, obs-fold, a control character or NUL, a line not ended
	 * by CRLF: a bare LF is refused), or a Content-Length that is not
	 * all digits, overflows 64 bits or differs from an earlier one.
	 */
	HTTP_ERR_BAD_REQUEST = -400,
	/* Content-Length above the parser's body limit. */
	HTTP_ERR_TOO_LARGE = -413,
	/* The header section is longer than HTTP_MAX_HEADER bytes. */
	HTTP_ERR_HEADER_TOO_LARGE = -431,
	/* Transfer-Encoding, whatever its value: no chunked bodies. */
	HTTP_ERR_NOT_IMPLEMENTED = -501,
	/* A well-formed version other than HTTP/1.0 or HTTP/1.1. */
	HTTP_ERR_VERSION = -505,
};

enum http_method {
	HTTP_GET,
	HTTP_PUT,
	HTTP_PATCH,
	HTTP_POST,
	HTTP_DELETE,
	HTTP_HEAD,
	HTTP_OTHER, /* any other valid token: see method_name */
};

/*
 * A parsed request. The strings are NUL-terminated and point into the
 * parser's buffer: valid until http_next() or http_parser_free().
 */
struct http_request {
	enum http_method method;
	const char *method_name; /* as sent, case-sensitive ("GET") */
	const char *path; /* raw (not %-decoded), starts with '/', no query */
	const char *query; /* after the first '?', or NULL if none */
	int version; /* 10: HTTP/1.0, 11: HTTP/1.1 */
	/*
	 * body_len is the Content-Length (0 without one); body is followed
	 * by a NUL byte (for text parsers) but may contain NULs too.
	 */
	const char *body;
	size_t body_len;
	const char *content_type; /* trimmed value, or NULL if none */
	/*
	 * HTTP/1.1: unless a Connection header lists "close"; HTTP/1.0:
	 * only if one lists "keep-alive" (and none "close").
	 */
	bool keep_alive;
	/* "Expect: 100-continue" in an HTTP/1.1 request (1.0: ignored). */
	bool expect_continue;
};

/* One connection's parser. Fields but req are private. */
struct http_parser {
	struct http_request req;
	char *buf;
	size_t cap; /* HTTP_MAX_HEADER + body_max */
	size_t body_max;
	size_t fill; /* bytes in buf; the current request starts at 0 */
	size_t line; /* start of the line being looked for */
	size_t scan; /* where to look on for its LF */
	size_t head_end; /* end of the header section, once known */
	uint64_t length; /* Content-Length */
	int state;
	int error; /* the first error, returned from then on */
	char saved; /* the byte the NUL after the body replaced */
	bool have_length, conn_close, conn_keep_alive;
};

/*
 * Sets up p for a connection whose request bodies may be up to body_max
 * bytes (HTTP_API_MAX_BODY for the API), allocating its buffer.
 * Returns 0, -ENOMEM, or -EINVAL if body_max is absurdly large.
 */
int http_parser_init(struct http_parser *p, size_t body_max);

/* Frees p's buffer; p may be initialised again. */
void http_parser_free(struct http_parser *p);

/*
 * Takes up to len bytes of data (as many as the buffer has room for;
 * *used, if used is not NULL, says how many: all of them unless
 * HTTP_REQUEST_READY or an error is returned) and parses what is
 * buffered. Returns:
 *   HTTP_NEED_MORE        the request is incomplete: feed more bytes.
 *   HTTP_EXPECT_CONTINUE  once per request, when its headers are
 *                         complete, it has expect_continue and part of
 *                         its body is still to come: send
 *                         HTTP_CONTINUE_RESPONSE, then feed on (len may
 *                         be 0).
 *   HTTP_REQUEST_READY    p->req holds a complete request. Until
 *                         http_next() is called, http_feed() takes no
 *                         more bytes and returns this again.
 *   HTTP_ERR_*            the connection is unusable: answer -rc and
 *                         close. Later calls return the same error.
 * Bytes after the request (pipelined requests) stay buffered. A request
 * with no Content-Length has an empty body. Header names are matched
 * case-insensitively; Host is not required.
 */
int http_feed(struct http_parser *p, const char *data, size_t len,
	      size_t *used);

/*
 * Drops the request HTTP_REQUEST_READY announced, keeping any bytes that
 * follow it; then http_feed(p, NULL, 0, &used) parses those. Does
 * nothing unless a request is ready.
 */
void http_next(struct http_parser *p);

/* The reason phrase of status ("Not Found"), or "" if kiln has none. */
const char *http_reason(int status);

/*
 * Writes an HTTP/1.1 response into buf, NUL-terminated:
 *   HTTP/1.1 <status> <reason>\r\n
 *   Server: kiln\r\n
 *   Content-Type: <content_type>\r\n   (if content_type is not NULL)
 *   Content-Length: <body_len>\r\n
 *   Connection: close\r\n              (unless keep_alive)
 *   \r\n
 *   <body>
 * 1xx and 204 responses have no body, Content-Type nor Content-Length.
 * Returns the length written (without the NUL), -ENOSPC if it does not
 * fit in size bytes, or -EINVAL for a status outside 100..599, a body
 * given to a 1xx or 204 response, or a content_type with a CR or LF.
 */
int http_format_response(char *buf, size_t size, int status,
			 const char *content_type, const char *body,
			 size_t body_len, bool keep_alive);

#endif
