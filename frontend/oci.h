/* SPDX-License-Identifier: MIT */
#ifndef KILN_OCI_H
#define KILN_OCI_H

#include <stdbool.h>

/*
 * kiln as an OCI runtime, called as podman (conmon) and containerd's runc
 * shim call runc: global flags (--root, --log, --log-format, ...), then
 * create, start, state, kill, delete, ps, list, features, pause, resume.
 *
 * `create` reads the bundle (frontend/bundle.h), creates the VM in a
 * process of its own (a descendant of the caller, its pid in --pid-file;
 * its exit status is the container's) and returns; that process waits,
 * the VM made but not started, on a control socket in the container's
 * state directory (<root>/<id>/ctl), which `start`, `kill`, `state`,
 * `pause` and `resume` speak to. <root>/<id>/state.json keeps what the
 * other commands need once it is gone; `delete` removes the directory.
 */

/* Whether argv[1] makes this an OCI runtime command line. */
bool oci_is_command(const char *arg);

/* The runtime's command line (argv[0] is kiln): returns the exit status. */
int oci_main(int argc, char **argv);

/* `kiln spec`'s config.json (a bundle kiln takes as it is). */
extern const char oci_default_spec[];

/* For tests: a container id the state directory can hold. */
bool oci_id_ok(const char *id);

/* For tests: "TERM", "SIGTERM", "15" -> 15; -1 when unknown. */
int oci_parse_signal(const char *s);

#endif
