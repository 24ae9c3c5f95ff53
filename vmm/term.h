/* SPDX-License-Identifier: MIT */
#ifndef KILN_TERM_H
#define KILN_TERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Puts the terminal on fd in raw mode if it is one; the previous mode is
 * restored by term_restore(), which is also called from kiln's fatal-signal
 * handlers and at exit. Returns true if raw mode was entered.
 */
bool term_raw_enter(int fd);
void term_restore(void);

/* The console escape: Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A. */
#define TERM_ESCAPE_CHAR 0x01

struct term_escape {
	bool pending; /* the previous byte was the escape character */
};

/*
 * Filters n input bytes from the user into out (room for n bytes), dropping
 * escape sequences. Returns the bytes to send to the guest; sets *quit when
 * the quit sequence was typed (bytes after it are dropped).
 */
size_t term_filter_escape(struct term_escape *st, const uint8_t *in, size_t n,
			  uint8_t *out, bool *quit);

#endif
