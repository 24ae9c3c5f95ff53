/* SPDX-License-Identifier: MIT */
#ifndef KILN_LOG_H
#define KILN_LOG_H

#include <stdbool.h>

enum log_level { LOG_QUIET = -1, LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/*
 * Set once by main() before any thread starts, read-only afterwards.
 * Messages above this level are dropped.
 */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Where messages go (stderr by default); set before threads start. */
void log_set_fd(int fd);
/*
 * Messages as JSON lines ({"level":"error","msg":...,"time":...}), as the
 * OCI runtimes' --log-format json; set before threads start.
 */
void log_set_json(bool json);
/*
 * The last error (LOG_ERR) message this thread logged, without the
 * "kiln: " prefix, whatever the level lets out; "" after log_clear_error.
 */
const char *log_last_error(void);
void log_clear_error(void);
/* Writes "kiln: <message>\n" to stderr (or log_set_fd's) in one write(2). */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A warning caused by what the guest did (a bad descriptor, a refused
 * register write). Rate-limited across all threads: a burst of 20, then
 * 5 a second; the count of dropped ones is reported with the next line
 * that goes out.
 */
void log_guest(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* For tests: forget the rate limiter's state; returns lines dropped. */
unsigned long log_guest_reset(void);

#define pr_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define pr_guest(...) log_guest(__VA_ARGS__)

#endif
