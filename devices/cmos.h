/* SPDX-License-Identifier: MIT */
#ifndef KILN_CMOS_H
#define KILN_CMOS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/*
 * The PC's CMOS RAM and MC146818 real-time clock at ports 0x70/0x71, so the
 * guest reads the host's time (UTC) at boot. Time registers are computed
 * from the host clock on each read; the rest is 128 bytes of plain RAM.
 */

struct cmos {
	uint8_t index;
	uint8_t ram[128];
	/* The clock source; tests substitute a fixed time. */
	time_t (*now)(void);
};

void cmos_init(struct cmos *c);
/* Bus handler for ports 0x70..0x71. */
void cmos_access(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
		 bool is_write);

#define CMOS_PORT 0x70

#endif
