// SPDX-License-Identifier: MIT
/*
 * The platform devices a guest reaches by port I/O (x86: 8250 UART, i8042,
 * CMOS, the ACPI sleep register) or MMIO (aarch64: the same UART, the
 * PL031 RTC; both: the boot timer), dispatched through a bus as the exit
 * handler does. The input is a sequence of 4-byte accesses: (device and
 * direction, size, offset, value); the offset may fall outside a device's
 * window, where the bus must refuse it. A few go to the UART's receive
 * side instead, as host console input.
 */
#include <stdint.h>
#include <string.h>

#include "acpi.h"
#include "boottimer.h"
#include "bus.h"
#include "cmos.h"
#include "i8042.h"
#include "pl031.h"
#include "uart8250.h"

static void irq(void *opaque, int level)
{
	(void)opaque;
	(void)level;
}

static void kirq(void *opaque, unsigned int n, int level)
{
	(void)opaque;
	(void)n;
	(void)level;
}

static void reset(void *opaque)
{
	(void)opaque;
}

static time_t fixed_now(void)
{
	return 1700000000;
}

static void acpi_sleep(void *opaque, uint64_t offset, uint8_t *data,
		       uint32_t len, bool is_write)
{
	(void)opaque;
	if (!is_write)
		memset(data, 0, len);
	else if (offset == 0)
		(void)acpi_sleep_write(data[0]);
}

/* Each device at base i * 0x10000, its window as the arches register it. */
enum { DEV_UART, DEV_KBD, DEV_CMOS, DEV_ACPI, DEV_RTC, DEV_TIMER, NR_DEV };
#define SPACING 0x10000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uart8250 *u = uart8250_new(-1, irq, NULL);
	struct i8042 *k = i8042_new(reset, kirq, NULL);
	struct pl031 rtc;
	struct cmos c;
	struct bus bus;
	size_t i;

	cmos_init(&c);
	pl031_init(&rtc);
	rtc.now = fixed_now;
	bus_init(&bus, "fuzz");
	bus_register(&bus, DEV_UART * SPACING, 8, uart8250_access, u);
	bus_register(&bus, DEV_KBD * SPACING, I8042_PORT_SPAN, i8042_access, k);
	bus_register(&bus, DEV_CMOS * SPACING, 2, cmos_access, &c);
	bus_register(&bus, DEV_ACPI * SPACING, 2, acpi_sleep, NULL);
	bus_register(&bus, DEV_RTC * SPACING, PL031_SIZE, pl031_access, &rtc);
	bus_register(&bus, DEV_TIMER * SPACING, 1, boot_timer_access, NULL);
	for (i = 0; i + 4 <= size; i += 4) {
		uint8_t buf[8], dev = data[i] & 7;
		bool w = data[i] & 0x80;
		uint32_t len = 1u << (data[i + 1] & 3);
		/* Offsets around the window: inside, at its edge, past it. */
		uint64_t off = (uint64_t)data[i + 2]
			       << ((data[i + 1] >> 2) & 7);

		memset(buf, data[i + 3], sizeof(buf));
		if (dev >= NR_DEV) {
			uart8250_receive(u, data + i + 1, 3);
			continue;
		}
		bus_dispatch(&bus, dev * SPACING + off, buf, len, w);
	}
	bus_destroy(&bus);
	uart8250_free(u);
	i8042_free(k);
	return 0;
}
