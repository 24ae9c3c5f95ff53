/* SPDX-License-Identifier: MIT */
/* The guest init (guest-init/init.c, built static), linked into kiln. */
	.section .rodata
	.balign 16
	.global kiln_init_start
	.global kiln_init_end
kiln_init_start:
	.incbin INIT_PATH
kiln_init_end:
	.section .note.GNU-stack,"",%progbits
