/* SPDX-License-Identifier: MIT */
#ifndef KILN_UNIT_H
#define KILN_UNIT_H

#include <CUnit/CUnit.h>

/* Each suite file defines one of these; main.c registers them all. */
void suite_config(void);
/* The arch's own suites (tests/unit/$(ARCH)/suites.c). */
void suite_arch(void);
void suite_bus(void);
void suite_x86_boot(void);
void suite_mptable(void);
void suite_cpuid(void);
void suite_exit(void);
void suite_uart(void);
void suite_i8042(void);
void suite_cmos(void);
void suite_pl031(void);
void suite_term(void);
void suite_memory(void);
void suite_virtio(void);
void suite_net(void);
void suite_run(void);
void suite_p9(void);
void suite_acpi(void);
void suite_vmlinux(void);
void suite_seccomp(void);
void suite_log(void);
void suite_boot_timer(void);
void suite_json(void);
void suite_http(void);
void suite_lifecycle(void);
void suite_api(void);
void suite_unpack(void);
void suite_metrics(void);
void suite_ratelimit(void);
void suite_vsock(void);
void suite_balloon(void);
void suite_oci(void);
void suite_trim(void);
void suite_snapfile(void);

/* Adds a suite with the given tests; aborts the run if CUnit fails. */
void unit_add_suite(const char *name, const CU_TestInfo *tests);

#endif
