/* SPDX-License-Identifier: MIT */
/*
 * Linked between what only start-up runs and what runs while the guest
 * does (the Makefile's STARTUP_SRCS): the running VM's code and read-only
 * data begin on a 64 KiB boundary. The kernel maps the file pages around
 * each fault in 64 KiB windows, so once start-up's pages are given back
 * (vmm/trim.c), the running VM's faults bring none of them in again.
 */
	.section .text,"ax",%progbits
	.balign 65536
	.byte 0
	.section .rodata,"a",%progbits
	.balign 65536
	.byte 0
	.section .note.GNU-stack,"",%progbits
