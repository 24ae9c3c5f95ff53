// SPDX-License-Identifier: MIT
#include <string.h>
#include <time.h>

#include "cmos.h"

#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS 0x04
#define RTC_DAY_OF_WEEK 0x06
#define RTC_DAY_OF_MONTH 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32

static time_t host_now(void)
{
	return time(NULL);
}

void cmos_init(struct cmos *c)
{
	memset(c, 0, sizeof(*c));
	c->now = host_now;
	/*
	 * glibc loads the time zone on the first conversion, gmtime_r()
	 * included: do it now, not on a vCPU thread whose seccomp filter has
	 * no open().
	 */
	tzset();
	c->ram[RTC_REG_A] = 0x26; /* 32.768 kHz base, 1024 Hz rate, no UIP */
	c->ram[RTC_REG_B] = 0x02; /* 24-hour mode, BCD, no interrupts */
	c->ram[RTC_REG_D] = 0x80; /* battery good */
}

#define RTC_B_BINARY 0x04

static uint8_t bcd(const struct cmos *c, unsigned int v)
{
	if (c->ram[RTC_REG_B] & RTC_B_BINARY)
		return v;
	return ((v / 10) << 4) | (v % 10);
}

static uint8_t cmos_read(struct cmos *c, uint8_t reg)
{
	time_t t;
	struct tm tm;

	if (reg > RTC_YEAR && reg != RTC_CENTURY)
		return reg == RTC_REG_C ? 0 : c->ram[reg];
	t = c->now();
	gmtime_r(&t, &tm);
	switch (reg) {
	case RTC_SECONDS:
		return bcd(c, tm.tm_sec);
	case RTC_MINUTES:
		return bcd(c, tm.tm_min);
	case RTC_HOURS:
		return bcd(c, tm.tm_hour);
	case RTC_DAY_OF_WEEK:
		return bcd(c, tm.tm_wday + 1);
	case RTC_DAY_OF_MONTH:
		return bcd(c, tm.tm_mday);
	case RTC_MONTH:
		return bcd(c, tm.tm_mon + 1);
	case RTC_YEAR:
		return bcd(c, tm.tm_year % 100);
	case RTC_CENTURY:
		return bcd(c, (tm.tm_year + 1900) / 100);
	default:
		/* Alarm registers. */
		return c->ram[reg];
	}
}

void cmos_access(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
		 bool is_write)
{
	struct cmos *c = opaque;

	if (len != 1) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (offset == 0) {
		/* Bit 7 of the index port is the NMI mask: not modelled. */
		if (is_write)
			c->index = data[0] & 0x7f;
		else
			data[0] = 0xff;
		return;
	}
	if (is_write) {
		/* Time registers, C, D and the century are read-only here. */
		if (c->index > RTC_YEAR && c->index != RTC_REG_C &&
		    c->index != RTC_REG_D && c->index != RTC_CENTURY)
			c->ram[c->index] = data[0];
	} else {
		data[0] = cmos_read(c, c->index);
	}
}
