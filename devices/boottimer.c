// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <time.h>

#include "boottimer.h"
#include "log.h"

/* Written by main() before any thread starts; read-only afterwards. */
static struct timespec t0;
/* Written once by the first vCPU (guarded by first_run_done). */
static struct boot_timer_times first;
static int first_run_done;

static uint64_t us(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000 + ts->tv_nsec / 1000;
}

void boot_timer_start(void)
{
	clock_gettime(CLOCK_MONOTONIC, &t0);
}

struct boot_timer_times boot_timer_now(void)
{
	struct timespec now, cpu;

	clock_gettime(CLOCK_MONOTONIC, &now);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
	return (struct boot_timer_times){ us(&now) - us(&t0), us(&cpu) };
}

void boot_timer_first_run(void)
{
	struct boot_timer_times t;

	if (__atomic_load_n(&first_run_done, __ATOMIC_ACQUIRE))
		return;
	t = boot_timer_now();
	if (!__atomic_exchange_n(&first_run_done, 1, __ATOMIC_ACQ_REL))
		first = t;
}

int boot_timer_format(char *buf, unsigned long len, struct boot_timer_times t,
		      struct boot_timer_times first_run)
{
	return snprintf(
		buf, len,
		"boot-timer: guest %u at %llu us (kiln CPU %llu us); first KVM_RUN at %llu us (CPU %llu us)",
		BOOT_TIMER_MAGIC, (unsigned long long)t.wall_us,
		(unsigned long long)t.cpu_us,
		(unsigned long long)first_run.wall_us,
		(unsigned long long)first_run.cpu_us);
}

void boot_timer_access(void *opaque, uint64_t offset, uint8_t *data,
		       uint32_t len, bool is_write)
{
	struct boot_timer_times t = boot_timer_now();
	char line[200];

	(void)opaque;
	if (!is_write) {
		for (uint32_t i = 0; i < len; i++)
			data[i] = 0;
		return;
	}
	if (offset != 0 || len != 1 || data[0] != BOOT_TIMER_MAGIC)
		return;
	boot_timer_format(line, sizeof(line), t, first);
	log_msg(LOG_ERR, "%s", line);
}
