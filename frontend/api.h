/* SPDX-License-Identifier: MIT */
#ifndef KILN_API_H
#define KILN_API_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "session.h"

/*
 * Firecracker's REST API: HTTP/1.1 over a UNIX socket, served by the main
 * thread's event loop (frontend/session.h). Before InstanceStart the
 * requests build a configuration; InstanceStart creates and starts the VM
 * from it; afterwards PATCH /vm pauses and resumes it. A bad request is
 * answered (400 with {"fault_message": ...}) and never ends kiln.
 */

struct api;

/*
 * An API for session s over cfg (config_init'ed, possibly filled from a
 * --config-file; it must outlive the API and the VM). id is the
 * instance id (--id). Returns NULL when out of memory.
 */
struct api *api_new(struct session *s, struct vm_config *cfg, const char *id);
/*
 * Serves path: mode 0600; a live socket there is refused, a stale one
 * replaced. Returns 0 or -errno with err saying why.
 */
int api_listen(struct api *a, const char *path, char *err, size_t errlen);
/* Creates and starts the VM from the configuration (InstanceStart). */
int api_start_vm(struct api *a, char *err, size_t errlen);
/* Closes every connection and the socket, and removes it. */
void api_close(struct api *a);
/* api_close, then frees a (not the configuration: the caller's, after
 * the VM is gone). NULL is fine. */
void api_free(struct api *a);

/*
 * Answers one request: method and path as received, body of len bytes.
 * Returns the HTTP status; *resp is the JSON body (malloc'ed) or NULL for
 * none. The whole API but the socket: unit tests and the fuzzer use it.
 */
int api_handle(struct api *a, const char *method, const char *path,
	       const char *body, size_t len, char **resp);

/* For the fuzzer: InstanceStart is refused instead of creating a VM. */
void api_forbid_start(struct api *a);

/*
 * kiln started with Firecracker's flags (--api-sock, --config-file,
 * --no-api, --id, --boot-timer, --log-path, --level, --no-seccomp...):
 * returns kiln's exit status.
 */
int api_main(int argc, char **argv);
/* Whether argv[1] is one of Firecracker's flags. */
bool api_is_fc_flag(const char *arg);

#endif
