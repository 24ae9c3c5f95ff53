/* SPDX-License-Identifier: MIT */
#ifndef KILN_BOOTTIMER_H
#define KILN_BOOTTIMER_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The boot timer (--boot-timer): a guest write of BOOT_TIMER_MAGIC to the
 * device (one byte at an MMIO address the arch picks, outside RAM, so
 * /dev/mem or busybox's devmem reach it: 0xcffff000 on x86, 0x09010000 on
 * aarch64) makes kiln log
 * the time since its main() started and the CPU time it has used, with
 * the same two figures taken just before the first KVM_RUN:
 *
 *   kiln: boot-timer: guest 123 at 45678 us (kiln CPU 9012 us); first
 *   KVM_RUN at 3456 us (CPU 2345 us)
 *
 * The guest init of `kiln run -- CMD` writes it just before it runs CMD.
 */

#define BOOT_TIMER_MAGIC 123

struct boot_timer_times {
	uint64_t wall_us; /* since boot_timer_start() */
	uint64_t cpu_us; /* the process's CPU time (all threads) */
};

/* Marks time zero; main() calls it first. */
void boot_timer_start(void);

/* Now, relative to time zero. */
struct boot_timer_times boot_timer_now(void);

/* Recorded once, by the first vCPU to get there. */
void boot_timer_first_run(void);

/* The device's register: a write of the magic logs the line. */
void boot_timer_access(void *opaque, uint64_t offset, uint8_t *data,
		       uint32_t len, bool is_write);

/* Formats the line for a write seen at t (for tests); returns its length. */
int boot_timer_format(char *buf, unsigned long len, struct boot_timer_times t,
		      struct boot_timer_times first_run);

#endif
