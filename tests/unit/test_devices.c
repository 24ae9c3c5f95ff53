// SPDX-License-Identifier: MIT
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <linux/serial_reg.h>

#include "cmos.h"
#include "pl031.h"
#include "i8042.h"
#include "term.h"
#include "uart8250.h"
#include "unit.h"

/* --- 8250 UART --- */

struct irq_rec {
	int level;
	int changes;
};

static void uart_irq(void *opaque, int level)
{
	struct irq_rec *r = opaque;

	r->level = level;
	r->changes++;
}

static uint8_t rd(struct uart8250 *u, unsigned int reg)
{
	uint8_t v;

	uart8250_access(u, reg, &v, 1, false);
	return v;
}

static void wr(struct uart8250 *u, unsigned int reg, uint8_t v)
{
	uart8250_access(u, reg, &v, 1, true);
}

static void test_uart_probe(void)
{
	struct irq_rec irq = { 0 };
	struct uart8250 *u = uart8250_new(-1, uart_irq, &irq);

	/* What Linux's autoconfig does: IER, scratch, loopback, FIFO. */
	wr(u, UART_IER, 0);
	CU_ASSERT_EQUAL(rd(u, UART_IER) & 0x0f, 0);
	wr(u, UART_IER, 0x0f);
	CU_ASSERT_EQUAL(rd(u, UART_IER) & 0x0f, 0x0f);
	wr(u, UART_IER, 0);
	wr(u, UART_SCR, 0xa5);
	CU_ASSERT_EQUAL(rd(u, UART_SCR), 0xa5);
	wr(u, UART_MCR, UART_MCR_LOOP | 0x0a);
	CU_ASSERT_EQUAL(rd(u, UART_MSR) & 0xf0, UART_MSR_DCD | UART_MSR_CTS);
	wr(u, UART_MCR, 0);
	wr(u, UART_FCR, UART_FCR_ENABLE_FIFO);
	CU_ASSERT_EQUAL(rd(u, UART_IIR) & 0xc0, 0xc0); /* a 16550A */
	/* Divisor latch. */
	wr(u, UART_LCR, UART_LCR_DLAB);
	wr(u, UART_DLL, 1);
	wr(u, UART_DLM, 0);
	CU_ASSERT_EQUAL(rd(u, UART_DLL), 1);
	wr(u, UART_LCR, UART_LCR_WLEN8);
	CU_ASSERT_EQUAL(rd(u, UART_LCR), UART_LCR_WLEN8);
	/* Wider accesses are ignored; reads float high. */
	{
		uint8_t w[4] = { 0 };

		uart8250_access(u, 0, w, 4, false);
		CU_ASSERT_EQUAL(w[0], 0xff);
	}
	/* IER=0x0f with THR empty raised the line; IER=0 lowered it. */
	CU_ASSERT_EQUAL(irq.changes, 2);
	CU_ASSERT_EQUAL(irq.level, 0);
	uart8250_free(u);
}

static void test_uart_tx(void)
{
	struct irq_rec irq = { 0 };
	struct uart8250 *u;
	char buf[16] = { 0 };
	int p[2];

	CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
	u = uart8250_new(p[1], uart_irq, &irq);
	wr(u, UART_TX, 'h');
	wr(u, UART_TX, 'i');
	CU_ASSERT_EQUAL(read(p[0], buf, sizeof(buf)), 2);
	CU_ASSERT_STRING_EQUAL(buf, "hi");
	CU_ASSERT_TRUE(rd(u, UART_LSR) & UART_LSR_THRE);
	CU_ASSERT_TRUE(rd(u, UART_LSR) & UART_LSR_TEMT);
	/* Enabling THRI with THR empty raises the line ... */
	wr(u, UART_IER, UART_IER_THRI);
	CU_ASSERT_EQUAL(irq.level, 1);
	CU_ASSERT_EQUAL(rd(u, UART_IIR) & 0x0f, UART_IIR_THRI);
	/* ... and reading IIR acknowledges it. */
	CU_ASSERT_EQUAL(irq.level, 0);
	CU_ASSERT_EQUAL(rd(u, UART_IIR) & 0x0f, UART_IIR_NO_INT);
	/* The next byte sent owes another. */
	wr(u, UART_TX, '!');
	CU_ASSERT_EQUAL(irq.level, 1);
	wr(u, UART_IER, 0);
	CU_ASSERT_EQUAL(irq.level, 0);
	uart8250_free(u);
	close(p[0]);
	close(p[1]);
}

static void test_uart_rx(void)
{
	struct irq_rec irq = { 0 };
	struct uart8250 *u = uart8250_new(-1, uart_irq, &irq);
	uint8_t big[5000];
	uint64_t v;

	wr(u, UART_IER, UART_IER_RDI);
	CU_ASSERT_EQUAL(irq.level, 0);
	CU_ASSERT_EQUAL(uart8250_receive(u, (const uint8_t *)"ok", 2), 2);
	CU_ASSERT_EQUAL(irq.level, 1);
	CU_ASSERT_TRUE(rd(u, UART_LSR) & UART_LSR_DR);
	CU_ASSERT_EQUAL(rd(u, UART_IIR) & 0x0f, UART_IIR_RDI);
	CU_ASSERT_EQUAL(rd(u, UART_RX), 'o');
	CU_ASSERT_EQUAL(irq.level, 1);
	CU_ASSERT_EQUAL(rd(u, UART_RX), 'k');
	CU_ASSERT_EQUAL(irq.level, 0);
	CU_ASSERT_FALSE(rd(u, UART_LSR) & UART_LSR_DR);
	CU_ASSERT_EQUAL(rd(u, UART_RX), 0); /* empty FIFO reads 0 */

	/* Back-pressure: a short receive, then the space fd fires. */
	memset(big, 'x', sizeof(big));
	CU_ASSERT_EQUAL(uart8250_receive(u, big, sizeof(big)), 4096);
	CU_ASSERT_EQUAL(read(uart8250_space_fd(u), &v, sizeof(v)), -1);
	while (rd(u, UART_LSR) & UART_LSR_DR)
		rd(u, UART_RX);
	CU_ASSERT_EQUAL(read(uart8250_space_fd(u), &v, sizeof(v)), sizeof(v));

	/* FIFO reset drops pending input. */
	uart8250_receive(u, (const uint8_t *)"zz", 2);
	wr(u, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
	CU_ASSERT_FALSE(rd(u, UART_LSR) & UART_LSR_DR);
	CU_ASSERT_EQUAL(irq.level, 0);
	uart8250_free(u);
}

static void test_uart_loopback(void)
{
	struct irq_rec irq = { 0 };
	struct uart8250 *u = uart8250_new(-1, uart_irq, &irq);

	wr(u, UART_MCR, UART_MCR_LOOP);
	wr(u, UART_TX, 0x5a);
	CU_ASSERT_TRUE(rd(u, UART_LSR) & UART_LSR_DR);
	CU_ASSERT_EQUAL(rd(u, UART_RX), 0x5a);
	uart8250_free(u);
}

/* --- i8042 --- */

struct kbd_rec {
	int resets;
	int irq1;
	int edges; /* rising edges of IRQ 1 */
};

static void kbd_reset(void *opaque)
{
	((struct kbd_rec *)opaque)->resets++;
}

static void kbd_irq(void *opaque, unsigned int irq, int level)
{
	struct kbd_rec *r = opaque;

	if (irq != 1)
		return;
	r->edges += level && !r->irq1;
	r->irq1 = level;
}

static uint8_t krd(struct i8042 *k, unsigned int off)
{
	uint8_t v;

	i8042_access(k, off, &v, 1, false);
	return v;
}

static void kwr(struct i8042 *k, unsigned int off, uint8_t v)
{
	i8042_access(k, off, &v, 1, true);
}

static void test_i8042_probe(void)
{
	struct kbd_rec r = { 0 };
	struct i8042 *k = i8042_new(kbd_reset, kbd_irq, &r);
	uint8_t ctr;

	CU_ASSERT_NOT_EQUAL(krd(k, 4), 0xff); /* a controller is present */
	CU_ASSERT_FALSE(krd(k, 4) & 1); /* nothing to read */
	kwr(k, 4, 0xaa); /* self-test */
	CU_ASSERT_TRUE(krd(k, 4) & 1);
	CU_ASSERT_EQUAL(krd(k, 0), 0x55);
	CU_ASSERT_FALSE(krd(k, 4) & 1);
	kwr(k, 4, 0x20); /* read CTR */
	ctr = krd(k, 0);
	kwr(k, 4, 0x60); /* write CTR */
	kwr(k, 0, ctr & ~1);
	kwr(k, 4, 0x20);
	CU_ASSERT_EQUAL(krd(k, 0), ctr & ~1);
	/* A keyboard command is acknowledged. */
	kwr(k, 4, 0x60);
	kwr(k, 0, ctr | 1);
	kwr(k, 0, 0xf5);
	CU_ASSERT_EQUAL(r.irq1, 1);
	CU_ASSERT_EQUAL(krd(k, 0), 0xfa);
	CU_ASSERT_EQUAL(r.irq1, 0);
	CU_ASSERT_EQUAL(r.resets, 0);
	i8042_free(k);
}

/* Keys typed from outside: one edge per byte; no mouse, fast. */
static void test_i8042_keys(void)
{
	static const uint8_t cad[] = { 0x1d, 0x38, 0xe0, 0x53,
				       0xe0, 0xd3, 0xb8, 0x9d };
	struct kbd_rec r = { 0 };
	struct i8042 *k = i8042_new(kbd_reset, kbd_irq, &r);
	uint8_t big[17] = { 0 };
	unsigned int i;

	/* Not inhibited (Linux warns "Keylock active" otherwise). */
	CU_ASSERT_TRUE(krd(k, 4) & 0x10);
	/* The mouse port's loop test fails at once: no mouse data bit. */
	kwr(k, 4, 0xd3);
	kwr(k, 0, 0x5a);
	CU_ASSERT_EQUAL(krd(k, 4) & 0x21, 0x01);
	CU_ASSERT_EQUAL(krd(k, 0), 0x5a);
	kwr(k, 4, 0xa9); /* mouse port test: a stuck clock */
	CU_ASSERT_EQUAL(krd(k, 0), 0x01);
	r.edges = 0;
	CU_ASSERT_EQUAL(i8042_keys(k, cad, sizeof(cad)), 0);
	for (i = 0; i < sizeof(cad); i++) {
		CU_ASSERT_EQUAL(r.irq1, 1);
		CU_ASSERT_EQUAL(krd(k, 0), cad[i]);
	}
	CU_ASSERT_EQUAL(r.edges, (int)sizeof(cad));
	CU_ASSERT_EQUAL(r.irq1, 0);
	CU_ASSERT_FALSE(krd(k, 4) & 1);
	/* More than the buffer holds: refused whole. */
	CU_ASSERT_EQUAL(i8042_keys(k, big, sizeof(big)), -1);
	CU_ASSERT_FALSE(krd(k, 4) & 1);
	/* Interrupts off in the CTR: queued, no edge. */
	kwr(k, 4, 0x60);
	kwr(k, 0, 0x44);
	r.edges = 0;
	CU_ASSERT_EQUAL(i8042_keys(k, cad, 2), 0);
	CU_ASSERT_EQUAL(r.edges, 0);
	CU_ASSERT_TRUE(krd(k, 4) & 1);
	i8042_free(k);
}

static void test_i8042_reset(void)
{
	struct kbd_rec r = { 0 };
	struct i8042 *k = i8042_new(kbd_reset, kbd_irq, &r);

	kwr(k, 4, 0xfe);
	CU_ASSERT_EQUAL(r.resets, 1);
	kwr(k, 4, 0xd1); /* write output port, bit 0 clear: reset */
	kwr(k, 0, 0xfe);
	CU_ASSERT_EQUAL(r.resets, 2);
	kwr(k, 4, 0xd1); /* bit 0 set: no reset */
	kwr(k, 0, 0xdf);
	CU_ASSERT_EQUAL(r.resets, 2);
	kwr(k, 4, 0xff); /* pulse nothing */
	CU_ASSERT_EQUAL(r.resets, 2);
	i8042_free(k);
}

/* --- CMOS clock --- */

static time_t fixed_time(void)
{
	return 1795694096; /* 2026-11-26 11:54:56 UTC, a Thursday */
}

static uint8_t crd(struct cmos *c, uint8_t reg)
{
	uint8_t v;

	cmos_access(c, 0, &reg, 1, true);
	cmos_access(c, 1, &v, 1, false);
	return v;
}

static void test_cmos_time(void)
{
	struct cmos c;
	uint8_t v;

	cmos_init(&c);
	c.now = fixed_time;
	CU_ASSERT_EQUAL(crd(&c, 0x00), 0x56);
	CU_ASSERT_EQUAL(crd(&c, 0x02), 0x54);
	CU_ASSERT_EQUAL(crd(&c, 0x04), 0x11);
	CU_ASSERT_EQUAL(crd(&c, 0x06), 0x05);
	CU_ASSERT_EQUAL(crd(&c, 0x07), 0x26);
	CU_ASSERT_EQUAL(crd(&c, 0x08), 0x11);
	CU_ASSERT_EQUAL(crd(&c, 0x09), 0x26);
	CU_ASSERT_EQUAL(crd(&c, 0x32), 0x20);
	CU_ASSERT_FALSE(crd(&c, 0x0a) & 0x80); /* no update in progress */
	CU_ASSERT_TRUE(crd(&c, 0x0d) & 0x80); /* battery good */
	/* Binary mode. */
	v = 0x0b;
	cmos_access(&c, 0, &v, 1, true);
	v = 0x06;
	cmos_access(&c, 1, &v, 1, true);
	CU_ASSERT_EQUAL(crd(&c, 0x00), 56);
	/* NMI bit in the index is masked off; RAM bytes are kept. */
	v = 0x80 | 0x40;
	cmos_access(&c, 0, &v, 1, true);
	v = 0x77;
	cmos_access(&c, 1, &v, 1, true);
	CU_ASSERT_EQUAL(crd(&c, 0x40), 0x77);
	/* Time registers are read-only. */
	v = 0x00;
	cmos_access(&c, 0, &v, 1, true);
	v = 0x99;
	cmos_access(&c, 1, &v, 1, true);
	CU_ASSERT_EQUAL(crd(&c, 0x00), 56);
}

/* --- console escape --- */

static void test_escape(void)
{
	struct term_escape st = { 0 };
	uint8_t out[16];
	bool quit;
	size_t n;

	n = term_filter_escape(&st, (const uint8_t *)"ls\r", 3, out, &quit);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_FALSE(quit);
	/* Ctrl-A Ctrl-A sends one Ctrl-A. */
	n = term_filter_escape(&st, (const uint8_t *)"a\x01\x01z", 4, out,
			       &quit);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_EQUAL(memcmp(out, "a\x01z", 3), 0);
	/* The sequence split across two reads still quits. */
	n = term_filter_escape(&st, (const uint8_t *)"q\x01", 2, out, &quit);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_FALSE(quit);
	n = term_filter_escape(&st, (const uint8_t *)"xmore", 5, out, &quit);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_TRUE(quit);
	/* Ctrl-A then another key: both swallowed. */
	st.pending = false;
	n = term_filter_escape(&st, (const uint8_t *)"\x01hi", 3, out, &quit);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(out[0], 'i');
	CU_ASSERT_FALSE(quit);
}

void suite_uart(void)
{
	static const CU_TestInfo tests[] = {
		{ "probe like Linux", test_uart_probe },
		{ "transmit and THRE interrupt", test_uart_tx },
		{ "receive, interrupt, back-pressure", test_uart_rx },
		{ "loopback", test_uart_loopback },
		CU_TEST_INFO_NULL,
	};
	unit_add_suite("uart8250", tests);
}

void suite_i8042(void)
{
	static const CU_TestInfo tests[] = {
		{ "probe like Linux", test_i8042_probe },
		{ "CPU reset", test_i8042_reset },
		{ "keys from outside, no mouse", test_i8042_keys },
		CU_TEST_INFO_NULL,
	};
	unit_add_suite("i8042", tests);
}

void suite_cmos(void)
{
	static const CU_TestInfo tests[] = {
		{ "clock registers", test_cmos_time },
		CU_TEST_INFO_NULL,
	};
	unit_add_suite("cmos", tests);
}

static uint32_t prd(struct pl031 *rtc, uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	pl031_access(rtc, off, (uint8_t *)&v, 4, false);
	return v;
}

static void pwr(struct pl031 *rtc, uint64_t off, uint32_t v)
{
	pl031_access(rtc, off, (uint8_t *)&v, 4, true);
}

static void test_pl031(void)
{
	struct pl031 rtc;
	uint8_t b = 0x55;
	uint64_t q = ~0ULL;
	static const uint8_t ids[8] = { 0x31, 0x10, 0x14, 0x00,
					0x0d, 0xf0, 0x05, 0xb1 };
	unsigned int i;

	pl031_init(&rtc);
	rtc.now = fixed_time;
	/* The host's time, a running counter, the AMBA IDs. */
	CU_ASSERT_EQUAL(prd(&rtc, 0x00), (uint32_t)fixed_time());
	CU_ASSERT_EQUAL(prd(&rtc, 0x0c), 1);
	for (i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(prd(&rtc, 0xfe0 + 4 * i), ids[i]);
	/* The guest sets its clock: the counter moves with the host's. */
	pwr(&rtc, 0x08, 1000);
	CU_ASSERT_EQUAL(prd(&rtc, 0x00), 1000);
	CU_ASSERT_EQUAL(prd(&rtc, 0x08), 1000);
	/* Data is read-only; match and mask are kept; nothing pends. */
	pwr(&rtc, 0x00, 5);
	CU_ASSERT_EQUAL(prd(&rtc, 0x00), 1000);
	pwr(&rtc, 0x04, 1234);
	pwr(&rtc, 0x10, 0xff);
	CU_ASSERT_EQUAL(prd(&rtc, 0x04), 1234);
	CU_ASSERT_EQUAL(prd(&rtc, 0x10), 1);
	CU_ASSERT_EQUAL(prd(&rtc, 0x14), 0);
	CU_ASSERT_EQUAL(prd(&rtc, 0x18), 0);
	/* Odd sizes, unaligned and unknown offsets: refused, reads zero. */
	pl031_access(&rtc, 0x00, &b, 1, false);
	CU_ASSERT_EQUAL(b, 0);
	pl031_access(&rtc, 0x00, (uint8_t *)&q, 8, false);
	CU_ASSERT_EQUAL(q, 0);
	CU_ASSERT_EQUAL(prd(&rtc, 0x02), 0);
	CU_ASSERT_EQUAL(prd(&rtc, 0x800), 0);
	CU_ASSERT_EQUAL(prd(&rtc, 0x1000), 0);
	pwr(&rtc, 0x09, 7);
	CU_ASSERT_EQUAL(prd(&rtc, 0x00), 1000);
}

void suite_pl031(void)
{
	static const CU_TestInfo tests[] = {
		{ "counter, load, IDs, refused accesses", test_pl031 },
		CU_TEST_INFO_NULL,
	};
	unit_add_suite("pl031", tests);
}

void suite_term(void)
{
	static const CU_TestInfo tests[] = {
		{ "Ctrl-A escape", test_escape },
		CU_TEST_INFO_NULL,
	};
	unit_add_suite("console escape", tests);
}
