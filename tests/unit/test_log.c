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
