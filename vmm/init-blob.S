/* SPDX-License-Identifier: MIT */
/*
 * The guest init (guest-init/init.c, built static), linked into kiln. In
 * its own section, 64 KiB aligned: the kernel maps the file pages around
 * each fault in 64 KiB windows, so the init's pages do not become resident
 * when kiln only touches its own read-only data nearby.
 */
	.section .kiln_init,"a",%progbits
	.balign 65536
	.global kiln_init_start
	.global kiln_init_end
kiln_init_start:
	.incbin INIT_PATH
kiln_init_end:
	.section .note.GNU-stack,"",%progbits
