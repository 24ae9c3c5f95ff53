// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "unit.h"

static int parse(struct json_doc *d, const char *s)
{
	memset(d, 0, sizeof(*d));
	return json_parse(s, strlen(s), d, NULL, 0);
}

/*
 * Parses len bytes of s expecting rc and the message msg; says what came
 * instead on stderr. For CU_ASSERT, which then names the caller's line.
 */
static int bad_n(const char *s, size_t len, int rc, const char *msg)
{
	struct json_doc d = { 0 };
	char err[128] = "junk";
	int r = json_parse(s, len, &d, err, sizeof(err));
	int ok = r == rc && !strcmp(err, msg) && !json_root(&d);

	if (!ok)
		fprintf(stderr, "\n%s: got %d '%s'\n", s, r, err);
	json_free(&d);
	return ok;
}

static int bad(const char *s, int rc, const char *msg)
{
	return bad_n(s, strlen(s), rc, msg);
}

static void test_scalars(void)
{
	struct json_doc d;
	const struct json_node *n;
	size_t len;
	bool b;

	CU_ASSERT_EQUAL(parse(&d, "null"), 0);
	CU_ASSERT_EQUAL(json_root(&d)->type, JSON_NULL);
	CU_ASSERT_EQUAL(json_get_bool(json_root(&d), &b), -EINVAL);
	CU_ASSERT_PTR_NULL(json_get_str(json_root(&d), NULL));
	json_free(&d);

	CU_ASSERT_EQUAL(parse(&d, " \t\r\ntrue\n "), 0);
	b = false;
	CU_ASSERT_EQUAL(json_get_bool(json_root(&d), &b), 0);
	CU_ASSERT(b);
	json_free(&d);
	CU_ASSERT_EQUAL(parse(&d, "false"), 0);
	CU_ASSERT_EQUAL(json_get_bool(json_root(&d), &b), 0);
	CU_ASSERT(!b);
	json_free(&d);

	CU_ASSERT_EQUAL(parse(&d, "-12.5e+3"), 0);
	n = json_root(&d);
	CU_ASSERT_EQUAL(n->type, JSON_NUMBER);
	CU_ASSERT_STRING_EQUAL(n->str, "-12.5e+3");
	CU_ASSERT_EQUAL(n->len, 8);
	json_free(&d);

	CU_ASSERT_EQUAL(parse(&d, "\"hello\""), 0);
	n = json_root(&d);
	CU_ASSERT_EQUAL(n->type, JSON_STRING);
	CU_ASSERT_STRING_EQUAL(json_get_str(n, &len), "hello");
	CU_ASSERT_EQUAL(len, 5);
	CU_ASSERT_PTR_NULL(n->key);
	CU_ASSERT_PTR_NULL(json_first(n));
	json_free(&d);

	CU_ASSERT_EQUAL(parse(&d, "\"\""), 0);
	CU_ASSERT_STRING_EQUAL(json_get_str(json_root(&d), &len), "");
	CU_ASSERT_EQUAL(len, 0);
	json_free(&d);
	json_free(&d); /* idempotent */
	CU_ASSERT_PTR_NULL(json_root(&d));
}

static void test_containers(void)
{
	static const char text[] =
		"{\"name\": \"vm\", \"cpus\": 2, \"on\": true, \"none\": null,\n"
		" \"disks\": [{\"path\": \"/a\"}, {\"path\": \"/b\", \"ro\": "
		"false}],\n \"empty\": [], \"obj\": {}, \"deep\": [[1], [2, [3]]]}";
	static const char *const keys[] = { "name",  "cpus",  "on",  "none",
					    "disks", "empty", "obj", "deep" };
	struct json_doc d;
	const struct json_node *root, *m, *disks, *e;
	uint64_t v;
	size_t i = 0;

	CU_ASSERT_EQUAL_FATAL(parse(&d, text), 0);
	root = json_root(&d);
	CU_ASSERT_EQUAL(root->type, JSON_OBJECT);
	CU_ASSERT_EQUAL(root->len, 8);
	for (m = json_first(root); m; m = json_next(m), i++)
		CU_ASSERT_STRING_EQUAL(m->key, keys[i]);
	CU_ASSERT_EQUAL(i, 8);
	CU_ASSERT_STRING_EQUAL(json_get_str(json_get(root, "name"), NULL),
			       "vm");
	CU_ASSERT_EQUAL(json_get_u64(json_get(root, "cpus"), &v), 0);
	CU_ASSERT_EQUAL(v, 2);
	CU_ASSERT_EQUAL(json_get(root, "none")->type, JSON_NULL);
	CU_ASSERT_PTR_NULL(json_get(root, "missing"));
	CU_ASSERT_PTR_NULL(json_get(root, "Name"));
	CU_ASSERT_PTR_NULL(json_get(NULL, "name"));

	disks = json_get(root, "disks");
	CU_ASSERT_EQUAL(disks->type, JSON_ARRAY);
	CU_ASSERT_EQUAL(disks->len, 2);
	CU_ASSERT_PTR_NULL(json_get(disks, "path")); /* not an object */
	e = json_at(disks, 1);
	CU_ASSERT_STRING_EQUAL(json_get_str(json_get(e, "path"), NULL), "/b");
	CU_ASSERT_EQUAL(json_get(e, "ro")->type, JSON_BOOL);
	CU_ASSERT_PTR_EQUAL(json_next(json_first(disks)), e);
	CU_ASSERT_PTR_NULL(json_next(e));
	CU_ASSERT_PTR_NULL(json_at(disks, 2));
	CU_ASSERT_PTR_NULL(json_at(root, 0)); /* not an array */
	CU_ASSERT_PTR_NULL(json_first(json_get(root, "empty")));
	CU_ASSERT_EQUAL(json_get(root, "obj")->type, JSON_OBJECT);
	CU_ASSERT_PTR_NULL(json_first(json_get(root, "obj")));

	e = json_at(json_at(json_get(root, "deep"), 1), 1);
	CU_ASSERT_EQUAL(e->len, 1);
	CU_ASSERT_EQUAL(json_get_u64(json_at(e, 0), &v), 0);
	CU_ASSERT_EQUAL(v, 3);
	CU_ASSERT_PTR_NULL(json_next(NULL));
	json_free(&d);
}

static void test_escapes(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t" },
		{ "\"a\\u0041\\u00e9\\u00C9\"", "aA\xc3\xa9\xc3\x89" },
		{ "\"\\u007f\\u0080\\u07ff\\u0800\"",
		  "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80" },
		{ "\"\\u20ac\\uffff\"", "\xe2\x82\xac\xef\xbf\xbf" },
		{ "\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80" },
		{ "\"\\uD800\\uDC00\\udbff\\udfff\"",
		  "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf" },
		{ "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\x7f\"",
		  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\x7f" },
	};
	struct json_doc d;
	size_t i, len;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(parse(&d, cases[i].in), 0);
		CU_ASSERT_STRING_EQUAL(json_get_str(json_root(&d), &len),
				       cases[i].out);
		CU_ASSERT_EQUAL(len, strlen(cases[i].out));
		json_free(&d);
	}
	/* Keys are decoded too. */
	CU_ASSERT_EQUAL(parse(&d, "{\"\\u006bey\\n\": 1}"), 0);
	CU_ASSERT_PTR_NOT_NULL(json_get(json_root(&d), "key\n"));
	json_free(&d);
}

static void test_string_errors(void)
{
	CU_ASSERT(bad("\"a\\u0000\"", -EINVAL,
		      "line 1, column 3: \\u0000 is not allowed"));
	CU_ASSERT(bad("\"\\ud800\"", -EINVAL,
		      "line 1, column 2: unpaired surrogate"));
	CU_ASSERT(bad("\"\\ud800x\"", -EINVAL,
		      "line 1, column 2: unpaired surrogate"));
	CU_ASSERT(bad("\"\\ud800\\n\"", -EINVAL,
		      "line 1, column 2: unpaired surrogate"));
	CU_ASSERT(bad("\"\\ud800\\u0041\"", -EINVAL,
		      "line 1, column 2: unpaired surrogate"));
	CU_ASSERT(bad("\"\\ud800\\ud800\"", -EINVAL,
		      "line 1, column 2: unpaired surrogate"));
	CU_ASSERT(bad("\"\\udc00\\ud800\"", -EINVAL,
		      "line 1, column 2: unpaired surrogate"));
	CU_ASSERT(bad("\"\\ud800\\uzzzz\"", -EINVAL,
		      "line 1, column 2: invalid \\u escape"));
	CU_ASSERT(
		bad("\"ab\\x\"", -EINVAL, "line 1, column 4: invalid escape"));
	CU_ASSERT(bad("\"\\U0041\"", -EINVAL,
		      "line 1, column 2: invalid escape"));
	CU_ASSERT(bad("\"\\u12g4\"", -EINVAL,
		      "line 1, column 2: invalid \\u escape"));
	CU_ASSERT(bad("\"\\u12\"", -EINVAL,
		      "line 1, column 2: invalid \\u escape"));
	CU_ASSERT(bad("\"a\tb\"", -EINVAL,
		      "line 1, column 3: control character 0x09 in a string"));
	CU_ASSERT(bad("[\"a\nb\"]", -EINVAL,
		      "line 1, column 4: control character 0x0a in a string"));
	CU_ASSERT(
		bad_n("\"a\0\"", 4, -EINVAL,
		      "line 1, column 3: control character 0x00 in a string"));
	/*
	 * Invalid UTF-8: a stray continuation byte, overlong forms, an
	 * encoded surrogate, past U+10FFFF, truncated, bytes never used.
	 */
	CU_ASSERT(
		bad("\"ab\x80\"", -EINVAL, "line 1, column 4: invalid UTF-8"));
	CU_ASSERT(bad("\"\xc0\x80\"", -EINVAL,
		      "line 1, column 2: invalid UTF-8"));
	CU_ASSERT(bad("\"\xc1\xbf\"", -EINVAL,
		      "line 1, column 2: invalid UTF-8"));
	CU_ASSERT(bad("\"\xe0\x9f\xbf\"", -EINVAL,
		      "line 1, column 2: invalid UTF-8"));
	CU_ASSERT(bad("\"\xf0\x8f\xbf\xbf\"", -EINVAL,
		      "line 1, column 2: invalid UTF-8"));
	CU_ASSERT(bad("\"\xed\xa0\x80\"", -EINVAL,
		      "line 1, column 2: invalid UTF-8"));
	CU_ASSERT(bad("\"\xf4\x90\x80\x80\"", -EINVAL,
		      "line 1, column 2: invalid UTF-8"));
	CU_ASSERT(bad("\"\xe2\x82\"", -EINVAL,
		      "line 1, column 2: invalid UTF-8"));
	CU_ASSERT(
		bad("\"\xe2\x82", -EINVAL, "line 1, column 2: invalid UTF-8"));
	CU_ASSERT(bad("\"\xff\"", -EINVAL, "line 1, column 2: invalid UTF-8"));
	CU_ASSERT(bad("\"\xf5\x80\x80\x80\"", -EINVAL,
		      "line 1, column 2: invalid UTF-8"));
	/* Outside strings, non-ASCII is no value. */
	CU_ASSERT(
		bad("\xc3\xa9", -EINVAL, "line 1, column 1: expected a value"));
}

static void test_numbers(void)
{
	static const char *const good[] = {
		"0",	 "-0",
		"1",	 "-1",
		"10",	 "0.5",
		"-0.0",	 "1e3",
		"1E+3",	 "1e-3",
		"0e0",	 "12.34e56",
		"1e999", "123456789012345678901234"
	};
	static const struct {
		const char *in, *msg;
	} bad_nums[] = {
		{ "01", "line 1, column 1: leading zeros are not allowed" },
		{ "-01", "line 1, column 2: leading zeros are not allowed" },
		{ "[00]", "line 1, column 2: leading zeros are not allowed" },
		{ "+1", "line 1, column 1: expected a value" },
		{ ".5", "line 1, column 1: expected a value" },
		{ "1.", "line 1, column 3: unexpected end of input" },
		{ "1.e5", "line 1, column 3: expected a digit" },
		{ "1e", "line 1, column 3: unexpected end of input" },
		{ "1e+", "line 1, column 4: unexpected end of input" },
		{ "[1e+]", "line 1, column 5: expected a digit" },
		{ "-", "line 1, column 2: unexpected end of input" },
		{ "--1", "line 1, column 2: expected a digit" },
		{ "-a", "line 1, column 2: expected a digit" },
		{ "0x10", "line 1, column 2: unexpected data after the value" },
		{ "1.5.3",
		  "line 1, column 4: unexpected data after the value" },
		{ "NaN", "line 1, column 1: expected a value" },
		{ "nan", "line 1, column 1: expected 'null'" },
		{ "Infinity", "line 1, column 1: expected a value" },
		{ "-Infinity", "line 1, column 2: expected a digit" },
		{ "[1 2]", "line 1, column 4: expected ',' or ']'" },
	};
	struct json_doc d;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CU_ASSERT_EQUAL(parse(&d, good[i]), 0);
		CU_ASSERT_STRING_EQUAL(json_root(&d)->str, good[i]);
		json_free(&d);
	}
	for (i = 0; i < sizeof(bad_nums) / sizeof(bad_nums[0]); i++)
		CU_ASSERT(bad(bad_nums[i].in, -EINVAL, bad_nums[i].msg));
}

static int get_u64(const char *s, uint64_t *v)
{
	struct json_doc d;
	int rc;

	*v = 77;
	if (parse(&d, s))
		return -999;
	rc = json_get_u64(json_root(&d), v);
	json_free(&d);
	return rc;
}

static int get_i64(const char *s, int64_t *v)
{
	struct json_doc d;
	int rc;

	*v = 77;
	if (parse(&d, s))
		return -999;
	rc = json_get_i64(json_root(&d), v);
	json_free(&d);
	return rc;
}

static void test_integers(void)
{
	uint64_t u;
	int64_t i;

	CU_ASSERT_EQUAL(get_u64("0", &u), 0);
	CU_ASSERT_EQUAL(u, 0);
	CU_ASSERT_EQUAL(get_u64("-0", &u), 0);
	CU_ASSERT_EQUAL(u, 0);
	CU_ASSERT_EQUAL(get_u64("4096", &u), 0);
	CU_ASSERT_EQUAL(u, 4096);
	CU_ASSERT_EQUAL(get_u64("18446744073709551615", &u), 0);
	CU_ASSERT_EQUAL(u, UINT64_MAX);
	CU_ASSERT_EQUAL(get_u64("18446744073709551616", &u), -ERANGE);
	CU_ASSERT_EQUAL(get_u64("99999999999999999999999", &u), -ERANGE);
	CU_ASSERT_EQUAL(get_u64("-1", &u), -ERANGE);
	CU_ASSERT_EQUAL(get_u64("1e3", &u), -EINVAL);
	CU_ASSERT_EQUAL(get_u64("1E3", &u), -EINVAL);
	CU_ASSERT_EQUAL(get_u64("1.5", &u), -EINVAL);
	CU_ASSERT_EQUAL(get_u64("1.0", &u), -EINVAL);
	CU_ASSERT_EQUAL(get_u64("\"1\"", &u), -EINVAL);
	CU_ASSERT_EQUAL(get_u64("true", &u), -EINVAL);
	CU_ASSERT_EQUAL(u, 77); /* untouched on error */
	CU_ASSERT_EQUAL(json_get_u64(NULL, &u), -EINVAL);

	CU_ASSERT_EQUAL(get_i64("-0", &i), 0);
	CU_ASSERT_EQUAL(i, 0);
	CU_ASSERT_EQUAL(get_i64("-42", &i), 0);
	CU_ASSERT_EQUAL(i, -42);
	CU_ASSERT_EQUAL(get_i64("9223372036854775807", &i), 0);
	CU_ASSERT_EQUAL(i, INT64_MAX);
	CU_ASSERT_EQUAL(get_i64("-9223372036854775808", &i), 0);
	CU_ASSERT_EQUAL(i, INT64_MIN);
	CU_ASSERT_EQUAL(get_i64("9223372036854775808", &i), -ERANGE);
	CU_ASSERT_EQUAL(get_i64("-9223372036854775809", &i), -ERANGE);
	CU_ASSERT_EQUAL(get_i64("-18446744073709551616", &i), -ERANGE);
	CU_ASSERT_EQUAL(get_i64("-1e3", &i), -EINVAL);
	CU_ASSERT_EQUAL(get_i64("null", &i), -EINVAL);
	CU_ASSERT_EQUAL(i, 77);
}

static void test_syntax_errors(void)
{
	CU_ASSERT(
		bad("", -EINVAL, "line 1, column 1: unexpected end of input"));
	CU_ASSERT(bad(" \n\t ", -EINVAL,
		      "line 2, column 3: unexpected end of input"));
	CU_ASSERT(bad_n(NULL, 0, -EINVAL,
			"line 1, column 1: unexpected end of input"));
	CU_ASSERT(bad("{\n  \"a\": 1,\n  \"b\": [1, 2] \"c\": 3\n}", -EINVAL,
		      "line 3, column 15: expected ',' or '}'"));
	CU_ASSERT(bad("{\"a\" 1}", -EINVAL, "line 1, column 6: expected ':'"));
	CU_ASSERT(
		bad("{\"a\":}", -EINVAL, "line 1, column 6: expected a value"));
	CU_ASSERT(bad("{\"a\":1,}", -EINVAL,
		      "line 1, column 8: expected a string key"));
	CU_ASSERT(bad("{a:1}", -EINVAL,
		      "line 1, column 2: expected a string key"));
	CU_ASSERT(bad("{'a':1}", -EINVAL,
		      "line 1, column 2: expected a string key"));
	CU_ASSERT(bad("[1,]", -EINVAL, "line 1, column 4: expected a value"));
	CU_ASSERT(bad("[,1]", -EINVAL, "line 1, column 2: expected a value"));
	CU_ASSERT(bad("[1}", -EINVAL, "line 1, column 3: expected ',' or ']'"));
	CU_ASSERT(bad("{\"a\":1]", -EINVAL,
		      "line 1, column 7: expected ',' or '}'"));
	CU_ASSERT(bad("]", -EINVAL, "line 1, column 1: expected a value"));
	CU_ASSERT(bad("[1] /* c */", -EINVAL,
		      "line 1, column 5: unexpected data after the value"));
	CU_ASSERT(bad("1 2", -EINVAL,
		      "line 1, column 3: unexpected data after the value"));
	CU_ASSERT(bad("{}\n\n x", -EINVAL,
		      "line 3, column 2: unexpected data after the value"));
	CU_ASSERT(bad_n("{}\0", 3, -EINVAL,
			"line 1, column 3: unexpected data after the value"));
	CU_ASSERT(bad("tru", -EINVAL,
		      "line 1, column 4: unexpected end of input"));
	CU_ASSERT(bad("trUe", -EINVAL, "line 1, column 1: expected 'true'"));
	CU_ASSERT(bad("[nul]", -EINVAL, "line 1, column 2: expected 'null'"));
	CU_ASSERT(bad("True", -EINVAL, "line 1, column 1: expected a value"));
	CU_ASSERT(bad("truefalse", -EINVAL,
		      "line 1, column 5: unexpected data after the value"));
	CU_ASSERT(bad("\x01", -EINVAL, "line 1, column 1: expected a value"));
	CU_ASSERT(bad("\"abc", -EINVAL,
		      "line 1, column 5: unexpected end of input"));
	CU_ASSERT(bad("[1,\n", -EINVAL,
		      "line 2, column 1: unexpected end of input"));
	CU_ASSERT(bad("\f1", -EINVAL, "line 1, column 1: expected a value"));
}

static void test_err_buffer(void)
{
	struct json_doc d = { 0 };
	char err[12];

	/* Cut short, still terminated; or no buffer at all. */
	CU_ASSERT_EQUAL(json_parse("[1,]", 4, &d, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "line 1, col");
	CU_ASSERT_EQUAL(json_parse("[1,]", 4, &d, err, 0), -EINVAL);
	CU_ASSERT_EQUAL(json_parse("[1,]", 4, &d, NULL, 99), -EINVAL);
	CU_ASSERT_PTR_NULL(json_root(&d));
	err[0] = 'x';
	CU_ASSERT_EQUAL(json_parse("[1]", 3, &d, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(err[0], 0);
	json_free(&d);
}

static void test_duplicate_keys(void)
{
	struct json_doc d;

	CU_ASSERT(bad("{\"a\":1,\"a\":2}", -EINVAL,
		      "line 1, column 8: duplicate key 'a'"));
	CU_ASSERT(bad("{\"a\":1,\"b\":2,\n\"c\":{},\"b\":[]}", -EINVAL,
		      "line 2, column 8: duplicate key 'b'"));
	/* The same key written two ways is the same key. */
	CU_ASSERT(bad("{\"key\":1,\"k\\u0065y\":2}", -EINVAL,
		      "line 1, column 10: duplicate key 'key'"));
	/* The same key in different objects is fine, and "" is a key. */
	CU_ASSERT_EQUAL(parse(&d, "{\"a\":{\"a\":1},\"b\":[{\"a\":2},"
				  "{\"a\":3}],\"\":0,\"A\":1}"),
			0);
	CU_ASSERT_PTR_NOT_NULL(json_get(json_root(&d), ""));
	CU_ASSERT_EQUAL(json_root(&d)->len, 4);
	json_free(&d);
}

static void test_depth_limit(void)
{
	struct json_doc d;
	char s[256];
	int i;

	/* 32 levels, scalars inside the deepest not counting; then 33. */
	s[0] = 0;
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		strcat(s, "[");
	strcat(s, "1, \"x\", null");
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		strcat(s, "]");
	CU_ASSERT_EQUAL(parse(&d, s), 0);
	CU_ASSERT_EQUAL(d.count, JSON_MAX_DEPTH + 3);
	json_free(&d);
	memcpy(s + JSON_MAX_DEPTH + 8, "[]  ", 4);
	CU_ASSERT(bad(s, -E2BIG, "line 1, column 41: nesting deeper than 32"));

	s[0] = 0;
	for (i = 0; i <= JSON_MAX_DEPTH; i++)
		strcat(s, "{\"a\":");
	strcat(s, "0");
	for (i = 0; i <= JSON_MAX_DEPTH; i++)
		strcat(s, "}");
	CU_ASSERT(bad(s, -E2BIG, "line 1, column 161: nesting deeper than 32"));
}

static char *array_of(size_t n)
{
	char *s = malloc(2 * n + 3), *p = s;
	size_t i;

	*p++ = '[';
	for (i = 0; i < n; i++) {
		*p++ = '0';
		*p++ = ',';
	}
	if (n)
		p--;
	*p++ = ']';
	*p = 0;
	return s;
}

static void test_node_limit(void)
{
	struct json_node nodes[4];
	struct json_doc d = { .nodes = nodes, .max_nodes = 4 };
	char err[128];
	char *s;

	CU_ASSERT_EQUAL(json_parse("[1,2,3]", 7, &d, err, sizeof(err)), 0);
	CU_ASSERT_PTR_EQUAL(json_root(&d), &nodes[0]);
	CU_ASSERT_EQUAL(d.count, 4);
	json_free(&d);
	CU_ASSERT_PTR_EQUAL(d.nodes, nodes); /* the caller's, kept */
	CU_ASSERT_EQUAL(json_parse("[1,2,3,4]", 9, &d, err, sizeof(err)),
			-E2BIG);
	CU_ASSERT_STRING_EQUAL(err, "line 1, column 8: more than 4 values");
	CU_ASSERT_PTR_NULL(json_root(&d));
	json_free(&d);

	d = (struct json_doc){ .nodes = nodes };
	CU_ASSERT_EQUAL(json_parse("1", 1, &d, err, sizeof(err)), -EINVAL);

	/* Allocated: at most max_nodes, JSON_MAX_NODES by default. */
	d = (struct json_doc){ .max_nodes = 2 };
	CU_ASSERT_EQUAL(json_parse("[[]]", 4, &d, err, sizeof(err)), 0);
	json_free(&d);
	CU_ASSERT_EQUAL(json_parse("[[],1]", 6, &d, err, sizeof(err)), -E2BIG);
	json_free(&d);

	s = array_of(JSON_MAX_NODES - 1);
	CU_ASSERT_EQUAL(parse(&d, s), 0);
	CU_ASSERT_EQUAL(json_root(&d)->len, JSON_MAX_NODES - 1);
	CU_ASSERT_PTR_NOT_NULL(json_at(json_root(&d), JSON_MAX_NODES - 2));
	json_free(&d);
	free(s);
	s = array_of(JSON_MAX_NODES);
	CU_ASSERT(bad(s, -E2BIG, "line 1, column 8192: more than 4096 values"));
	free(s);
}

static void test_truncated(void)
{
	static const char doc[] =
		"{\"a\": [1, -2.5e-3, true, false, null, \"x\\ty\\u00e9\\ud83d"
		"\\ude00\\\"\"],\n \"b\": {\"c\": {}, \"d\": []}, \"e\": 0, "
		"\"f\": \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}";
	size_t len = sizeof(doc) - 1, i;
	struct json_doc d = { 0 };
	char err[128];

	CU_ASSERT_EQUAL_FATAL(json_parse(doc, len, &d, err, sizeof(err)), 0);
	json_free(&d);
	for (i = 0; i < len; i++) {
		/* Exactly i bytes, so that reading past them shows. */
		char *s = malloc(i ? i : 1);
		int rc;

		memcpy(s, doc, i);
		rc = json_parse(s, i, &d, err, sizeof(err));
		CU_ASSERT_EQUAL(rc, -EINVAL);
		CU_ASSERT(strstr(err, "unexpected end of input") ||
			  strstr(err, "invalid UTF-8"));
		CU_ASSERT_PTR_NULL(json_root(&d));
		json_free(&d);
		free(s);
	}
}

static char *write_compact(void)
{
	struct json_out o;

	json_out_init(&o, false);
	json_out_begin_object(&o);
	json_out_key(&o, "s");
	json_out_str(&o, "v");
	json_out_key(&o, "u");
	json_out_u64(&o, UINT64_MAX);
	json_out_key(&o, "i");
	json_out_i64(&o, INT64_MIN);
	json_out_key(&o, "t");
	json_out_bool(&o, true);
	json_out_key(&o, "f");
	json_out_bool(&o, false);
	json_out_key(&o, "n");
	json_out_null(&o);
	json_out_key(&o, "a");
	json_out_begin_array(&o);
	json_out_u64(&o, 1);
	json_out_begin_object(&o);
	json_out_end_object(&o);
	json_out_begin_array(&o);
	json_out_end_array(&o);
	json_out_i64(&o, -2);
	json_out_end_array(&o);
	json_out_end_object(&o);
	return json_out_finish(&o, NULL);
}

static void test_writer_compact(void)
{
	char *s = write_compact();

	CU_ASSERT_STRING_EQUAL(s, "{\"s\":\"v\",\"u\":18446744073709551615,"
				  "\"i\":-9223372036854775808,\"t\":true,"
				  "\"f\":false,\"n\":null,\"a\":[1,{},[],-2]}");
	free(s);
}

static void test_writer_round_trip(void)
{
	struct json_doc d;
	const struct json_node *r, *a;
	char *s = write_compact();
	uint64_t u;
	int64_t i;
	bool b;

	CU_ASSERT_EQUAL_FATAL(parse(&d, s), 0);
	r = json_root(&d);
	CU_ASSERT_STRING_EQUAL(json_get_str(json_get(r, "s"), NULL), "v");
	CU_ASSERT_EQUAL(json_get_u64(json_get(r, "u"), &u), 0);
	CU_ASSERT_EQUAL(u, UINT64_MAX);
	CU_ASSERT_EQUAL(json_get_i64(json_get(r, "i"), &i), 0);
	CU_ASSERT_EQUAL(i, INT64_MIN);
	CU_ASSERT_EQUAL(json_get_bool(json_get(r, "t"), &b), 0);
	CU_ASSERT(b);
	CU_ASSERT_EQUAL(json_get_bool(json_get(r, "f"), &b), 0);
	CU_ASSERT(!b);
	CU_ASSERT_EQUAL(json_get(r, "n")->type, JSON_NULL);
	a = json_get(r, "a");
	CU_ASSERT_EQUAL(a->len, 4);
	CU_ASSERT_EQUAL(json_at(a, 1)->type, JSON_OBJECT);
	CU_ASSERT_EQUAL(json_at(a, 2)->type, JSON_ARRAY);
	CU_ASSERT_EQUAL(json_get_i64(json_at(a, 3), &i), 0);
	CU_ASSERT_EQUAL(i, -2);
	json_free(&d);
	free(s);
}

static void test_writer_escaping(void)
{
	/* Every byte from 1 to 0x7f, and valid UTF-8, round-trip. */
	char all[0x80 + 16], *s;
	struct json_out o;
	struct json_doc d;
	size_t i, len;

	for (i = 1; i < 0x80; i++)
		all[i - 1] = i;
	strcpy(all + 0x7f, "\xc3\xa9\xf0\x9f\x98\x80");
	json_out_init(&o, false);
	json_out_begin_array(&o);
	json_out_str(&o, all);
	json_out_end_array(&o);
	s = json_out_finish(&o, &len);
	CU_ASSERT_EQUAL(len, strlen(s));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "\\u0001\\u0002"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "\\b\\t\\n\\u000b\\f\\r\\u000e"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "\\u001f !\\\"#"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "Z[\\\\]^"));
	CU_ASSERT_EQUAL_FATAL(parse(&d, s), 0);
	CU_ASSERT_STRING_EQUAL(json_get_str(json_at(json_root(&d), 0), NULL),
			       all);
	json_free(&d);
	free(s);

	/* NUL (through strn), and bytes that are not UTF-8. */
	json_out_init(&o, false);
	json_out_begin_object(&o);
	json_out_key(&o, "k\"\n");
	json_out_strn(&o, "a\0b", 3);
	json_out_key(&o, "bad");
	json_out_str(&o, "x\x80y\xc3z\xed\xa0\x80\xe2\x82");
	json_out_end_object(&o);
	s = json_out_finish(&o, NULL);
	CU_ASSERT_STRING_EQUAL(s, "{\"k\\\"\\n\":\"a\\u0000b\",\"bad\":"
				  "\"x\xef\xbf\xbdy\xef\xbf\xbdz\xef\xbf\xbd"
				  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
				  "\xef\xbf\xbd\"}");
	CU_ASSERT_EQUAL(parse(&d, s), -EINVAL); /* "\u0000" */
	json_free(&d);
	free(s);

	json_out_init(&o, false);
	json_out_str(&o, "");
	s = json_out_finish(&o, NULL);
	CU_ASSERT_STRING_EQUAL(s, "\"\"");
	free(s);
}

static void test_writer_pretty(void)
{
	struct json_out o;
	struct json_doc d;
	char *s;

	json_out_init(&o, true);
	json_out_begin_object(&o);
	json_out_key(&o, "boot-source");
	json_out_begin_object(&o);
	json_out_key(&o, "kernel_image_path");
	json_out_str(&o, "/k");
	json_out_key(&o, "initrd_path");
	json_out_null(&o);
	json_out_end_object(&o);
	json_out_key(&o, "drives");
	json_out_begin_array(&o);
	json_out_begin_object(&o);
	json_out_key(&o, "is_read_only");
	json_out_bool(&o, false);
	json_out_end_object(&o);
	json_out_u64(&o, 7);
	json_out_begin_array(&o);
	json_out_end_array(&o);
	json_out_end_array(&o);
	json_out_key(&o, "empty");
	json_out_begin_object(&o);
	json_out_end_object(&o);
	json_out_end_object(&o);
	s = json_out_finish(&o, NULL);
	CU_ASSERT_STRING_EQUAL(s, "{\n"
				  "  \"boot-source\": {\n"
				  "    \"kernel_image_path\": \"/k\",\n"
				  "    \"initrd_path\": null\n"
				  "  },\n"
				  "  \"drives\": [\n"
				  "    {\n"
				  "      \"is_read_only\": false\n"
				  "    },\n"
				  "    7,\n"
				  "    []\n"
				  "  ],\n"
				  "  \"empty\": {}\n"
				  "}\n");
	CU_ASSERT_EQUAL(parse(&d, s), 0);
	json_free(&d);
	free(s);

	json_out_init(&o, true);
	json_out_i64(&o, -1);
	s = json_out_finish(&o, NULL);
	CU_ASSERT_STRING_EQUAL(s, "-1\n");
	free(s);
}

static void test_writer_misuse(void)
{
	struct json_out o;
	int i;

	json_out_init(&o, false);
	CU_ASSERT_PTR_NULL(json_out_finish(&o, NULL)); /* nothing */

	json_out_begin_array(&o);
	json_out_key(&o, "k"); /* not in an object */
	json_out_end_array(&o);
	CU_ASSERT(o.failed);
	CU_ASSERT_PTR_NULL(json_out_finish(&o, NULL));
	CU_ASSERT(!o.failed); /* reset */

	json_out_begin_object(&o);
	json_out_u64(&o, 1); /* no key */
	json_out_end_object(&o);
	CU_ASSERT_PTR_NULL(json_out_finish(&o, NULL));

	json_out_begin_object(&o);
	json_out_key(&o, "a");
	json_out_key(&o, "b"); /* two keys */
	CU_ASSERT_PTR_NULL(json_out_finish(&o, NULL));

	json_out_begin_object(&o);
	json_out_key(&o, "a");
	json_out_end_object(&o); /* key without value */
	CU_ASSERT_PTR_NULL(json_out_finish(&o, NULL));

	json_out_begin_object(&o);
	json_out_end_array(&o); /* mismatched */
	CU_ASSERT_PTR_NULL(json_out_finish(&o, NULL));

	json_out_end_object(&o); /* nothing open */
	CU_ASSERT_PTR_NULL(json_out_finish(&o, NULL));

	json_out_begin_array(&o); /* unclosed */
	CU_ASSERT_PTR_NULL(json_out_finish(&o, NULL));

	json_out_null(&o);
	json_out_null(&o); /* two top-level values */
	CU_ASSERT_PTR_NULL(json_out_finish(&o, NULL));

	for (i = 0; i < 64; i++)
		json_out_begin_array(&o);
	CU_ASSERT(!o.failed);
	json_out_begin_array(&o); /* 65 levels */
	CU_ASSERT(o.failed);
	for (i = 0; i < 65; i++)
		json_out_end_array(&o);
	CU_ASSERT_PTR_NULL(json_out_finish(&o, NULL));
}

static void test_type_names(void)
{
	CU_ASSERT_STRING_EQUAL(json_type_name(JSON_NULL), "null");
	CU_ASSERT_STRING_EQUAL(json_type_name(JSON_BOOL), "a boolean");
	CU_ASSERT_STRING_EQUAL(json_type_name(JSON_NUMBER), "a number");
	CU_ASSERT_STRING_EQUAL(json_type_name(JSON_STRING), "a string");
	CU_ASSERT_STRING_EQUAL(json_type_name(JSON_ARRAY), "an array");
	CU_ASSERT_STRING_EQUAL(json_type_name(JSON_OBJECT), "an object");
}

void suite_json(void)
{
	static const CU_TestInfo tests[] = {
		{ "scalars", test_scalars },
		{ "arrays and objects", test_containers },
		{ "string escapes", test_escapes },
		{ "string errors", test_string_errors },
		{ "number grammar", test_numbers },
		{ "integer getters", test_integers },
		{ "syntax errors and positions", test_syntax_errors },
		{ "error buffer", test_err_buffer },
		{ "duplicate keys", test_duplicate_keys },
		{ "depth limit", test_depth_limit },
		{ "node limit", test_node_limit },
		{ "every prefix of a document fails", test_truncated },
		{ "writer: compact", test_writer_compact },
		{ "writer: round trip", test_writer_round_trip },
		{ "writer: escaping", test_writer_escaping },
		{ "writer: pretty", test_writer_pretty },
		{ "writer: misuse", test_writer_misuse },
		{ "type names", test_type_names },
		CU_TEST_INFO_NULL,
	};

	unit_add_suite("json", tests);
}
