/* SPDX-License-Identifier: MIT */
#ifndef KILN_METRICS_FILE_H
#define KILN_METRICS_FILE_H

/*
 * The metrics file (Firecracker's PUT /metrics, kiln run --metrics): one
 * JSON object a line, each the counts since the one before, written on
 * FlushMetrics, every METRICS_PERIOD_MS while the VM runs, and when kiln
 * ends. Groups as Firecracker names them where kiln counts the same
 * thing: "utc_timestamp_ms", "api_server", "vcpu", "block_<drive id>",
 * "net_<iface id>", "signals", "seccomp"; and kiln's own "kiln"
 * (uptime_ms, flushes).
 */
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

#define METRICS_PERIOD_MS 60000

struct session;

struct session_metrics {
	int fd; /* -1: none */
	int64_t start_ms, next_ms; /* CLOCK_MONOTONIC */
	uint64_t flushes;
	struct metric sigterm, sigint, sighup, sigquit;
	struct metric api_requests, api_errors;
};

void metrics_init(struct session_metrics *m);

/*
 * Opens path for the metrics (appended to; a FIFO is written without
 * blocking). 0, or -errno with err saying what to do.
 */
int metrics_open(struct session_metrics *m, const char *path, char *err,
		 size_t errlen);

/*
 * The next line, as it would be written (malloc'ed, with its newline),
 * taking the counts; NULL when out of memory.
 */
char *metrics_line(struct session *s);

/* Writes the next line: 0, -ENOENT with no metrics file, or -errno. */
int metrics_flush(struct session *s);

void metrics_close(struct session_metrics *m);

#endif
