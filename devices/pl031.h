/* SPDX-License-Identifier: MIT */
#ifndef KILN_PL031_H
#define KILN_PL031_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/*
 * The Arm PrimeCell PL031 real-time clock (a 4 KiB MMIO window), so an
 * aarch64 guest reads the host's time at boot (Linux's rtc-pl031). The
 * counter is the host's clock plus what the guest loaded; the match
 * register is kept but never raises its interrupt (no alarm).
 */

struct pl031 {
	int64_t offset; /* guest seconds - host seconds */
	uint32_t match, imsc;
	/* The clock source; tests substitute a fixed time. */
	time_t (*now)(void);
};

#define PL031_SIZE 0x1000

void pl031_init(struct pl031 *rtc);
/* Bus handler for the window (32-bit registers; other sizes are refused). */
void pl031_access(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
		  bool is_write);

#endif
