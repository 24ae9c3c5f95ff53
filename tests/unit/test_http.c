// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "unit.h"

/* What a run of the parser saw, comparable between runs. */
struct snap {
	int method, version;
	char name[16], path[64], query[64], ctype[64], body[128];
	size_t body_len;
	bool has_query, has_ctype, keep_alive, expect_continue;
};

struct result {
	int nreq, continues;
	int rc; /* the last result: HTTP_NEED_MORE or an error */
	struct snap req[4];
};

static void copy(char *dst, size_t size, const char *src, bool *has)
{
	if (has)
		*has = src != NULL;
	snprintf(dst, size, "%s", src ? src : "");
}

static void record(struct result *res, const struct http_request *r)
{
	struct snap *s;

	if (res->nreq >= 4) {
		res->nreq++;
		return;
	}
	s = &res->req[res->nreq++];
	memset(s, 0, sizeof(*s));
	s->method = r->method;
	s->version = r->version;
	copy(s->name, sizeof(s->name), r->method_name, NULL);
	copy(s->path, sizeof(s->path), r->path, NULL);
	copy(s->query, sizeof(s->query), r->query, &s->has_query);
	copy(s->ctype, sizeof(s->ctype), r->content_type, &s->has_ctype);
	CU_ASSERT_EQUAL(r->body[r->body_len], '\0');
	CU_ASSERT_FATAL(r->body_len < sizeof(s->body));
	memcpy(s->body, r->body, r->body_len);
	s->body_len = r->body_len;
	s->keep_alive = r->keep_alive;
	s->expect_continue = r->expect_continue;
}

/* Feeds one piece, taking every request it completes. false: an error. */
static bool feed_piece(struct http_parser *p, const char *d, size_t n,
		       struct result *res)
{
	size_t off = 0, used;

	for (;;) {
		int rc = http_feed(p, d + off, n - off, &used);

		off += used;
		res->rc = rc;
		if (rc == HTTP_REQUEST_READY) {
			record(res, &p->req);
			http_next(p);
		} else if (rc == HTTP_EXPECT_CONTINUE) {
			res->continues++;
		} else {
			if (rc == HTTP_NEED_MORE)
				CU_ASSERT_EQUAL(off, n);
			return rc == HTTP_NEED_MORE;
		}
	}
}

/*
 * Parses s with a body limit of body_max, fed in pieces of step bytes,
 * or (step 0) as s[0, split) then the rest.
 */
static void run(const char *s, size_t n, size_t body_max, size_t split,
		size_t step, struct result *res)
{
	struct http_parser p;
	size_t off = 0, k;

	memset(res, 0, sizeof(*res));
	CU_ASSERT_EQUAL_FATAL(http_parser_init(&p, body_max), 0);
	if (!step) {
		if (feed_piece(&p, s, split, res))
			feed_piece(&p, s + split, n - split, res);
	} else {
		for (; off < n; off += k) {
			k = n - off < step ? n - off : step;
			if (!feed_piece(&p, s + off, k, res))
				break;
		}
	}
	http_parser_free(&p);
}

static void parse(const char *s, struct result *res)
{
	run(s, strlen(s), HTTP_API_MAX_BODY, strlen(s), 0, res);
}

/* The status a lone request gets: 0 when it parses, else -error. */
static int status_of(const char *s)
{
	struct result res;

	parse(s, &res);
	if (res.rc < 0)
		return -res.rc;
	return res.nreq == 1 ? 0 : -1;
}

static bool same(const struct result *a, const struct result *b)
{
	int i;

	if (a->nreq != b->nreq || a->rc != b->rc)
		return false;
	for (i = 0; i < a->nreq && i < 4; i++)
		if (memcmp(&a->req[i], &b->req[i], sizeof(a->req[i])))
			return false;
	return true;
}

static const char put_req[] =
	"PUT /boot-source HTTP/1.1\r\n"
	"Host: localhost\r\n"
	"Content-Type: application/json\r\n"
	"Content-Length: 46\r\n"
	"\r\n"
	"{\"kernel_image_path\":\"vmlinux\",\"boot_args\":\"\"}";

static const char get_req[] = "GET /machine-config HTTP/1.1\r\n"
			      "Host: localhost\r\n"
			      "Accept: application/json\r\n"
			      "\r\n";

static void test_get(void)
{
	struct result res;

	parse(get_req, &res);
	CU_ASSERT_EQUAL(res.rc, HTTP_NEED_MORE);
	CU_ASSERT_EQUAL_FATAL(res.nreq, 1);
	CU_ASSERT_EQUAL(res.req[0].method, HTTP_GET);
	CU_ASSERT_STRING_EQUAL(res.req[0].name, "GET");
	CU_ASSERT_STRING_EQUAL(res.req[0].path, "/machine-config");
	CU_ASSERT_FALSE(res.req[0].has_query);
	CU_ASSERT_FALSE(res.req[0].has_ctype);
	CU_ASSERT_EQUAL(res.req[0].version, 11);
	CU_ASSERT_EQUAL(res.req[0].body_len, 0);
	CU_ASSERT_TRUE(res.req[0].keep_alive);
	CU_ASSERT_FALSE(res.req[0].expect_continue);
}

static void test_put_json(void)
{
	struct http_parser p;
	size_t used;

	CU_ASSERT_EQUAL_FATAL(http_parser_init(&p, HTTP_API_MAX_BODY), 0);
	CU_ASSERT_EQUAL(http_feed(&p, put_req, strlen(put_req), &used),
			HTTP_REQUEST_READY);
	CU_ASSERT_EQUAL(used, strlen(put_req));
	CU_ASSERT_EQUAL(p.req.method, HTTP_PUT);
	CU_ASSERT_STRING_EQUAL(p.req.path, "/boot-source");
	CU_ASSERT_STRING_EQUAL(p.req.content_type, "application/json");
	CU_ASSERT_EQUAL(p.req.body_len, 46);
	CU_ASSERT_STRING_EQUAL(p.req.body, strchr(put_req, '{'));
	/* Until http_next(), nothing more is taken. */
	CU_ASSERT_EQUAL(http_feed(&p, "GET", 3, &used), HTTP_REQUEST_READY);
	CU_ASSERT_EQUAL(used, 0);
	http_next(&p);
	CU_ASSERT_EQUAL(http_feed(&p, NULL, 0, &used), HTTP_NEED_MORE);
	http_parser_free(&p);
}

static void test_path_query_method(void)
{
	static const char *const names[] = { "GET",  "PUT",    "PATCH",
					     "POST", "DELETE", "HEAD" };
	struct result res;
	char req[64];
	int i;

	parse("GET /a/b%20c?x=1&y=?2 HTTP/1.1\r\n\r\n", &res);
	CU_ASSERT_EQUAL_FATAL(res.nreq, 1);
	CU_ASSERT_STRING_EQUAL(res.req[0].path, "/a/b%20c");
	CU_ASSERT_STRING_EQUAL(res.req[0].query, "x=1&y=?2");
	parse("GET /? HTTP/1.1\r\n\r\n", &res);
	CU_ASSERT_EQUAL_FATAL(res.nreq, 1);
	CU_ASSERT_STRING_EQUAL(res.req[0].path, "/");
	CU_ASSERT_TRUE(res.req[0].has_query);
	CU_ASSERT_STRING_EQUAL(res.req[0].query, "");
	for (i = 0; i < 6; i++) {
		snprintf(req, sizeof(req), "%s / HTTP/1.1\r\n\r\n", names[i]);
		parse(req, &res);
		CU_ASSERT_EQUAL_FATAL(res.nreq, 1);
		CU_ASSERT_EQUAL(res.req[0].method, HTTP_GET + i);
		CU_ASSERT_STRING_EQUAL(res.req[0].name, names[i]);
	}
	/* Methods are case-sensitive tokens. */
	parse("get / HTTP/1.1\r\n\r\n", &res);
	CU_ASSERT_EQUAL_FATAL(res.nreq, 1);
	CU_ASSERT_EQUAL(res.req[0].method, HTTP_OTHER);
	CU_ASSERT_STRING_EQUAL(res.req[0].name, "get");
	parse("M-SEARCH / HTTP/1.0\r\n\r\n", &res);
	CU_ASSERT_EQUAL_FATAL(res.nreq, 1);
	CU_ASSERT_EQUAL(res.req[0].method, HTTP_OTHER);
	CU_ASSERT_STRING_EQUAL(res.req[0].name, "M-SEARCH");
	CU_ASSERT_EQUAL(res.req[0].version, 10);
}

static const char *const split_cases[] = {
	get_req,
	put_req,
	"GET /a HTTP/1.1\r\n\r\nPUT /b HTTP/1.1\r\nContent-Length: 3\r\n\r\n"
	"abcDELETE /c?d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	"PATCH /vm HTTP/1.1\r\nExpect: 100-continue\r\n"
	"Content-Length: 5\r\n\r\nhello",
	"GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nBad Header: x\r\n\r\n",
	"GET / HTTP/1.1\r\nContent-Length: 51201\r\n\r\n",
	"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"GET / HTTP/1.1\nHost: x\n\n",
};

static void test_splits(void)
{
	struct result whole, part;
	size_t i, n, k;

	for (i = 0; i < sizeof(split_cases) / sizeof(split_cases[0]); i++) {
		n = strlen(split_cases[i]);
		run(split_cases[i], n, HTTP_API_MAX_BODY, n, 0, &whole);
		for (k = 1; k < n; k++) {
			run(split_cases[i], n, HTTP_API_MAX_BODY, k, 0, &part);
			CU_ASSERT_TRUE(same(&whole, &part));
		}
		run(split_cases[i], n, HTTP_API_MAX_BODY, 0, 1, &part);
		CU_ASSERT_TRUE(same(&whole, &part));
	}
	/* And the results themselves. */
	run(split_cases[2], strlen(split_cases[2]), HTTP_API_MAX_BODY, 0, 1,
	    &part);
	CU_ASSERT_EQUAL(part.nreq, 3);
	CU_ASSERT_EQUAL(part.rc, HTTP_NEED_MORE);
	parse(split_cases[4], &whole);
	CU_ASSERT_EQUAL(whole.nreq, 1);
	CU_ASSERT_EQUAL(whole.rc, HTTP_ERR_BAD_REQUEST);
	CU_ASSERT_EQUAL(status_of(split_cases[5]), 413);
	CU_ASSERT_EQUAL(status_of(split_cases[6]), 501);
	CU_ASSERT_EQUAL(status_of(split_cases[7]), 400);
}

static void test_pipelined(void)
{
	struct result res;
	char many[400 * 24 + 1];
	size_t n = 0;
	int i;

	parse("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", &res);
	CU_ASSERT_EQUAL(res.nreq, 2);
	CU_ASSERT_STRING_EQUAL(res.req[0].path, "/a");
	CU_ASSERT_STRING_EQUAL(res.req[1].path, "/b");

	parse(split_cases[2], &res);
	CU_ASSERT_EQUAL_FATAL(res.nreq, 3);
	CU_ASSERT_EQUAL(res.rc, HTTP_NEED_MORE);
	CU_ASSERT_EQUAL(res.req[0].method, HTTP_GET);
	CU_ASSERT_EQUAL(res.req[1].method, HTTP_PUT);
	CU_ASSERT_STRING_EQUAL(res.req[1].body, "abc");
	CU_ASSERT_EQUAL(res.req[2].method, HTTP_DELETE);
	CU_ASSERT_STRING_EQUAL(res.req[2].path, "/c");
	CU_ASSERT_STRING_EQUAL(res.req[2].query, "d");
	CU_ASSERT_TRUE(res.req[2].keep_alive);
	CU_ASSERT_EQUAL(res.req[2].version, 10);

	/* A partial third request stays buffered. */
	parse("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.",
	      &res);
	CU_ASSERT_EQUAL(res.nreq, 2);
	CU_ASSERT_EQUAL(res.rc, HTTP_NEED_MORE);

	/* More than the buffer holds: http_feed() takes what fits. */
	for (i = 0; i < 400; i++)
		n += sprintf(many + n, "GET /%03d HTTP/1.1\r\n\r\n", i);
	CU_ASSERT(n > HTTP_MAX_HEADER);
	run(many, n, 0, n, 0, &res);
	CU_ASSERT_EQUAL(res.nreq, 400);
	CU_ASSERT_EQUAL(res.rc, HTTP_NEED_MORE);
}

static bool keep_alive(const char *version, const char *connection)
{
	struct result res;
	char req[128];

	snprintf(req, sizeof(req), "GET / %s\r\n%s%s%s\r\n", version,
		 connection ? "Connection: " : "", connection ? connection : "",
		 connection ? "\r\n" : "");
	parse(req, &res);
	CU_ASSERT_EQUAL_FATAL(res.nreq, 1);
	return res.req[0].keep_alive;
}

static void test_keep_alive(void)
{
	CU_ASSERT_TRUE(keep_alive("HTTP/1.1", NULL));
	CU_ASSERT_TRUE(keep_alive("HTTP/1.1", "keep-alive"));
	CU_ASSERT_TRUE(keep_alive("HTTP/1.1", "Upgrade"));
	CU_ASSERT_FALSE(keep_alive("HTTP/1.1", "close"));
	CU_ASSERT_FALSE(keep_alive("HTTP/1.1", "CLOSE"));
	CU_ASSERT_FALSE(keep_alive("HTTP/1.1", "Upgrade , close"));
	CU_ASSERT_TRUE(keep_alive("HTTP/1.1", "closed"));
	CU_ASSERT_FALSE(keep_alive("HTTP/1.0", NULL));
	CU_ASSERT_TRUE(keep_alive("HTTP/1.0", "keep-alive"));
	CU_ASSERT_TRUE(keep_alive("HTTP/1.0", "Keep-Alive"));
	CU_ASSERT_FALSE(keep_alive("HTTP/1.0", "keep-alive, close"));
	CU_ASSERT_FALSE(keep_alive("HTTP/1.0", "close"));
	CU_ASSERT_FALSE(keep_alive("HTTP/1.0", "keep-alives"));
}

static void test_expect_continue(void)
{
	static const char head[] = "PUT /drives/root HTTP/1.1\r\n"
				   "Expect: 100-Continue\r\n"
				   "Content-Length: 4\r\n\r\n";
	static const char old[] = "PUT / HTTP/1.0\r\nExpect: 100-continue\r\n"
				  "Content-Length: 1\r\n\r\nx";
	struct http_parser p;
	struct result res;
	size_t used;

	CU_ASSERT_EQUAL_FATAL(http_parser_init(&p, HTTP_API_MAX_BODY), 0);
	CU_ASSERT_EQUAL(http_feed(&p, head, strlen(head), &used),
			HTTP_EXPECT_CONTINUE);
	CU_ASSERT_EQUAL(used, strlen(head));
	CU_ASSERT_EQUAL(http_feed(&p, NULL, 0, &used), HTTP_NEED_MORE);
	CU_ASSERT_EQUAL(http_feed(&p, "ab", 2, &used), HTTP_NEED_MORE);
	CU_ASSERT_EQUAL(http_feed(&p, "cd", 2, &used), HTTP_REQUEST_READY);
	CU_ASSERT_TRUE(p.req.expect_continue);
	CU_ASSERT_STRING_EQUAL(p.req.body, "abcd");
	http_parser_free(&p);

	/* Sent with part of the body: still told once. */
	run(split_cases[3], strlen(split_cases[3]), HTTP_API_MAX_BODY,
	    strlen(split_cases[3]) - 2, 0, &res);
	CU_ASSERT_EQUAL(res.continues, 1);
	CU_ASSERT_EQUAL(res.nreq, 1);
	run(split_cases[3], strlen(split_cases[3]), HTTP_API_MAX_BODY, 0, 1,
	    &res);
	CU_ASSERT_EQUAL(res.continues, 1);
	/* The whole body already there, no body, HTTP/1.0: not told. */
	parse(split_cases[3], &res);
	CU_ASSERT_EQUAL(res.continues, 0);
	CU_ASSERT_EQUAL_FATAL(res.nreq, 1);
	CU_ASSERT_TRUE(res.req[0].expect_continue);
	parse("PUT / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n", &res);
	CU_ASSERT_EQUAL(res.continues, 0);
	CU_ASSERT_EQUAL(res.nreq, 1);
	run(old, strlen(old), HTTP_API_MAX_BODY, strlen(old) - 1, 0, &res);
	CU_ASSERT_EQUAL(res.continues, 0);
	CU_ASSERT_EQUAL_FATAL(res.nreq, 1);
	CU_ASSERT_FALSE(res.req[0].expect_continue);
	/* Too large: 413 rather than an invitation to send it. */
	parse("PUT / HTTP/1.1\r\nExpect: 100-continue\r\n"
	      "Content-Length: 51201\r\n\r\n",
	      &res);
	CU_ASSERT_EQUAL(res.continues, 0);
	CU_ASSERT_EQUAL(res.rc, HTTP_ERR_TOO_LARGE);
}

static void test_request_line_errors(void)
{
	static const char *const bad[] = {
		"GET /\r\n\r\n",
		"GET / \r\n\r\n",
		"GET  / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1 \r\n\r\n",
		" GET / HTTP/1.1\r\n\r\n",
		"GE(T / HTTP/1.1\r\n\r\n",
		"G\"T / HTTP/1.1\r\n\r\n",
		"/ HTTP/1.1\r\n\r\n",
		"GET foo HTTP/1.1\r\n\r\n",
		"GET http://localhost/ HTTP/1.1\r\n\r\n",
		"GET * HTTP/1.1\r\n\r\n",
		"GET /a b HTTP/1.1\r\n\r\n",
		"GET /a\tb HTTP/1.1\r\n\r\n",
		"GET /\x7f HTTP/1.1\r\n\r\n",
		"GET /\xc3\xa9 HTTP/1.1\r\n\r\n",
		"GET / http/1.1\r\n\r\n",
		"GET / HTTP/1.1x\r\n\r\n",
		"GET / HTTP/11\r\n\r\n",
		"GET / HTTP/1.\r\n\r\n",
		"GET / HTTP/a.1\r\n\r\n",
		"\r\nGET / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\n\n",
		"GET / HTTP/1.1\r\r\n\r\n",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(status_of(bad[i]), 400);
	CU_ASSERT_EQUAL(status_of("GET / HTTP/2.0\r\n\r\n"), 505);
	CU_ASSERT_EQUAL(status_of("GET / HTTP/1.2\r\n\r\n"), 505);
	CU_ASSERT_EQUAL(status_of("GET / HTTP/0.9\r\n\r\n"), 505);
	CU_ASSERT_EQUAL(status_of("GET / HTTP/1.0\r\n\r\n"), 0);
}

static void test_header_errors(void)
{
	static const char *const bad[] = {
		"GET / HTTP/1.1\r\nHost localhost\r\n\r\n",
		"GET / HTTP/1.1\r\nHost : localhost\r\n\r\n",
		"GET / HTTP/1.1\r\n: x\r\n\r\n",
		"GET / HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n",
		"GET / HTTP/1.1\r\nX-A: 1\r\n\tfolded\r\n\r\n",
		"GET / HTTP/1.1\r\nX-A: 1\n\r\n",
		"GET / HTTP/1.1\r\nX-A: 1\r\n\n",
		"GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n",
		"GET / HTTP/1.1\r\nX-A: a\x01\r\n\r\n",
		"GET / HTTP/1.1\r\nX-A: a\x7f\r\n\r\n",
		"GET / HTTP/1.1\r\nX(A): a\r\n\r\n",
		"PUT / HTTP/1.1\r\nContent-Type: a\r\nContent-Type: a\r\n\r\n",
	};
	static const char nul_name[] = "GET / HTTP/1.1\r\nX\0A: a\r\n\r\n";
	static const char nul_value[] = "GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n";
	static const char nul_line[] = "GET /\0 HTTP/1.1\r\n\r\n";
	struct result res;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(status_of(bad[i]), 400);
	run(nul_name, sizeof(nul_name) - 1, 64, sizeof(nul_name) - 1, 0, &res);
	CU_ASSERT_EQUAL(res.rc, HTTP_ERR_BAD_REQUEST);
	run(nul_value, sizeof(nul_value) - 1, 64, 0, 1, &res);
	CU_ASSERT_EQUAL(res.rc, HTTP_ERR_BAD_REQUEST);
	run(nul_line, sizeof(nul_line) - 1, 64, 0, 1, &res);
	CU_ASSERT_EQUAL(res.rc, HTTP_ERR_BAD_REQUEST);
	/* obs-text and inner whitespace are fine in values. */
	CU_ASSERT_EQUAL(
		status_of("GET / HTTP/1.1\r\nX-A: \xc3\xa9 a\tb\r\n\r\n"), 0);
}

static void test_content_length(void)
{
	static const char *const bad[] = {
		"12a",
		"-1",
		"99999999999999999999999",
		"18446744073709551616",
		"+5",
		"1 2",
		"0x10",
		"5,5",
		"",
	};
	struct result res;
	char req[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(req, sizeof(req),
			 "PUT / HTTP/1.1\r\nContent-Length: %s\r\n\r\n",
			 bad[i]);
		CU_ASSERT_EQUAL(status_of(req), 400);
	}
	CU_ASSERT_EQUAL(status_of("PUT / HTTP/1.1\r\nContent-Length: 3\r\n"
				  "Content-Length: 4\r\n\r\nabcd"),
			400);
	CU_ASSERT_EQUAL(
		status_of(
			"PUT / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n"),
		413);
	/* The same value twice, leading zeros, surrounding whitespace. */
	parse("PUT / HTTP/1.1\r\nContent-Length: 3\r\n"
	      "content-length:\t003 \r\n\r\nabc",
	      &res);
	CU_ASSERT_EQUAL_FATAL(res.nreq, 1);
	CU_ASSERT_EQUAL(res.req[0].body_len, 3);
	CU_ASSERT_STRING_EQUAL(res.req[0].body, "abc");
	CU_ASSERT_EQUAL(
		status_of("PUT / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"), 0);
}

static void test_transfer_encoding(void)
{
	CU_ASSERT_EQUAL(status_of("POST / HTTP/1.1\r\nTransfer-Encoding: "
				  "chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
			501);
	CU_ASSERT_EQUAL(status_of("POST / HTTP/1.1\r\ntransfer-encoding: "
				  "identity\r\nContent-Length: 1\r\n\r\nx"),
			501);
	CU_ASSERT_EQUAL(status_of("POST / HTTP/1.0\r\nContent-Length: 1\r\n"
				  "TRANSFER-ENCODING: gzip, chunked\r\n\r\nx"),
			501);
}

static void test_header_names_values(void)
{
	struct result res;

	parse("PUT /x HTTP/1.1\r\nCONTENT-TYPE: \t application/json; "
	      "charset=utf-8 \t\r\ncontent-length: 2\r\ncOnNeCtIoN: Close\r\n"
	      "X-Empty:\r\n\r\n{}",
	      &res);
	CU_ASSERT_EQUAL_FATAL(res.nreq, 1);
	CU_ASSERT_STRING_EQUAL(res.req[0].ctype,
			       "application/json; charset=utf-8");
	CU_ASSERT_STRING_EQUAL(res.req[0].body, "{}");
	CU_ASSERT_FALSE(res.req[0].keep_alive);
	parse("PUT / HTTP/1.1\r\nContent-Type:\r\n\r\n", &res);
	CU_ASSERT_EQUAL_FATAL(res.nreq, 1);
	CU_ASSERT_TRUE(res.req[0].has_ctype);
	CU_ASSERT_STRING_EQUAL(res.req[0].ctype, "");
}

/* A request whose header section is n bytes long. */
static char *padded(size_t n, const char *extra)
{
	static const char pre[] = "PUT / HTTP/1.1\r\nX-Pad: ";
	size_t fixed = strlen(pre) + strlen(extra) + 4;
	char *s = malloc(n + 1);

	CU_ASSERT_FATAL(s != NULL && n > fixed);
	memcpy(s, pre, strlen(pre));
	memset(s + strlen(pre), 'a', n - fixed);
	sprintf(s + n - strlen(extra) - 4, "\r\n%s\r\n", extra);
	CU_ASSERT_EQUAL(strlen(s), n);
	return s;
}

static void test_header_limit(void)
{
	struct result res;
	char *s;

	s = padded(HTTP_MAX_HEADER, "");
	run(s, HTTP_MAX_HEADER, 0, HTTP_MAX_HEADER, 0, &res);
	CU_ASSERT_EQUAL(res.nreq, 1);
	CU_ASSERT_EQUAL(res.rc, HTTP_NEED_MORE);
	run(s, HTTP_MAX_HEADER, 0, 0, 1, &res);
	CU_ASSERT_EQUAL(res.nreq, 1);
	free(s);
	s = padded(HTTP_MAX_HEADER + 1, "");
	run(s, HTTP_MAX_HEADER + 1, 0, HTTP_MAX_HEADER + 1, 0, &res);
	CU_ASSERT_EQUAL(res.nreq, 0);
	CU_ASSERT_EQUAL(res.rc, HTTP_ERR_HEADER_TOO_LARGE);
	run(s, HTTP_MAX_HEADER + 1, 0, 0, 1, &res);
	CU_ASSERT_EQUAL(res.rc, HTTP_ERR_HEADER_TOO_LARGE);
	free(s);
	/* A client that never ends its request line. */
	s = calloc(1, HTTP_MAX_HEADER);
	CU_ASSERT_FATAL(s != NULL);
	memset(s, 'A', HTTP_MAX_HEADER);
	run(s, HTTP_MAX_HEADER - 1, 0, 0, 100, &res);
	CU_ASSERT_EQUAL(res.rc, HTTP_NEED_MORE);
	run(s, HTTP_MAX_HEADER, 0, 0, 100, &res);
	CU_ASSERT_EQUAL(res.rc, HTTP_ERR_HEADER_TOO_LARGE);
	free(s);
}

static void test_body_limit(void)
{
	const size_t max = HTTP_API_MAX_BODY;
	struct http_parser p;
	char cl[40], *s, *body;
	size_t n, used;

	/* The largest request the buffer holds: both limits reached. */
	snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", max);
	s = padded(HTTP_MAX_HEADER, cl);
	n = HTTP_MAX_HEADER + max;
	s = realloc(s, n + 1);
	CU_ASSERT_FATAL(s != NULL);
	memset(s + HTTP_MAX_HEADER, 'b', max);
	CU_ASSERT_EQUAL_FATAL(http_parser_init(&p, max), 0);
	CU_ASSERT_EQUAL(http_feed(&p, s, n, &used), HTTP_REQUEST_READY);
	CU_ASSERT_EQUAL(used, n);
	CU_ASSERT_EQUAL(p.req.body_len, max);
	body = s + HTTP_MAX_HEADER;
	CU_ASSERT(!memcmp(p.req.body, body, max));
	CU_ASSERT_EQUAL(p.req.body[max], '\0');
	http_next(&p);
	CU_ASSERT_EQUAL(http_feed(&p, "GET / HTTP/1.1\r\n\r\n", 18, &used),
			HTTP_REQUEST_READY);
	http_parser_free(&p);
	free(s);

	/* One byte over: refused from the header, before any body. */
	snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", max + 1);
	s = padded(200, cl);
	CU_ASSERT_EQUAL(status_of(s), 413);
	free(s);
	CU_ASSERT_EQUAL_FATAL(http_parser_init(&p, 4), 0);
	CU_ASSERT_EQUAL(
		http_feed(&p, "PUT / HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd",
			  41, &used),
		HTTP_REQUEST_READY);
	http_next(&p);
	CU_ASSERT_EQUAL(http_feed(&p,
				  "PUT / HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
				  37, &used),
			HTTP_ERR_TOO_LARGE);
	http_parser_free(&p);
}

static void test_errors_stick(void)
{
	struct http_parser p;
	size_t used = 99;

	CU_ASSERT_EQUAL_FATAL(http_parser_init(&p, 16), 0);
	CU_ASSERT_EQUAL(http_feed(&p, "GET / HTTP/3.0\r\n", 16, &used),
			HTTP_ERR_VERSION);
	CU_ASSERT_EQUAL(http_feed(&p, "GET / HTTP/1.1\r\n\r\n", 18, &used),
			HTTP_ERR_VERSION);
	CU_ASSERT_EQUAL(used, 0);
	http_next(&p);
	CU_ASSERT_EQUAL(http_feed(&p, NULL, 0, NULL), HTTP_ERR_VERSION);
	http_parser_free(&p);
	CU_ASSERT_EQUAL(http_parser_init(&p, SIZE_MAX), -EINVAL);
	http_parser_free(&p);
}

static void expect_format(int status, const char *ctype, const char *body,
			  bool keep_alive, const char *want)
{
	char buf[512];
	int n = http_format_response(buf, sizeof(buf), status, ctype, body,
				     body ? strlen(body) : 0, keep_alive);

	CU_ASSERT_EQUAL(n, (int)strlen(want));
	CU_ASSERT_STRING_EQUAL(buf, want);
}

static void test_format(void)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nServer: kiln\r\n"
				 "Content-Type: application/json\r\n"
				 "Content-Length: 11\r\n\r\n{\"a\":true}\n";
	char buf[sizeof(ok)];

	expect_format(200, "application/json", "{\"a\":true}\n", true, ok);
	expect_format(204, NULL, NULL, true,
		      "HTTP/1.1 204 No Content\r\nServer: kiln\r\n\r\n");
	expect_format(204, "application/json", "", false,
		      "HTTP/1.1 204 No Content\r\nServer: kiln\r\n"
		      "Connection: close\r\n\r\n");
	expect_format(400, "application/json", "{\"fault_message\":\"x\"}",
		      false,
		      "HTTP/1.1 400 Bad Request\r\nServer: kiln\r\n"
		      "Content-Type: application/json\r\nContent-Length: 21\r\n"
		      "Connection: close\r\n\r\n{\"fault_message\":\"x\"}");
	expect_format(404, NULL, NULL, true,
		      "HTTP/1.1 404 Not Found\r\nServer: kiln\r\n"
		      "Content-Length: 0\r\n\r\n");
	expect_format(100, NULL, NULL, true,
		      "HTTP/1.1 100 Continue\r\nServer: kiln\r\n\r\n");
	expect_format(
		299, NULL, NULL, true,
		"HTTP/1.1 299 \r\nServer: kiln\r\nContent-Length: 0\r\n\r\n");
	/* Exactly enough room, including the NUL, and one byte less. */
	CU_ASSERT_EQUAL(http_format_response(buf, sizeof(ok), 200,
					     "application/json",
					     "{\"a\":true}\n", 11, true),
			(int)sizeof(ok) - 1);
	CU_ASSERT_EQUAL(http_format_response(buf, sizeof(ok) - 1, 200,
					     "application/json",
					     "{\"a\":true}\n", 11, true),
			-ENOSPC);
	CU_ASSERT_EQUAL(http_format_response(buf, 8, 404, NULL, NULL, 0, true),
			-ENOSPC);
	CU_ASSERT_EQUAL(http_format_response(buf, sizeof(buf), 99, NULL, NULL,
					     0, true),
			-EINVAL);
	CU_ASSERT_EQUAL(http_format_response(buf, sizeof(buf), 600, NULL, NULL,
					     0, true),
			-EINVAL);
	CU_ASSERT_EQUAL(http_format_response(buf, sizeof(buf), 204, NULL, "x",
					     1, true),
			-EINVAL);
	CU_ASSERT_EQUAL(http_format_response(buf, sizeof(buf), 200,
					     "a\r\nX-Evil: 1", "", 0, true),
			-EINVAL);
}

static void test_reasons(void)
{
	static const struct {
		int status;
		const char *reason;
	} want[] = {
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
	char buf[256], line[64];
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CU_ASSERT_STRING_EQUAL(http_reason(want[i].status),
				       want[i].reason);
		snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n",
			 want[i].status, want[i].reason);
		CU_ASSERT(http_format_response(buf, sizeof(buf), want[i].status,
					       NULL, NULL, 0, false) > 0);
		CU_ASSERT(!strncmp(buf, line, strlen(line)));
	}
	CU_ASSERT_STRING_EQUAL(http_reason(418), "");
	/* Each error's status has a phrase. */
	CU_ASSERT_STRING_EQUAL(http_reason(-HTTP_ERR_BAD_REQUEST),
			       "Bad Request");
	CU_ASSERT_STRING_EQUAL(http_reason(-HTTP_ERR_TOO_LARGE),
			       "Content Too Large");
	CU_ASSERT_STRING_EQUAL(http_reason(-HTTP_ERR_HEADER_TOO_LARGE),
			       "Request Header Fields Too Large");
	CU_ASSERT_STRING_EQUAL(http_reason(-HTTP_ERR_NOT_IMPLEMENTED),
			       "Not Implemented");
	CU_ASSERT_STRING_EQUAL(http_reason(-HTTP_ERR_VERSION),
			       "HTTP Version Not Supported");
}

void suite_http(void)
{
	static const CU_TestInfo tests[] = {
		{ "GET", test_get },
		{ "PUT with a JSON body", test_put_json },
		{ "path, query and method", test_path_query_method },
		{ "every split gives the same result", test_splits },
		{ "pipelined requests", test_pipelined },
		{ "keep-alive in HTTP/1.0 and 1.1", test_keep_alive },
		{ "Expect: 100-continue", test_expect_continue },
		{ "bad request lines: 400, 505", test_request_line_errors },
		{ "bad header lines, NUL bytes: 400", test_header_errors },
		{ "Content-Length values", test_content_length },
		{ "Transfer-Encoding: 501", test_transfer_encoding },
		{ "header names and values", test_header_names_values },
		{ "header section limit: 431", test_header_limit },
		{ "body limit: 413", test_body_limit },
		{ "errors stick", test_errors_stick },
		{ "response text", test_format },
		{ "reason phrases", test_reasons },
		CU_TEST_INFO_NULL,
	};
	unit_add_suite("http", tests);
}
