// SPDX-License-Identifier: MIT
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/serial_reg.h>

#include "uart8250.h"

#define RX_FIFO_SIZE 4096

struct uart8250 {
	pthread_mutex_t lock;
	int out_fd;
	uart_irq_fn irq;
	void *irq_opaque;
	int irq_level;

	uint8_t ier, iir, fcr, lcr, mcr, lsr, msr, scr, dll, dlm;
	bool thr_pending; /* a THR-empty interrupt is owed */

	uint8_t rx[RX_FIFO_SIZE];
	size_t rx_head, rx_count;
	bool want_space; /* a receive came up short */
	int space_fd;
};

/* Recomputes IIR and the interrupt line, in the 16550's priority order. */
static void update_irq(struct uart8250 *u)
{
	uint8_t iir = UART_IIR_NO_INT;
	int level;

	if ((u->ier & UART_IER_RLSI) && (u->lsr & UART_LSR_BRK_ERROR_BITS))
		iir = UART_IIR_RLSI;
	else if ((u->ier & UART_IER_RDI) && (u->lsr & UART_LSR_DR))
		iir = UART_IIR_RDI;
	else if ((u->ier & UART_IER_THRI) && u->thr_pending)
		iir = UART_IIR_THRI;
	else if ((u->ier & UART_IER_MSI) && (u->msr & UART_MSR_ANY_DELTA))
		iir = UART_IIR_MSI;
	u->iir = iir;

	/* In loopback mode the line is not driven (OUT2 gates it). */
	level = !(iir & UART_IIR_NO_INT) && !(u->mcr & UART_MCR_LOOP);
	if (level != u->irq_level) {
		u->irq_level = level;
		if (u->irq)
			u->irq(u->irq_opaque, level);
	}
}

struct uart8250 *uart8250_new(int out_fd, uart_irq_fn irq, void *irq_opaque)
{
	struct uart8250 *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->space_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (u->space_fd < 0) {
		free(u);
		return NULL;
	}
	pthread_mutex_init(&u->lock, NULL);
	u->out_fd = out_fd;
	u->irq = irq;
	u->irq_opaque = irq_opaque;
	u->iir = UART_IIR_NO_INT;
	u->lsr = UART_LSR_TEMT | UART_LSR_THRE;
	u->msr = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	u->mcr = UART_MCR_OUT2;
	u->dll = 12; /* 9600 baud, as a PC BIOS leaves it */
	return u;
}

void uart8250_free(struct uart8250 *u)
{
	if (!u)
		return;
	close(u->space_fd);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

int uart8250_space_fd(const struct uart8250 *u)
{
	return u->space_fd;
}

static void rx_push(struct uart8250 *u, uint8_t c)
{
	if (u->rx_count == RX_FIFO_SIZE) {
		u->lsr |= UART_LSR_OE;
		return;
	}
	u->rx[(u->rx_head + u->rx_count) % RX_FIFO_SIZE] = c;
	u->rx_count++;
	u->lsr |= UART_LSR_DR;
}

static uint8_t rx_pop(struct uart8250 *u)
{
	uint8_t c;

	if (!u->rx_count)
		return 0;
	c = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % RX_FIFO_SIZE;
	u->rx_count--;
	if (!u->rx_count) {
		u->lsr &= ~UART_LSR_DR;
		if (u->want_space) {
			uint64_t one = 1;

			u->want_space = false;
			if (write(u->space_fd, &one, sizeof(one)) < 0) {
				/* Counter full: the reader is already due. */
			}
		}
	}
	return c;
}

static void transmit(struct uart8250 *u, uint8_t c)
{
	if (u->mcr & UART_MCR_LOOP) {
		rx_push(u, c);
	} else if (u->out_fd >= 0) {
		ssize_t r;

		do {
			r = write(u->out_fd, &c, 1);
		} while (r < 0 && errno == EINTR);
		/* A closed or full output drops the byte, as a cable would. */
	}
	u->thr_pending = true;
	u->lsr |= UART_LSR_TEMT | UART_LSR_THRE;
}

static uint8_t reg_read(struct uart8250 *u, unsigned int reg)
{
	uint8_t v = 0;

	switch (reg) {
	case UART_RX:
		if (u->lcr & UART_LCR_DLAB)
			return u->dll;
		return rx_pop(u);
	case UART_IER:
		if (u->lcr & UART_LCR_DLAB)
			return u->dlm;
		return u->ier;
	case UART_IIR:
		v = u->iir;
		if (u->fcr & UART_FCR_ENABLE_FIFO)
			v |= 0xc0;
		/* Reading IIR acknowledges a THR-empty interrupt. */
		if (u->iir == UART_IIR_THRI)
			u->thr_pending = false;
		return v;
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		v = u->lsr;
		u->lsr &= ~(UART_LSR_OE | UART_LSR_BI | UART_LSR_FE |
			    UART_LSR_PE);
		return v;
	case UART_MSR:
		if (u->mcr & UART_MCR_LOOP) {
			/* Loopback: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
			v = (u->mcr & UART_MCR_RTS) ? UART_MSR_CTS : 0;
			v |= (u->mcr & UART_MCR_DTR) ? UART_MSR_DSR : 0;
			v |= (u->mcr & UART_MCR_OUT1) ? UART_MSR_RI : 0;
			v |= (u->mcr & UART_MCR_OUT2) ? UART_MSR_DCD : 0;
			return v;
		}
		v = u->msr;
		u->msr &= ~UART_MSR_ANY_DELTA;
		return v;
	case UART_SCR:
		return u->scr;
	}
	return 0xff;
}

static void reg_write(struct uart8250 *u, unsigned int reg, uint8_t v)
{
	switch (reg) {
	case UART_TX:
		if (u->lcr & UART_LCR_DLAB)
			u->dll = v;
		else
			transmit(u, v);
		break;
	case UART_IER:
		if (u->lcr & UART_LCR_DLAB) {
			u->dlm = v;
			break;
		}
		/* Enabling THRI while THR is empty owes an interrupt. */
		if ((v & UART_IER_THRI) && !(u->ier & UART_IER_THRI) &&
		    (u->lsr & UART_LSR_THRE))
			u->thr_pending = true;
		u->ier = v & 0x0f;
		break;
	case UART_FCR:
		if (v & UART_FCR_CLEAR_RCVR) {
			u->rx_head = u->rx_count = 0;
			u->lsr &= ~UART_LSR_DR;
		}
		u->fcr = v & (UART_FCR_ENABLE_FIFO | UART_FCR_TRIGGER_MASK);
		break;
	case UART_LCR:
		u->lcr = v;
		break;
	case UART_MCR:
		u->mcr = v & 0x1f;
		break;
	case UART_LSR:
	case UART_MSR:
		/* Read-only on a 16550. */
		break;
	case UART_SCR:
		u->scr = v;
		break;
	}
}

void uart8250_access(void *opaque, uint64_t offset, uint8_t *data, uint32_t len,
		     bool is_write)
{
	struct uart8250 *u = opaque;

	if (offset > 7 || len != 1) {
		/* The 8250 has byte registers only: ignore wider accesses. */
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&u->lock);
	if (is_write)
		reg_write(u, offset, data[0]);
	else
		data[0] = reg_read(u, offset);
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

size_t uart8250_receive(struct uart8250 *u, const uint8_t *buf, size_t n)
{
	size_t i;

	pthread_mutex_lock(&u->lock);
	for (i = 0; i < n && u->rx_count < RX_FIFO_SIZE; i++)
		rx_push(u, buf[i]);
	if (i < n)
		u->want_space = true;
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return i;
}

static void uart8250_destroy(void *dev)
{
	uart8250_free(dev);
}

const struct device_ops uart8250_device_ops = {
	.destroy = uart8250_destroy,
};
