/* SPDX-License-Identifier: MIT */
#ifndef KILN_X86_LAYOUT_H
#define KILN_X86_LAYOUT_H

/* Guest-physical layout of an x86_64 microVM. */

#define X86_GDT_ADDR 0x500
#define X86_GDT_ENTRIES 5
#define X86_PVH_INFO_ADDR 0x6000 /* hvm_start_info */
#define X86_PVH_MODLIST_ADDR 0x6040
#define X86_PVH_MEMMAP_ADDR 0x6080
#define X86_PVH_MEMMAP_MAX 8
#define X86_ZERO_PAGE_ADDR 0x7000 /* struct boot_params */
#define X86_BOOT_STACK 0x8ff0
#define X86_PML4_ADDR 0x9000
#define X86_PDPT_ADDR 0xa000
#define X86_PD_ADDR 0xb000 /* four page directories: 4 GiB of 2 MiB pages */
#define X86_PD_PAGES 4
#define X86_CMDLINE_ADDR 0x20000
#define X86_CMDLINE_MAX 0x10000

/* The MP floating pointer must sit in the last KiB of base memory. */
#define X86_MPTABLE_ADDR 0x9fc00
#define X86_EBDA_START 0x9fc00
#define X86_HIMEM_START 0x100000

/* ACPI tables, in the BIOS area the kernel scans for the RSDP. */
#define X86_ACPI_ADDR 0xe0000
#define X86_ACPI_MAX 0x20000
/* The FADT's sleep control and status registers (hardware-reduced). */
#define X86_ACPI_SLEEP_CONTROL_PORT 0x600
/* --boot-timer: a byte write of 123 here (see devices/boottimer.h). */
#define X86_BOOT_TIMER_ADDR 0xcffff000ULL
#define X86_ACPI_SLEEP_STATUS_PORT 0x601

/* The 32-bit MMIO hole: RAM above 3 GiB moves up to 4 GiB. */
#define X86_MMIO_HOLE_START 0xc0000000ULL
#define X86_MMIO_HOLE_END 0x100000000ULL

#define X86_IOAPIC_ADDR 0xfec00000U
#define X86_LAPIC_ADDR 0xfee00000U
#define X86_IDENTITY_MAP_ADDR 0xfffbc000U
#define X86_TSS_ADDR 0xfffbd000U

/* virtio-mmio register windows, in the MMIO hole. */
#define X86_VIRTIO_MMIO_BASE 0xd0000000ULL

/* Legacy devices. */
#define X86_COM1_PORT 0x3f8
#define X86_COM1_IRQ 4
#define X86_IOAPIC_PINS 24

#endif
