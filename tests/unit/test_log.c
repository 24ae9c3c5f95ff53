// SPDX-License-Identifier: MIT
/* The rate limiter on warnings a guest can cause. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "unit.h"

/* Runs fn with stderr in a temporary file; returns what it wrote. */
static char *capture(void (*fn)(void))
{
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);
	char *buf = calloc(1, 65536);
	enum log_level level = log_get_level();

	log_set_level(LOG_WARN);
	dup2(fileno(f), STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	log_set_level(level);
	rewind(f);
	if (fread(buf, 1, 65535, f) == 0)
		buf[0] = 0;
	fclose(f);
	return buf;
}

static unsigned int count(const char *s, const char *what)
{
	unsigned int n = 0;

	for (; (s = strstr(s, what)); s++)
		n++;
	return n;
}

static void flood(void)
{
	int i;

	log_guest_reset();
	for (i = 0; i < 1000; i++)
		pr_guest("bad descriptor %d", i);
}

static void flood_then_wait(void)
{
	flood();
	/* Half a second refills at least one line's worth. */
	usleep(500000);
	pr_guest("after the pause");
}

static void test_burst_then_drop(void)
{
	char *out = capture(flood);

	/* The burst goes out whole, the rest is dropped and counted. */
	CU_ASSERT_EQUAL(count(out, "kiln: bad descriptor "), 20);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "kiln: bad descriptor 19\n"));
	CU_ASSERT_PTR_NULL(strstr(out, "bad descriptor 20\n"));
	CU_ASSERT_EQUAL(log_guest_reset(), 980);
	free(out);
}

static void test_dropped_count_reported(void)
{
	char *out = capture(flood_then_wait);

	CU_ASSERT_PTR_NOT_NULL(
		strstr(out, "(980 more warnings about the guest were dropped)\n"
			    "kiln: after the pause\n"));
	log_guest_reset();
	free(out);
}

void suite_log(void)
{
	static const CU_TestInfo tests[] = {
		{ "guest warnings: a burst, then dropped",
		  test_burst_then_drop },
		{ "guest warnings: the dropped count is reported",
		  test_dropped_count_reported },
		CU_TEST_INFO_NULL,
	};

	unit_add_suite("log", tests);
}

/* ---- the boot timer ---- */

#include "boottimer.h"

static void boot_timer_write(uint8_t v)
{
	boot_timer_access(NULL, 0, &v, 1, true);
}

static void boot_timer_writes(void)
{
	boot_timer_write(122); /* not the magic: nothing */
	boot_timer_write(BOOT_TIMER_MAGIC);
}

static void test_boot_timer(void)
{
	struct boot_timer_times a, b;
	char line[200], *out;
	uint8_t v = 0xff;

	boot_timer_start();
	boot_timer_first_run();
	a = boot_timer_now();
	b = boot_timer_now();
	CU_ASSERT(b.wall_us >= a.wall_us);
	CU_ASSERT(b.cpu_us >= a.cpu_us);
	boot_timer_format(line, sizeof(line),
			  (struct boot_timer_times){ 45678, 9012 },
			  (struct boot_timer_times){ 3456, 2345 });
	CU_ASSERT_STRING_EQUAL(
		line,
		"boot-timer: guest 123 at 45678 us (kiln CPU 9012 us); first KVM_RUN at 3456 us (CPU 2345 us)");
	/* Reads see zero; only the magic byte logs, once. */
	boot_timer_access(NULL, 0, &v, 1, false);
	CU_ASSERT_EQUAL(v, 0);
	out = capture(boot_timer_writes);
	CU_ASSERT_EQUAL(count(out, "kiln: boot-timer: guest 123 at "), 1);
	free(out);
}

void suite_boot_timer(void)
{
	static const CU_TestInfo tests[] = {
		{ "boot timer: clocks, the line, the magic byte only",
		  test_boot_timer },
		CU_TEST_INFO_NULL,
	};

	unit_add_suite("boot timer", tests);
}
