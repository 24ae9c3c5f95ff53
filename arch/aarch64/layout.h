/* SPDX-License-Identifier: MIT */
#ifndef KILN_ARM64_LAYOUT_H
#define KILN_ARM64_LAYOUT_H

/*
 * Guest-physical layout of an aarch64 microVM: devices in the first GiB,
 * RAM from 1 GiB up (as on QEMU's virt machine).
 */

/* GIC distributor, and the GICv2 CPU interface (the v2 fallback). */
#define ARM64_GICD_BASE 0x08000000ULL
#define ARM64_GICD_SIZE 0x10000ULL
#define ARM64_GICC_BASE 0x08010000ULL
#define ARM64_GICC_SIZE 0x2000ULL
/* GICv3 redistributors: two 64 KiB frames per vCPU. */
#define ARM64_GICR_BASE 0x0c000000ULL
#define ARM64_GICR_STRIDE 0x20000ULL
#define ARM64_GICR_MAX 0x04000000ULL /* 512 vCPUs */
#define ARM64_GICV2_MAX_CPUS 8

/* The 16550 UART, its interrupt an SPI. */
#define ARM64_UART_BASE 0x09000000ULL
#define ARM64_UART_SIZE 0x1000ULL
#define ARM64_UART_SPI 1
#define ARM64_UART_CLOCK 1843200

/* The PL031 real-time clock. */
#define ARM64_RTC_BASE 0x09001000ULL
#define ARM64_RTC_SPI 2
#define ARM64_APB_CLOCK 24000000

/* --boot-timer: a byte write of 123 here (see devices/boottimer.h). */
#define ARM64_BOOT_TIMER_ADDR 0x09010000ULL

/* virtio-mmio register windows, one 4 KiB slot each, SPIs from 16. */
#define ARM64_VIRTIO_MMIO_BASE 0x0a000000ULL
#define ARM64_VIRTIO_SLOTS 32
#define ARM64_VIRTIO_SPI_BASE 16

/* SPIs the GIC is given (multiple of 32, private interrupts added). */
#define ARM64_GIC_NR_SPIS 64

/* RAM, and the largest guest-physical address a default VM has. */
#define ARM64_RAM_BASE 0x40000000ULL
#define ARM64_IPA_LIMIT (1ULL << 40)

/* The arm64 boot protocol: the kernel's base is 2 MiB aligned; the DTB at
 * most 2 MiB, in a 2 MiB block of its own at the top of RAM. */
#define ARM64_KERNEL_ALIGN 0x200000ULL
#define ARM64_FDT_MAX 0x200000ULL

#endif
