// SPDX-License-Identifier: MIT
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* Process-wide, written once during start-up (see log.h). */
static enum log_level max_level = LOG_WARN;
static int log_fd = STDERR_FILENO;
static bool log_json;
/* The last error this thread logged: what an API request answers with. */
static __thread char last_error[512];

void log_set_fd(int fd)
{
	log_fd = fd;
}

void log_set_json(bool json)
{
	log_json = json;
}

/*
 * One JSON line as OCI runtimes log (what containerd's shim reports):
 * {"level":"error","msg":"...","time":"2026-12-07T19:00:00Z"}.
 */
static int json_line(char *out, size_t cap, enum log_level level,
		     const char *msg)
{
	static const char *const names[] = { "error", "warning", "info",
					     "debug" };
	struct timespec ts;
	struct tm tm;
	size_t n;
	int k;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	k = snprintf(out, cap, "{\"level\":\"%s\",\"msg\":\"",
		     names[level < 0 ? 0 :
			   level > 3 ? 3 :
				       level]);
	n = k;
	for (; *msg && n + 8 < cap - 40; msg++) {
		unsigned char ch = *msg;

		if (ch == '"' || ch == '\\') {
			out[n++] = '\\';
			out[n++] = ch;
		} else if (ch < 0x20) {
			n += snprintf(out + n, cap - n, "\\u%04x", ch);
		} else {
			out[n++] = ch;
		}
	}
	n += strftime(out + n, cap - n, "\",\"time\":\"%Y-%m-%dT%H:%M:%SZ\"}",
		      &tm);
	return n;
}

const char *log_last_error(void)
{
	return last_error;
}

void log_clear_error(void)
{
	last_error[0] = 0;
}

void log_set_level(enum log_level level)
{
	max_level = level;
}

enum log_level log_get_level(void)
{
	return max_level;
}

static void log_line(enum log_level level, const char *fmt, va_list ap)
{
	char buf[1024];
	int n;

	if (log_json) {
		char msg[1024];

		vsnprintf(msg, sizeof(msg), fmt, ap);
		n = json_line(buf, sizeof(buf) - 1, level, msg);
		buf[n++] = '\n';
		if (write(log_fd, buf, n) < 0) {
			/* Nowhere left to report this. */
		}
		return;
	}

	memcpy(buf, "kiln: ", 6);
	n = vsnprintf(buf + 6, sizeof(buf) - 8, fmt, ap);
	if (n < 0)
		return;
	n += 6;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	/*
	 * The terminal may be in raw mode with output post-processing kept on
	 * (see term.c), so a bare '\n' is enough.
	 */
	buf[n++] = '\n';
	if (write(log_fd, buf, n) < 0) {
		/* Nowhere left to report this. */
	}
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level == LOG_ERR) {
		va_start(ap, fmt);
		vsnprintf(last_error, sizeof(last_error), fmt, ap);
		va_end(ap);
	}
	if (level > max_level)
		return;
	va_start(ap, fmt);
	log_line(level, fmt, ap);
	va_end(ap);
}

#define GUEST_BURST 20
#define GUEST_PER_SEC 5

static pthread_mutex_t guest_lock = PTHREAD_MUTEX_INITIALIZER;
static double guest_tokens = GUEST_BURST;
static double guest_last; /* seconds, CLOCK_MONOTONIC */
static unsigned long guest_dropped, guest_dropped_total;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(LOG_WARN, fmt, ap);
	va_end(ap);
}

void log_guest(const char *fmt, ...)
{
	unsigned long dropped = 0;
	struct timespec ts;
	bool out = false;
	va_list ap;
	double now;

	if (LOG_WARN > max_level)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec + ts.tv_nsec / 1e9;
	pthread_mutex_lock(&guest_lock);
	if (guest_last)
		guest_tokens += (now - guest_last) * GUEST_PER_SEC;
	guest_last = now;
	if (guest_tokens > GUEST_BURST)
		guest_tokens = GUEST_BURST;
	if (guest_tokens >= 1) {
		guest_tokens -= 1;
		out = true;
		dropped = guest_dropped;
		guest_dropped = 0;
	} else {
		guest_dropped++;
		guest_dropped_total++;
	}
	pthread_mutex_unlock(&guest_lock);
	if (!out)
		return;
	if (dropped)
		say("(%lu more warnings about the guest were dropped)",
		    dropped);
	va_start(ap, fmt);
	log_line(LOG_WARN, fmt, ap);
	va_end(ap);
}

unsigned long log_guest_reset(void)
{
	unsigned long n;

	pthread_mutex_lock(&guest_lock);
	n = guest_dropped_total;
	guest_tokens = GUEST_BURST;
	guest_last = 0;
	guest_dropped = guest_dropped_total = 0;
	pthread_mutex_unlock(&guest_lock);
	return n;
}
