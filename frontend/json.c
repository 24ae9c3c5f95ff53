// SPDX-License-Identifier: MIT
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct parser {
	const char *s;
	size_t len, pos;
	struct json_doc *doc;
	size_t max; /* nodes available in doc->nodes */
	char *sp; /* next free byte in doc->strings */
	int depth;
	char *err;
	size_t errlen;
};

/*
 * The length of the well-formed UTF-8 sequence at s (n > 0 bytes there),
 * or 0: overlong forms, surrogates and code points past U+10FFFF are not.
 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (n < len)
		return 0;
	cp = s[0] & (0x7f >> len);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
		return 0;
	if (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
		return 0;
	return len;
}

static __attribute__((format(printf, 4, 5))) int
fail(struct parser *p, size_t at, int rc, const char *fmt, ...)
{
	size_t line = 1, col = 1, i, n;
	va_list ap;
	int w;

	if (!p->errlen)
		return rc;
	for (i = 0; i < at; i++) {
		if (p->s[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	w = snprintf(p->err, p->errlen, "line %zu, column %zu: ", line, col);
	n = w > 0 ? (size_t)w : 0;
	if (n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static int fail_eof(struct parser *p)
{
	return fail(p, p->len, -EINVAL, "unexpected end of input");
}

/* Fails with "expected ..." at the current byte, or for the end. */
static int expected(struct parser *p, const char *what)
{
	if (p->pos == p->len)
		return fail_eof(p);
	return fail(p, p->pos, -EINVAL, "expected %s", what);
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len && memchr(" \t\n\r", p->s[p->pos], 4))
		p->pos++;
}

static bool eat(struct parser *p, char c)
{
	if (p->pos < p->len && p->s[p->pos] == c) {
		p->pos++;
		return true;
	}
	return false;
}

/* The 4 hex digits at pos; -1 if they are not, -2 at the end of input. */
static long hex4(struct parser *p)
{
	static const char hex[] = "0123456789abcdefABCDEF";
	const char *x;
	long v = 0;
	int i;

	for (i = 0; i < 4; i++, p->pos++) {
		if (p->pos == p->len)
			return -2;
		x = memchr(hex, p->s[p->pos], sizeof(hex) - 1);
		if (!x)
			return -1;
		v = v << 4 | (x - hex < 16 ? x - hex : x - hex - 6);
	}
	return v;
}

static char *put_utf8(char *d, uint32_t cp)
{
	int n = cp < 0x80 ? 0 : cp < 0x800 ? 1 : cp < 0x10000 ? 2 : 3;

	/* The lead byte's n + 1 high bits are set, for n continuations. */
	*d++ = n ? (0xff00 >> (n + 1) & 0xff) | cp >> 6 * n : cp;
	while (n--)
		*d++ = 0x80 | (cp >> 6 * n & 0x3f);
	return d;
}

/* An escape after its backslash (at start), decoded to *d. */
static int parse_escape(struct parser *p, size_t start, char **d)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	long cp, lo;

	if (p->pos == p->len)
		return fail_eof(p);
	e = memchr(from, p->s[p->pos], sizeof(from) - 1);
	if (e) {
		*(*d)++ = to[e - from];
		p->pos++;
		return 0;
	}
	if (p->s[p->pos++] != 'u')
		return fail(p, start, -EINVAL, "invalid escape");
	cp = hex4(p);
	if (cp >= 0xd800 && cp <= 0xdbff) {
		/* A high surrogate: its low one must follow at once. */
		if (p->len - p->pos >= 2 && p->s[p->pos] == '\\' &&
		    p->s[p->pos + 1] == 'u') {
			p->pos += 2;
			lo = hex4(p);
			if (lo >= 0xdc00 && lo <= 0xdfff)
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
			else if (lo < 0)
				cp = lo;
		} else if (p->pos == p->len ||
			   (p->s[p->pos] == '\\' && p->pos + 1 == p->len)) {
			cp = -2;
		}
	}
	if (cp == -2)
		return fail_eof(p);
	if (cp == -1)
		return fail(p, start, -EINVAL, "invalid \\u escape");
	if (cp == 0)
		return fail(p, start, -EINVAL, "\\u0000 is not allowed");
	if (cp >= 0xd800 && cp <= 0xdfff)
		return fail(p, start, -EINVAL, "unpaired surrogate");
	*d = put_utf8(*d, cp);
	return 0;
}

/* A string at pos (its '"') into the doc's storage, as *out. */
static int parse_string(struct parser *p, const char **out, size_t *len)
{
	char *d = p->sp;
	size_t n;
	int rc;

	p->pos++;
	for (;;) {
		unsigned char c;

		if (p->pos == p->len)
			return fail_eof(p);
		c = p->s[p->pos];
		if (c == '"')
			break;
		if (c == '\\') {
			p->pos++;
			rc = parse_escape(p, p->pos - 1, &d);
			if (rc)
				return rc;
			continue;
		}
		if (c < 0x20)
			return fail(p, p->pos, -EINVAL,
				    "control character 0x%02x in a string", c);
		n = utf8_len((const unsigned char *)p->s + p->pos,
			     p->len - p->pos);
		if (!n)
			return fail(p, p->pos, -EINVAL, "invalid UTF-8");
		memcpy(d, p->s + p->pos, n);
		d += n;
		p->pos += n;
	}
	p->pos++;
	*d = 0;
	*out = p->sp;
	if (len)
		*len = d - p->sp;
	p->sp = d + 1;
	return 0;
}

static bool is_digit(struct parser *p)
{
	return p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9';
}

static int digits(struct parser *p)
{
	if (!is_digit(p))
		return expected(p, "a digit");
	while (is_digit(p))
		p->pos++;
	return 0;
}

static int parse_number(struct parser *p, struct json_node *n)
{
	size_t start = p->pos;
	int rc;

	eat(p, '-');
	if (eat(p, '0')) {
		if (is_digit(p))
			return fail(p, p->pos - 1, -EINVAL,
				    "leading zeros are not allowed");
	} else if ((rc = digits(p))) {
		return rc;
	}
	if (eat(p, '.') && (rc = digits(p)))
		return rc;
	if (eat(p, 'e') || eat(p, 'E')) {
		if (!eat(p, '+'))
			eat(p, '-');
		if ((rc = digits(p)))
			return rc;
	}
	n->type = JSON_NUMBER;
	n->len = p->pos - start;
	memcpy(p->sp, p->s + start, n->len);
	p->sp[n->len] = 0;
	n->str = p->sp;
	p->sp += n->len + 1;
	return 0;
}

static int parse_literal(struct parser *p, const char *word)
{
	size_t n = strlen(word), left = p->len - p->pos;

	if (left >= n && !memcmp(p->s + p->pos, word, n)) {
		p->pos += n;
		return 0;
	}
	if (left < n && !memcmp(p->s + p->pos, word, left))
		return fail_eof(p);
	return fail(p, p->pos, -EINVAL, "expected '%s'", word);
}

static int parse_value(struct parser *p, struct json_node **out);

static bool has_key(const struct json_node *obj, const char *key)
{
	const struct json_node *m;

	for (m = json_first(obj); m; m = m->next)
		if (!strcmp(m->key, key))
			return true;
	return false;
}

static int parse_container(struct parser *p, struct json_node *n)
{
	bool obj = p->s[p->pos] == '{';
	struct json_node *prev = NULL, *child;
	const char *key = NULL;
	size_t key_at;
	int rc;

	if (++p->depth > JSON_MAX_DEPTH)
		return fail(p, p->pos, -E2BIG, "nesting deeper than %d",
			    JSON_MAX_DEPTH);
	n->type = obj ? JSON_OBJECT : JSON_ARRAY;
	p->pos++;
	skip_ws(p);
	if (eat(p, obj ? '}' : ']')) {
		p->depth--;
		return 0;
	}
	for (;;) {
		if (obj) {
			skip_ws(p);
			if (p->pos == p->len || p->s[p->pos] != '"')
				return expected(p, "a string key");
			key_at = p->pos;
			rc = parse_string(p, &key, NULL);
			if (rc)
				return rc;
			if (has_key(n, key))
				return fail(p, key_at, -EINVAL,
					    "duplicate key '%s'", key);
			skip_ws(p);
			if (!eat(p, ':'))
				return expected(p, "':'");
		}
		rc = parse_value(p, &child);
		if (rc)
			return rc;
		child->key = key;
		if (prev)
			prev->next = child;
		prev = child;
		n->len++;
		skip_ws(p);
		if (eat(p, ','))
			continue;
		if (eat(p, obj ? '}' : ']'))
			break;
		return expected(p, obj ? "',' or '}'" : "',' or ']'");
	}
	p->depth--;
	return 0;
}

static int parse_value(struct parser *p, struct json_node **out)
{
	struct json_node *n;
	char c;

	skip_ws(p);
	if (p->pos == p->len)
		return fail_eof(p);
	if (p->doc->count == p->max)
		return fail(p, p->pos, -E2BIG, "more than %zu values", p->max);
	n = &p->doc->nodes[p->doc->count++];
	memset(n, 0, sizeof(*n));
	*out = n;
	c = p->s[p->pos];
	switch (c) {
	case '{':
	case '[':
		return parse_container(p, n);
	case '"':
		n->type = JSON_STRING;
		return parse_string(p, &n->str, &n->len);
	case 't':
	case 'f':
		n->type = JSON_BOOL;
		n->boolean = c == 't';
		return parse_literal(p, c == 't' ? "true" : "false");
	case 'n':
		return parse_literal(p, "null");
	}
	if (c == '-' || (c >= '0' && c <= '9'))
		return parse_number(p, n);
	return expected(p, "a value");
}

int json_parse(const char *text, size_t len, struct json_doc *doc, char *err,
	       size_t errlen)
{
	struct parser p = { .s = text,
			    .len = len,
			    .doc = doc,
			    .err = err,
			    .errlen = err ? errlen : 0 };
	struct json_node *root;
	int rc;

	if (p.errlen)
		err[0] = 0;
	doc->count = 0;
	doc->strings = NULL;
	doc->own_nodes = false;
	if (!text)
		p.len = len = 0;
	p.max = doc->max_nodes ? doc->max_nodes : JSON_MAX_NODES;
	if (doc->nodes && !doc->max_nodes)
		return fail(&p, 0, -EINVAL, "no room for nodes");
	if (len >= SIZE_MAX / 2)
		return fail(&p, 0, -E2BIG, "input too large");
	if (!doc->nodes) {
		/* Each value starts at a byte of its own. */
		if (p.max > len)
			p.max = len ? len : 1;
		doc->nodes = calloc(p.max, sizeof(*doc->nodes));
		doc->own_nodes = true;
	}
	/*
	 * A string or number's text is never longer than its input plus
	 * the quote or delimiter after it, where its NUL goes.
	 */
	doc->strings = malloc(len + 1);
	if (!doc->nodes || !doc->strings) {
		rc = fail(&p, 0, -ENOMEM, "out of memory");
		goto out;
	}
	p.sp = doc->strings;
	rc = parse_value(&p, &root);
	if (!rc) {
		skip_ws(&p);
		if (p.pos != p.len)
			rc = fail(&p, p.pos, -EINVAL,
				  "unexpected data after the value");
	}
out:
	if (rc)
		json_free(doc);
	return rc;
}

void json_free(struct json_doc *doc)
{
	free(doc->strings);
	doc->strings = NULL;
	if (doc->own_nodes) {
		free(doc->nodes);
		doc->nodes = NULL;
		doc->own_nodes = false;
	}
	doc->count = 0;
}

const struct json_node *json_root(const struct json_doc *doc)
{
	return doc->count ? &doc->nodes[0] : NULL;
}

const struct json_node *json_get(const struct json_node *obj, const char *key)
{
	const struct json_node *m;

	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (m = json_first(obj); m; m = m->next)
		if (!strcmp(m->key, key))
			return m;
	return NULL;
}

const struct json_node *json_first(const struct json_node *n)
{
	/* Nodes are in document order: a first child follows its parent. */
	if (!n || (n->type != JSON_ARRAY && n->type != JSON_OBJECT) || !n->len)
		return NULL;
	return n + 1;
}

const struct json_node *json_next(const struct json_node *n)
{
	return n ? n->next : NULL;
}

const struct json_node *json_at(const struct json_node *arr, size_t i)
{
	const struct json_node *e;

	if (!arr || arr->type != JSON_ARRAY || i >= arr->len)
		return NULL;
	for (e = json_first(arr); i; i--)
		e = e->next;
	return e;
}

const char *json_type_name(enum json_type type)
{
	static const char *const names[] = {
		[JSON_NULL] = "null",	    [JSON_BOOL] = "a boolean",
		[JSON_NUMBER] = "a number", [JSON_STRING] = "a string",
		[JSON_ARRAY] = "an array",  [JSON_OBJECT] = "an object",
	};

	if ((unsigned int)type >= sizeof(names) / sizeof(names[0]))
		return "an unknown type";
	return names[type];
}

/* An integer's magnitude and sign. */
static int get_int(const struct json_node *n, uint64_t *mag, bool *neg)
{
	const char *s;
	uint64_t v = 0;
	unsigned int d;

	if (!n || n->type != JSON_NUMBER || strpbrk(n->str, ".eE"))
		return -EINVAL;
	s = n->str;
	*neg = *s == '-';
	for (s += *neg; *s; s++) {
		d = *s - '0';
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*mag = v;
	return 0;
}

int json_get_u64(const struct json_node *n, uint64_t *out)
{
	uint64_t v;
	bool neg;
	int rc = get_int(n, &v, &neg);

	if (rc)
		return rc;
	if (neg && v)
		return -ERANGE;
	*out = v;
	return 0;
}

int json_get_i64(const struct json_node *n, int64_t *out)
{
	uint64_t v;
	bool neg;
	int rc = get_int(n, &v, &neg);

	if (rc)
		return rc;
	if (v > (uint64_t)INT64_MAX + neg)
		return -ERANGE;
	/* -(INT64_MIN) does not fit: negate in unsigned arithmetic. */
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

int json_get_bool(const struct json_node *n, bool *out)
{
	if (!n || n->type != JSON_BOOL)
		return -EINVAL;
	*out = n->boolean;
	return 0;
}

const char *json_get_str(const struct json_node *n, size_t *len)
{
	if (!n || n->type != JSON_STRING)
		return NULL;
	if (len)
		*len = n->len;
	return n->str;
}

/* The writer's state: what was written last. */
enum { OUT_START, OUT_OPEN, OUT_KEY, OUT_VALUE };
#define OUT_MAX_DEPTH 64

void json_out_init(struct json_out *o, bool pretty)
{
	memset(o, 0, sizeof(*o));
	o->pretty = pretty;
}

/* Appends n bytes, keeping room for the NUL json_out_finish adds. */
static void put(struct json_out *o, const char *s, size_t n)
{
	size_t cap = o->cap ? o->cap : 256;
	char *b;

	if (o->failed)
		return;
	while (cap - o->len <= n) {
		if (cap > SIZE_MAX / 2) {
			o->failed = true;
			return;
		}
		cap *= 2;
	}
	if (cap != o->cap) {
		b = realloc(o->buf, cap);
		if (!b) {
			o->failed = true;
			return;
		}
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void newline(struct json_out *o)
{
	unsigned int i;

	if (!o->pretty)
		return;
	put(o, "\n", 1);
	for (i = 0; i < o->depth; i++)
		put(o, "  ", 2);
}

static bool in_object(const struct json_out *o)
{
	return o->depth && (o->objects >> (o->depth - 1) & 1);
}

/* Before a value: checks it may come here and writes what goes first. */
static bool value_ok(struct json_out *o)
{
	if (o->failed)
		return false;
	if (in_object(o) ? o->state != OUT_KEY :
			   !o->depth && o->state != OUT_START) {
		o->failed = true;
		return false;
	}
	if (o->depth && !in_object(o)) {
		if (o->state == OUT_VALUE)
			put(o, ",", 1);
		newline(o);
	}
	o->state = OUT_VALUE;
	return true;
}

static void put_str(struct json_out *o, const char *s, size_t n)
{
	static const char ctl[] = "\"\\\b\f\n\r\t", ctl_esc[] = "\"\\bfnrt";
	size_t i = 0, start = 0, l;
	char esc[8];

	put(o, "\"", 1);
	while (i < n) {
		unsigned char c = s[i];
		const char *e;

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0x80 &&
		    (l = utf8_len((const unsigned char *)s + i, n - i))) {
			i += l;
			continue;
		}
		put(o, s + start, i - start);
		e = memchr(ctl, c, sizeof(ctl) - 1);
		if (e) {
			esc[0] = '\\';
			esc[1] = ctl_esc[e - ctl];
			put(o, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(o, esc, 6);
		} else {
			put(o, "\xef\xbf\xbd", 3); /* U+FFFD */
		}
		start = ++i;
	}
	put(o, s + start, i - start);
	put(o, "\"", 1);
}

static void begin(struct json_out *o, bool obj)
{
	if (!value_ok(o))
		return;
	if (o->depth == OUT_MAX_DEPTH) {
		o->failed = true;
		return;
	}
	put(o, obj ? "{" : "[", 1);
	o->objects &= ~(1ULL << o->depth);
	o->objects |= (uint64_t)obj << o->depth;
	o->depth++;
	o->state = OUT_OPEN;
}

static void end(struct json_out *o, bool obj)
{
	if (o->failed)
		return;
	if (!o->depth || in_object(o) != obj || o->state == OUT_KEY) {
		o->failed = true;
		return;
	}
	o->depth--;
	if (o->state != OUT_OPEN)
		newline(o);
	put(o, obj ? "}" : "]", 1);
	o->state = OUT_VALUE;
}

void json_out_begin_object(struct json_out *o)
{
	begin(o, true);
}

void json_out_end_object(struct json_out *o)
{
	end(o, true);
}

void json_out_begin_array(struct json_out *o)
{
	begin(o, false);
}

void json_out_end_array(struct json_out *o)
{
	end(o, false);
}

void json_out_key(struct json_out *o, const char *key)
{
	if (o->failed)
		return;
	if (!in_object(o) || o->state == OUT_KEY) {
		o->failed = true;
		return;
	}
	if (o->state == OUT_VALUE)
		put(o, ",", 1);
	newline(o);
	put_str(o, key, strlen(key));
	put(o, ": ", o->pretty ? 2 : 1);
	o->state = OUT_KEY;
}

void json_out_strn(struct json_out *o, const char *s, size_t len)
{
	if (value_ok(o))
		put_str(o, s, len);
}

void json_out_str(struct json_out *o, const char *s)
{
	json_out_strn(o, s, strlen(s));
}

void json_out_u64(struct json_out *o, uint64_t v)
{
	char b[24];

	if (value_ok(o))
		put(o, b, snprintf(b, sizeof(b), "%" PRIu64, v));
}

void json_out_i64(struct json_out *o, int64_t v)
{
	char b[24];

	if (value_ok(o))
		put(o, b, snprintf(b, sizeof(b), "%" PRId64, v));
}

void json_out_bool(struct json_out *o, bool v)
{
	if (value_ok(o))
		put(o, v ? "true" : "false", v ? 4 : 5);
}

void json_out_null(struct json_out *o)
{
	if (value_ok(o))
		put(o, "null", 4);
}

char *json_out_finish(struct json_out *o, size_t *len)
{
	char *buf;

	if (o->depth || o->state != OUT_VALUE)
		o->failed = true;
	if (o->pretty)
		put(o, "\n", 1);
	buf = o->buf;
	if (o->failed) {
		free(buf);
		buf = NULL;
	} else {
		buf[o->len] = 0;
		if (len)
			*len = o->len;
	}
	json_out_init(o, o->pretty);
	return buf;
}
