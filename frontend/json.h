/* SPDX-License-Identifier: MIT */
#ifndef KILN_JSON_H
#define KILN_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A JSON (RFC 8259) parser for untrusted input, into a bounded tree, and
 * a writer for responses. No global state: documents and writers may be
 * used from any thread, one thread at a time each.
 */

/* Arrays and objects nested deeper than this are refused. */
#define JSON_MAX_DEPTH 32
/* The default limit on the number of values in one document. */
#define JSON_MAX_NODES 4096

enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

/* One value. Read it through the accessors below; it is read-only. */
struct json_node {
	enum json_type type;
	bool boolean; /* JSON_BOOL */
	/*
	 * JSON_STRING: the decoded UTF-8, NUL-terminated (with no NUL
	 * inside). JSON_NUMBER: its text as it was in the input.
	 */
	const char *str;
	/*
	 * JSON_STRING, JSON_NUMBER: bytes in str; JSON_ARRAY, JSON_OBJECT:
	 * number of elements or members.
	 */
	size_t len;
	const char *key; /* a member of an object: its key; else NULL */
	const struct json_node *next; /* the next element or member */
};

/*
 * A parsed document. Set nodes and max_nodes before json_parse (or leave
 * them zero); the rest is json_parse's.
 */
struct json_doc {
	/*
	 * The caller's array of max_nodes nodes (max_nodes > 0), or NULL:
	 * json_parse allocates what the input needs, at most max_nodes
	 * (0: JSON_MAX_NODES).
	 */
	struct json_node *nodes;
	size_t max_nodes;
	size_t count; /* nodes in use; nodes[0] is the root */
	char *strings; /* every string and number's text */
	bool own_nodes;
};

/*
 * Parses len bytes of text (which need not be NUL-terminated) into doc:
 * exactly one value, with optional whitespace around it. Strings are
 * decoded to UTF-8; the input must be valid UTF-8, and "\u0000", unpaired
 * surrogates, unescaped control characters and duplicate keys in one
 * object are refused. The document does not point into text.
 *
 * Returns 0, or leaves doc empty and returns -EINVAL (malformed input),
 * -E2BIG (nesting deeper than JSON_MAX_DEPTH, or more values than
 * max_nodes) or -ENOMEM, with err (errlen bytes, may be 0) saying why in
 * one line: "line 3, column 14: expected ',' or '}'" (1-based; columns
 * count bytes). doc must be new or json_free'd; json_free it after use
 * either way.
 */
int json_parse(const char *text, size_t len, struct json_doc *doc, char *err,
	       size_t errlen);

/* Frees what json_parse allocated; doc may be parsed again. Idempotent. */
void json_free(struct json_doc *doc);

/* The top-level value, or NULL if doc holds none. */
const struct json_node *json_root(const struct json_doc *doc);

/*
 * The member of object obj called key, or NULL when there is none, obj is
 * not an object or is NULL.
 */
const struct json_node *json_get(const struct json_node *obj, const char *key);

/*
 * The first element of an array or member of an object, or NULL if it is
 * empty, not an array or object, or NULL. Walk on with json_next(); a
 * member's key is its ->key.
 */
const struct json_node *json_first(const struct json_node *n);

/* The element or member after n, or NULL after the last (or n NULL). */
const struct json_node *json_next(const struct json_node *n);

/* Element i (from 0) of array arr, or NULL (out of range, not an array). */
const struct json_node *json_at(const struct json_node *arr, size_t i);

/*
 * For messages: "null", "a boolean", "a number", "a string", "an array",
 * "an object".
 */
const char *json_type_name(enum json_type type);

/*
 * The value of an integer number (no fraction, no exponent; "-0" is 0).
 * Returns 0 and sets *out, or leaves it alone and returns -EINVAL (n is
 * NULL, not a number, or not written as an integer) or -ERANGE (does not
 * fit in *out).
 */
int json_get_u64(const struct json_node *n, uint64_t *out);
int json_get_i64(const struct json_node *n, int64_t *out);

/* Returns 0 and sets *out, or -EINVAL if n is not a boolean (or NULL). */
int json_get_bool(const struct json_node *n, bool *out);

/*
 * A string's decoded text, NUL-terminated, with its length in *len (if
 * len is not NULL); or NULL if n is not a string (or is NULL). Valid
 * until the document is freed.
 */
const char *json_get_str(const struct json_node *n, size_t *len);

/*
 * A JSON writer into a growable buffer. Start it with json_out_init, add
 * one value (which may be an array or object holding others: begin, then
 * the elements, or key and value for each member, then end), and take the
 * text with json_out_finish. Commas are added where they belong.
 *
 * Misuse (a key outside an object, a value without its key, mismatched
 * ends, a second top-level value, more than 64 levels) and allocation
 * failures set the sticky failed flag; later calls do nothing, and
 * json_out_finish returns NULL.
 */
struct json_out {
	char *buf;
	size_t len, cap;
	bool pretty, failed;
	unsigned char state;
	unsigned int depth;
	uint64_t objects; /* bit d: the container at depth d+1 is an object */
};

/*
 * Compact output when pretty is false; else one element or member per
 * line indented by 2 spaces a level, ": " after keys, empty containers as
 * "[]" and "{}", and a final newline.
 */
void json_out_init(struct json_out *o, bool pretty);
void json_out_begin_object(struct json_out *o);
void json_out_end_object(struct json_out *o);
void json_out_begin_array(struct json_out *o);
void json_out_end_array(struct json_out *o);
/* A member's key (in an object; its value comes next). */
void json_out_key(struct json_out *o, const char *key);
/*
 * Strings are escaped: '"', '\\' and control characters (as \n, \t, \r,
 * \b, \f or \u00XX); each byte that is not part of valid UTF-8 is written
 * as U+FFFD. json_out_strn takes len bytes, which may include NULs.
 */
void json_out_str(struct json_out *o, const char *s);
void json_out_strn(struct json_out *o, const char *s, size_t len);
void json_out_u64(struct json_out *o, uint64_t v);
void json_out_i64(struct json_out *o, int64_t v);
void json_out_bool(struct json_out *o, bool v);
void json_out_null(struct json_out *o);

/*
 * Ends the writer: returns the text, malloc'ed and NUL-terminated (its
 * length in *len if len is not NULL), for the caller to free; or NULL if
 * the writer failed or the value is incomplete. Either way o is reset and
 * holds no memory: call this also to abandon a writer.
 */
char *json_out_finish(struct json_out *o, size_t *len);

#endif
