// SPDX-License-Identifier: MIT
#include <string.h>

#include "log.h"
#include "pl031.h"

#define RTC_DR 0x00 /* data: the counter (read only) */
#define RTC_MR 0x04 /* match */
#define RTC_LR 0x08 /* load: sets the counter */
#define RTC_CR 0x0c /* control: bit 0, the counter runs (always) */
#define RTC_IMSC 0x10 /* interrupt mask */
#define RTC_RIS 0x14 /* raw interrupt status */
#define RTC_MIS 0x18 /* masked interrupt status */
#define RTC_ICR 0x1c /* interrupt clear */
#define RTC_ID 0xfe0 /* peripheral and PrimeCell IDs, one byte a word */

/* PL031 revision 1, then the PrimeCell ID that the AMBA bus probes. */
static const uint8_t pl031_ids[8] = { 0x31, 0x10, 0x14, 0x00,
				      0x0d, 0xf0, 0x05, 0xb1 };

static time_t host_now(void)
{
	return time(NULL);
}

void pl031_init(struct pl031 *rtc)
{
	memset(rtc, 0, sizeof(*rtc));
	rtc->now = host_now;
}

static uint32_t counter(const struct pl031 *rtc)
{
	return (uint32_t)((int64_t)rtc->now() + rtc->offset);
}

static uint32_t pl031_read(struct pl031 *rtc, uint64_t off)
{
	switch (off) {
	case RTC_DR:
	case RTC_LR: /* reads back as the counter it set */
		return counter(rtc);
	case RTC_MR:
		return rtc->match;
	case RTC_CR:
		return 1;
	case RTC_IMSC:
		return rtc->imsc;
	case RTC_RIS:
	case RTC_MIS:
		return 0;
	}
	if (off >= RTC_ID && off < RTC_ID + 4 * sizeof(pl031_ids))
		return pl031_ids[(off - RTC_ID) / 4];
	return 0;
}

static void pl031_write(struct pl031 *rtc, uint64_t off, uint32_t v)
{
	switch (off) {
	case RTC_MR:
		rtc->match = v;
		break;
	case RTC_LR:
		rtc->offset = (int64_t)v - (int64_t)rtc->now();
		break;
	case RTC_IMSC:
		rtc->imsc = v & 1;
		break;
	case RTC_CR: /* the counter cannot be stopped */
	case RTC_ICR: /* nothing is ever pending */
		break;
	default:
		pr_guest(
			"pl031: write to read-only or unknown register 0x%llx ignored",
			(unsigned long long)off);
	}
}

void pl031_access(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
		  bool is_write)
{
	struct pl031 *rtc = opaque;
	uint32_t v;

	if (len != 4 || offset % 4 || offset >= PL031_SIZE) {
		pr_guest("pl031: %u-byte %s at 0x%llx refused", len,
			 is_write ? "write" : "read",
			 (unsigned long long)offset);
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	if (is_write) {
		memcpy(&v, data, 4);
		pl031_write(rtc, offset, v);
	} else {
		v = pl031_read(rtc, offset);
		memcpy(data, &v, 4);
	}
}
