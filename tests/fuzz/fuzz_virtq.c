// SPDX-License-Identifier: MIT
/*
 * The virtqueue walker against arbitrary guest memory: ring contents,
 * descriptor tables, indirect tables and indices all come from the input.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "virtq.h"
#include "vm.h"

#define RAM (64 << 10)

static uint8_t ram[RAM];
static struct virtq_chain chain;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm vm;
	struct virtq q;
	int i, r;

	if (size < 8)
		return 0;
	memset(&vm, 0, sizeof(vm));
	vm.mem.nr = 1;
	vm.mem.region[0] = (struct mem_region){ 0x1000, RAM, ram };
	memset(ram, 0, RAM);
	memcpy(ram, data + 8, size - 8 < RAM ? size - 8 : RAM);

	virtq_reset(&q);
	q.num = 1u << (data[0] % 8);
	q.indirect = data[1] & 1;
	q.event_idx = data[1] & 2;
	/* Ring addresses: in RAM or anywhere, as the input says. */
	q.desc_gpa = 0x1000 + (data[2] << 8);
	q.avail_gpa = 0x1000 + (data[3] << 8);
	q.used_gpa = 0x1000 + (data[4] << 8);
	if (data[1] & 4)
		q.desc_gpa ^= (uint64_t)data[5] << 56;
	if (virtq_enable(&vm.mem, &q, 128))
		return 0;
	q.ready = true;
	q.last_avail = data[6] | data[7] << 8;
	q.used_idx = q.last_avail;
	for (i = 0; i < 300; i++) {
		r = virtq_pop(&q, &chain);
		if (r == 0 || r == -EIO)
			break;
		if (r > 0) {
			/* Touch every mapped byte, as a device would. */
			unsigned int k;
			size_t j;

			for (k = 0; k < chain.n_out; k++)
				for (j = 0; j < chain.out[k].iov_len; j++)
					(void)((volatile uint8_t *)chain.out[k]
						       .iov_base)[j];
			for (k = 0; k < chain.n_in; k++)
				memset(chain.in[k].iov_base, 0xab,
				       chain.in[k].iov_len);
		}
		virtq_push(&q, chain.head, 1);
	}
	virtq_publish(&q);
	virtq_should_notify(&q);
	virtq_enable_notify(&q);
	return 0;
}
