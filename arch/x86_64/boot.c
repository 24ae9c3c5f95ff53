// SPDX-License-Identifier: MIT
/*
 * Direct Linux boot on x86_64: bzImage through the 64-bit boot protocol
 * (Documentation/arch/x86/boot.rst), or an ELF vmlinux, entered through its
 * PVH note when it has one, else through startup_64.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <asm/e820.h>

#include "acpi.h"
#include "boot.h"
#include "kcache.h"
#include "layout.h"
#include "log.h"
#include "unpack.h"
#include "virtio/mmio.h"
#include "vm.h"
#include "vmlinux.h"

#define SETUP_HDR_OFFSET 0x1f1
#define HDRS_MAGIC 0x53726448 /* "HdrS" */
#define BOOT_FLAG 0xaa55
#define LOADER_TYPE_UNDEFINED 0xff

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC 0x336ec578

/* The PVH boot ABI (xen/include/public/arch-x86/hvm/start_info.h). */
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

/* Linux's COMMAND_LINE_SIZE on x86 when the kernel does not say. */
#define X86_DEFAULT_CMDLINE_SIZE 2048

static uint16_t le16(const uint8_t *p)
{
	return p[0] | (uint16_t)p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
	return le16(p) | (uint32_t)le16(p + 2) << 16;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

#define HDR(field) offsetof(struct boot_params, hdr.field)

int bzimage_parse(const uint8_t *buf, size_t buflen, uint64_t file_size,
		  struct bzimage_info *info, char *err, size_t errlen)
{
	unsigned int setup_sects;
	uint32_t hdr_end;

	memset(info, 0, sizeof(*info));
	if (buflen < 0x270 || file_size < 0x270) {
		snprintf(err, errlen, "too short to be a bzImage");
		return -ENOEXEC;
	}
	if (le16(buf + HDR(boot_flag)) != BOOT_FLAG ||
	    le32(buf + HDR(header)) != HDRS_MAGIC) {
		snprintf(
			err, errlen,
			"not a Linux kernel (no bzImage header, not an ELF file)");
		return -ENOEXEC;
	}
	info->version = le16(buf + HDR(version));
	if (info->version < BZIMAGE_MIN_VERSION) {
		snprintf(
			err, errlen,
			"boot protocol %u.%02u is too old: kiln needs 2.12 (Linux 3.8) or later",
			info->version >> 8, info->version & 0xff);
		return -EINVAL;
	}
	info->loadflags = buf[HDR(loadflags)];
	if (!(info->loadflags & LOADED_HIGH)) {
		snprintf(
			err, errlen,
			"a zImage (loaded low) cannot be booted: build a bzImage");
		return -EINVAL;
	}
	info->xloadflags = le16(buf + HDR(xloadflags));
	if (!(info->xloadflags & XLF_KERNEL_64)) {
		snprintf(
			err, errlen,
			"kernel has no 64-bit entry point: build an x86_64 kernel");
		return -EINVAL;
	}
	info->relocatable = buf[HDR(relocatable_kernel)] != 0;
	setup_sects = buf[HDR(setup_sects)];
	if (!setup_sects)
		setup_sects = 4;
	info->setup_size = (uint64_t)(setup_sects + 1) * 512;
	if (info->setup_size >= file_size) {
		snprintf(
			err, errlen,
			"truncated bzImage: %llu bytes of setup code but the file has %llu",
			(unsigned long long)info->setup_size,
			(unsigned long long)file_size);
		return -EINVAL;
	}
	info->payload_size = file_size - info->setup_size;
	info->kernel_alignment = le32(buf + HDR(kernel_alignment));
	info->initrd_addr_max = le32(buf + HDR(initrd_addr_max));
	info->cmdline_size = le32(buf + HDR(cmdline_size));
	info->pref_address = le64(buf + HDR(pref_address));
	info->init_size = le32(buf + HDR(init_size));
	info->payload_offset = le32(buf + HDR(payload_offset));
	info->payload_length = le32(buf + HDR(payload_length));
	if (info->init_size < info->payload_size)
		info->init_size = info->payload_size;
	if (info->kernel_alignment & (info->kernel_alignment - 1)) {
		snprintf(err, errlen, "bad kernel_alignment 0x%x in header",
			 info->kernel_alignment);
		return -EINVAL;
	}
	/* The header ends where its jump instruction at 0x200 lands. */
	hdr_end = 0x202 + buf[0x201];
	if (hdr_end > 0x290)
		hdr_end = 0x290;
	if (hdr_end > buflen)
		hdr_end = buflen;
	info->hdr_len = hdr_end - SETUP_HDR_OFFSET;
	return 0;
}

int bzimage_payload(const struct bzimage_info *info, uint64_t *off,
		    uint64_t *len, char *err, size_t errlen)
{
	if (!info->payload_length) {
		snprintf(err, errlen, "the bzImage names no payload");
		return -ENOEXEC;
	}
	if (info->payload_offset > info->payload_size ||
	    info->payload_length > info->payload_size - info->payload_offset) {
		snprintf(
			err, errlen,
			"the payload (%u bytes at %u) runs past the end of the file",
			info->payload_length, info->payload_offset);
		return -ENOEXEC;
	}
	*off = info->setup_size + info->payload_offset;
	*len = info->payload_length;
	return 0;
}

bool x86_kaslr_pick(uint64_t lo, uint64_t size, uint64_t top, uint64_t align,
		    uint64_t r1, uint64_t r2, uint64_t *phys, uint64_t *virt)
{
	uint64_t pslots, vslots;

	*phys = lo;
	*virt = 0;
	if (!align || (align & (align - 1)) || lo & (align - 1) ||
	    top < lo + size || lo + size > X86_KERNEL_IMAGE_SIZE ||
	    size > X86_KERNEL_IMAGE_SIZE)
		return false;
	pslots = (top - lo - size) / align + 1;
	vslots = (X86_KERNEL_IMAGE_SIZE - lo - size) / align + 1;
	*phys = lo + (r1 % pslots) * align;
	*virt = (r2 % vslots) * align;
	return true;
}

int bzimage_load_addr(const struct bzimage_info *info, uint64_t ram_end,
		      uint64_t *load, char *err, size_t errlen)
{
	uint64_t at = info->pref_address;

	if (info->relocatable) {
		/* The preferred address, if usable; else 16 MiB. */
		if (at < X86_HIMEM_START ||
		    (info->kernel_alignment &&
		     (at & (info->kernel_alignment - 1))))
			at = 0x1000000;
	} else if (at < X86_HIMEM_START) {
		/*
		 * Built without CONFIG_RELOCATABLE: it runs only where it was
		 * linked (pref_address, boot protocol 2.10+), which must
		 * leave the boot data below 1 MiB alone.
		 */
		snprintf(
			err, errlen,
			"kernel is not relocatable and must be loaded at 0x%llx, below 1 MiB: build it with CONFIG_PHYSICAL_START of 1 MiB or more",
			(unsigned long long)at);
		return -EINVAL;
	}
	if (at > ram_end || info->init_size > ram_end - at) {
		/* Enough for the kernel, and 16 MiB for an initrd. */
		unsigned long long need =
			((at + info->init_size + 0xfffff) >> 20) + 16;

		if (info->relocatable)
			snprintf(
				err, errlen,
				"--mem is too small for this kernel: it needs at least %llu MiB",
				need);
		else
			snprintf(
				err, errlen,
				"--mem is too small for this kernel: it is not relocatable, runs at 0x%llx and needs at least %llu MiB",
				(unsigned long long)at, need);
		return -ENOMEM;
	}
	*load = at;
	return 0;
}

int x86_build_e820(uint64_t ram_size, struct boot_e820_entry *out,
		   unsigned int max)
{
	uint64_t low = ram_size < X86_MMIO_HOLE_START ? ram_size :
							X86_MMIO_HOLE_START;
	unsigned int n = 0;

	if (ram_size <= X86_HIMEM_START || max < 4)
		return -EINVAL;
	out[n++] = (struct boot_e820_entry){ 0, X86_EBDA_START, E820_RAM };
	/* EBDA (the MP table lives here), VGA hole and BIOS area. */
	out[n++] = (struct boot_e820_entry){ X86_EBDA_START,
					     X86_HIMEM_START - X86_EBDA_START,
					     E820_RESERVED };
	out[n++] = (struct boot_e820_entry){ X86_HIMEM_START,
					     low - X86_HIMEM_START, E820_RAM };
	if (ram_size > X86_MMIO_HOLE_START)
		out[n++] = (struct boot_e820_entry){
			X86_MMIO_HOLE_END, ram_size - X86_MMIO_HOLE_START,
			E820_RAM
		};
	return n;
}

uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
	return ((uint64_t)(base & 0xff000000) << 32) |
	       ((uint64_t)(flags & 0xf0ff) << 40) |
	       ((uint64_t)(limit & 0x000f0000) << 32) |
	       ((uint64_t)(base & 0x00ffffff) << 16) |
	       (uint64_t)(limit & 0x0000ffff);
}

void gdt_to_kvm_segment(uint64_t e, uint16_t selector, struct kvm_segment *s)
{
	uint32_t limit = (e & 0xffff) | ((e >> 32) & 0xf0000);

	memset(s, 0, sizeof(*s));
	s->base = ((e >> 16) & 0xffffff) | ((e >> 32) & 0xff000000);
	s->g = (e >> 55) & 1;
	s->limit = s->g ? (limit << 12) | 0xfff : limit;
	s->selector = selector;
	s->type = (e >> 40) & 0xf;
	s->s = (e >> 44) & 1;
	s->dpl = (e >> 45) & 3;
	s->present = (e >> 47) & 1;
	s->avl = (e >> 52) & 1;
	s->l = (e >> 53) & 1;
	s->db = (e >> 54) & 1;
	s->unusable = !s->present;
}

/* --- Probing and loading ------------------------------------------------ */

static bool is_elf(const uint8_t *buf, size_t len)
{
	return len >= 4 && !memcmp(buf, ELFMAG, SELFMAG);
}

static int read_head(int fd, uint8_t *buf, size_t len, size_t *got,
		     uint64_t *size)
{
	struct stat st;
	ssize_t r;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	*size = st.st_size;
	r = pread(fd, buf, len, 0);
	if (r < 0)
		return -errno;
	*got = r;
	return 0;
}

static int elf_check(int fd, char *err, size_t errlen)
{
	struct elf_kernel k;
	int r = elf_kernel_read(fd, &k, err, errlen);

	if (r && r != -ENOEXEC)
		snprintf(err, errlen, "cannot read the ELF file: %s",
			 strerror(-r));
	return r;
}

int x86_probe_kernel(int fd, const char *path, char *err, size_t errlen)
{
	struct bzimage_info info;
	uint8_t head[1024];
	char why[256];
	uint64_t size;
	size_t got;
	int r;

	r = read_head(fd, head, sizeof(head), &got, &size);
	if (r == -EINVAL) {
		snprintf(err, errlen, "kernel '%s' is not a regular file",
			 path);
		return r;
	}
	if (r) {
		snprintf(err, errlen, "cannot read kernel '%s': %s", path,
			 strerror(-r));
		return r;
	}
	if (is_elf(head, got))
		r = elf_check(fd, why, sizeof(why));
	else
		r = bzimage_parse(head, got, size, &info, why, sizeof(why));
	if (r)
		snprintf(err, errlen, "kernel '%s': %s", path, why);
	return r;
}

/* Whether the command line (up to a "--") has the word w. */
static bool cmdline_has(const char *cmdline, const char *w)
{
	size_t n = strlen(w);
	const char *p = cmdline;

	while (p && *p) {
		size_t len;

		p += strspn(p, " ");
		len = strcspn(p, " ");
		if (len == 2 && !strncmp(p, "--", 2))
			break;
		if (len == n && !strncmp(p, w, n))
			return true;
		p += len;
	}
	return false;
}

int x86_vmlinux_check(const uint8_t *buf, size_t len, struct vmlinux_img *v,
		      char *why, size_t whylen)
{
	unsigned int i;
	int r;

	r = elf_check_ehdr(buf, len, len, &v->eh, why, whylen);
	if (r)
		return r;
	memcpy(v->ph, buf + v->eh.e_phoff, v->eh.e_phnum * sizeof(Elf64_Phdr));
	v->lo = UINT64_MAX;
	v->hi = 0;
	for (i = 0; i < v->eh.e_phnum; i++) {
		const Elf64_Phdr *ph = &v->ph[i];

		r = elf_check_phdr(ph, len, why, whylen);
		if (r)
			return r;
		if (ph->p_type != PT_LOAD || !ph->p_memsz)
			continue;
		if (ph->p_paddr < v->lo)
			v->lo = ph->p_paddr;
		if (ph->p_paddr + ph->p_memsz > v->hi)
			v->hi = ph->p_paddr + ph->p_memsz;
	}
	v->entry = v->eh.e_entry >= X86_START_KERNEL_MAP ?
			   v->eh.e_entry - X86_START_KERNEL_MAP :
			   v->eh.e_entry;
	if (!v->hi || v->lo < X86_HIMEM_START || v->hi - v->lo > KC_MAX_IMAGE ||
	    v->entry < v->lo || v->entry >= v->hi) {
		snprintf(
			why, whylen,
			"the decompressed kernel's segments or entry are not where a vmlinux has them");
		return -ENOEXEC;
	}
	return 0;
}

int x86_vmlinux_relocs(const uint8_t *buf, size_t len,
		       const struct vmlinux_img *v, struct x86_relocs *t,
		       char *why, size_t whylen)
{
	int r = x86_relocs_find(buf, len, elf_file_end(buf, len), t, why,
				whylen);

	if (!r)
		r = x86_relocs_apply(t, NULL, v->lo, v->hi - v->lo, 0, true,
				     why, whylen);
	return r;
}

void x86_vmlinux_place(const uint8_t *buf, const struct vmlinux_img *v,
		       uint8_t *base)
{
	unsigned int i;

	for (i = 0; i < v->eh.e_phnum; i++) {
		const Elf64_Phdr *ph = &v->ph[i];
		uint8_t *dst = base + (ph->p_paddr - v->lo);

		if (ph->p_type != PT_LOAD || !ph->p_memsz)
			continue;
		memcpy(dst, buf + ph->p_offset, ph->p_filesz);
		memset(dst + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
	}
}

/*
 * The bzImage's payload, decompressed on the host (from the kernel
 * cache when it is there, kcache.h), loaded as the kernel's own
 * decompressor would: at a random physical address and virtual offset
 * with its relocations applied (KASLR), then entered at startup_64
 * through the 64-bit boot protocol with the bzImage's setup header.
 * Returns 0, or an errno with why set: then the bzImage boots as it is.
 */
static int load_unpacked(struct vm *vm, const struct bzimage_info *info,
			 const uint8_t *file, size_t file_len,
			 uint64_t initrd_room, char *why, size_t whylen)
{
	struct arch_vm *a = &vm->arch;
	uint64_t off, len, size, top, align, phys, virt = 0, rnd[2];
	struct vmlinux_img *v;
	struct x86_relocs t;
	struct kc_image img;
	bool relocs, kaslr = false;
	uint8_t *base;
	int r;

	r = bzimage_payload(info, &off, &len, why, whylen);
	if (r)
		return r;
	if (unpack_detect(file + off, len) == UNPACK_NONE) {
		snprintf(why, whylen, "its payload is %s",
			 unpack_name(file + off, len));
		return -ENOTSUP;
	}
	r = kc_get(NULL, true, file, file_len, "x86_64-vmlinux", file + off,
		   len, &img, why, whylen);
	if (r)
		return r;
	v = malloc(sizeof(*v));
	if (!v) {
		kc_image_release(&img);
		return -ENOMEM;
	}
	r = x86_vmlinux_check(img.data, img.len, v, why, whylen);
	if (r)
		goto out;
	size = v->hi - v->lo;
	r = x86_vmlinux_relocs(img.data, img.len, v, &t, why, whylen);
	relocs = !r;
	if (r && r != -ENOENT)
		goto out;
	r = 0;
	/* What the initrd will take at the top of low memory stays free. */
	top = vm->mem.region[0].size;
	if (info->initrd_addr_max && info->initrd_addr_max + 1ULL < top)
		top = info->initrd_addr_max + 1ULL;
	top = top > initrd_room + 0x1000 ? top - initrd_room - 0x1000 : 0;
	align = info->kernel_alignment > 0x200000 ? info->kernel_alignment :
						    0x200000;
	phys = v->lo;
	if (info->relocatable && relocs &&
	    !cmdline_has(vm->cmdline, "nokaslr") &&
	    getrandom(rnd, sizeof(rnd), 0) == sizeof(rnd))
		kaslr = x86_kaslr_pick(v->lo, size, top, align, rnd[0], rnd[1],
				       &phys, &virt);
	if (phys + size > top) {
		snprintf(why, whylen, "it does not fit below the initrd");
		r = -ENOMEM;
		goto out;
	}
	base = gpa_to_hva(vm, phys, size);
	if (!base) {
		r = -EFAULT;
		goto out;
	}
	x86_vmlinux_place(img.data, v, base);
	if (virt)
		x86_relocs_apply(&t, base, v->lo, size, virt, false, why,
				 whylen);
	a->bzimage = true;
	a->kaslr = kaslr;
	a->boot_mode = X86_BOOT_LINUX64;
	a->entry = phys + (v->entry - v->lo);
	a->kernel_end = phys + size;
	pr_debug(
		"vmlinux (%s, decompressed on the host, %zu MiB%s; %s) at 0x%llx, virtual offset 0x%llx",
		unpack_name(file + off, len), img.len >> 20,
		img.from_cache ? ", cached" :
		img.stored     ? ", now cached" :
				 "",
		!info->relocatable ? "not relocatable" :
		kaslr		   ? "relocatable, KASLR" :
		!relocs		   ? "relocatable, no relocation table" :
				     "relocatable, not randomised",
		(unsigned long long)phys, (unsigned long long)virt);
out:
	free(v);
	kc_image_release(&img);
	return r;
}

/* Bytes the initrd will take (rounded as vm_load_initrd does). */
static uint64_t initrd_room(struct vm *vm, int initrd_fd)
{
	struct stat st;
	uint64_t n = vm->initrd_extra_len;

	if (initrd_fd >= 0 && !fstat(initrd_fd, &st))
		n += ((uint64_t)st.st_size + 3) & ~3ULL;
	return (n + 0xfff) & ~0xfffULL;
}

static int load_bzimage(struct vm *vm, int fd, int initrd_fd)
{
	struct arch_vm *a = &vm->arch;
	uint64_t low_end = vm->mem.region[0].size, load;
	struct bzimage_info info;
	uint8_t head[1024], *file;
	char why[256];
	uint64_t size;
	size_t got;
	void *dst;
	int r;

	r = read_head(fd, head, sizeof(head), &got, &size);
	if (!r)
		r = bzimage_parse(head, got, size, &info, why, sizeof(why));
	if (r) {
		pr_err("kernel: %s",
		       r == -EINVAL || r == -ENOEXEC ? why : strerror(-r));
		return r;
	}
	r = bzimage_load_addr(&info, low_end, &load, why, sizeof(why));
	if (r) {
		pr_err("kernel: %s", why);
		return r;
	}
	a->setup_hdr_len = info.hdr_len;
	memcpy(a->setup_hdr, head + SETUP_HDR_OFFSET, info.hdr_len);
	a->cmdline_max = info.version >= 0x0206 ? info.cmdline_size : 255;
	a->initrd_addr_max = info.initrd_addr_max;
	file = vm->cfg->no_kernel_cache ?
		       MAP_FAILED :
		       mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (file != MAP_FAILED) {
		r = load_unpacked(vm, &info, file, size,
				  initrd_room(vm, initrd_fd), why, sizeof(why));
		munmap(file, size);
		if (!r)
			return 0;
		pr_debug("kernel: booting the bzImage as it is: %s",
			 r == -ENOEXEC || r == -ENOTSUP || r == -EINVAL ||
					 r == -EFBIG || r == -ENOMEM ?
				 why :
				 strerror(-r));
	}
	a->kaslr = false;
	pr_debug(
		"bzImage (boot protocol %u.%02u, %srelocatable) at 0x%llx, %u bytes in memory",
		info.version >> 8, info.version & 0xff,
		info.relocatable ? "" : "not ", (unsigned long long)load,
		info.init_size);
	dst = gpa_to_hva(vm, load, info.payload_size);
	if (!dst)
		return -EFAULT;
	r = pread_full(fd, dst, info.payload_size, info.setup_size);
	if (r) {
		pr_err("cannot read kernel: %s", strerror(-r));
		return r;
	}
	a->bzimage = true;
	a->boot_mode = X86_BOOT_LINUX64;
	/* The 64-bit entry is 0x200 bytes into the protected-mode code. */
	a->entry = load + 0x200;
	a->kernel_end = load + info.init_size;
	return 0;
}

/* Looks for the PVH entry note in one PT_NOTE segment. */
static bool elf_find_pvh(int fd, const Elf64_Phdr *ph, uint64_t *entry)
{
	static uint8_t notes[ELF_MAX_NOTES];
	size_t len = ph->p_filesz < sizeof(notes) ? ph->p_filesz :
						    sizeof(notes);
	const uint8_t *desc;
	uint32_t descsz;

	if (pread_full(fd, notes, len, ph->p_offset) ||
	    !elf_note_find(notes, len, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &desc,
			   &descsz))
		return false;
	if (descsz == 4)
		*entry = le32(desc);
	else if (descsz == 8)
		*entry = le64(desc);
	else
		return false;
	return true;
}

static int load_elf(struct vm *vm, int fd)
{
	struct arch_vm *a = &vm->arch;
	uint64_t lo = UINT64_MAX, hi = 0, pvh_entry = 0;
	struct elf_kernel k;
	bool pvh = false;
	char why[256];
	unsigned int i;
	int r;

	r = elf_kernel_read(fd, &k, why, sizeof(why));
	if (r) {
		pr_err("kernel: %s", r == -ENOEXEC ? why : strerror(-r));
		return r;
	}
	for (i = 0; i < k.phnum; i++) {
		const Elf64_Phdr *ph = &k.ph[i];
		uint8_t *dst;

		if (ph->p_type == PT_NOTE && !pvh)
			pvh = elf_find_pvh(fd, ph, &pvh_entry);
		if (ph->p_type != PT_LOAD || !ph->p_memsz)
			continue;
		dst = gpa_to_hva(vm, ph->p_paddr, ph->p_memsz);
		if (!dst || ph->p_paddr < X86_HIMEM_START) {
			pr_err("kernel: ELF segment at 0x%llx (+%llu bytes) does not fit in guest RAM: give more --mem",
			       (unsigned long long)ph->p_paddr,
			       (unsigned long long)ph->p_memsz);
			return -ENOMEM;
		}
		r = pread_full(fd, dst, ph->p_filesz, ph->p_offset);
		if (r) {
			pr_err("cannot read kernel: %s", strerror(-r));
			return r;
		}
		memset(dst + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
		if (ph->p_paddr < lo)
			lo = ph->p_paddr;
		if (ph->p_paddr + ph->p_memsz > hi)
			hi = ph->p_paddr + ph->p_memsz;
	}
	if (!hi) {
		pr_err("kernel: ELF file has nothing to load");
		return -ENOEXEC;
	}
	a->bzimage = false;
	a->kernel_end = hi;
	a->cmdline_max = X86_DEFAULT_CMDLINE_SIZE - 1;
	a->initrd_addr_max = 0xffffffff;
	if (pvh) {
		a->boot_mode = X86_BOOT_PVH;
		a->entry = pvh_entry;
	} else {
		a->boot_mode = X86_BOOT_LINUX64;
		a->entry = k.entry;
	}
	if (!gpa_to_hva(vm, a->entry, 1)) {
		pr_err("kernel: entry point 0x%llx is outside guest RAM",
		       (unsigned long long)a->entry);
		return -ENOEXEC;
	}
	pr_debug("ELF kernel at 0x%llx-0x%llx, %s entry 0x%llx",
		 (unsigned long long)lo, (unsigned long long)hi,
		 pvh ? "PVH" : "64-bit", (unsigned long long)a->entry);
	return 0;
}

int x86_load_kernel(struct vm *vm, int kernel_fd, int initrd_fd)
{
	uint8_t magic[4];
	ssize_t n;
	int r;

	n = pread(kernel_fd, magic, sizeof(magic), 0);
	r = is_elf(magic, n > 0 ? n : 0) ?
		    load_elf(vm, kernel_fd) :
		    load_bzimage(vm, kernel_fd, initrd_fd);
	if (r)
		return r;
	if (initrd_fd >= 0 || vm->initrd_extra_len) {
		uint64_t top = vm->mem.region[0].size;

		if (vm->arch.initrd_addr_max + 1 < top)
			top = vm->arch.initrd_addr_max + 1;
		return vm_load_initrd(vm, initrd_fd, vm->arch.kernel_end, top,
				      &vm->arch.initrd_gpa,
				      &vm->arch.initrd_size);
	}
	return 0;
}

/* --- Boot data ---------------------------------------------------------- */

static int setup_page_tables(struct vm *vm)
{
	uint64_t *pml4 = gpa_to_hva(vm, X86_PML4_ADDR, 4096);
	uint64_t *pdpt = gpa_to_hva(vm, X86_PDPT_ADDR, 4096);
	uint64_t *pd = gpa_to_hva(vm, X86_PD_ADDR, 4096 * X86_PD_PAGES);
	unsigned int i;

	if (!pml4 || !pdpt || !pd)
		return -EFAULT;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	/* Present | writable; the PD entries add PS for 2 MiB pages. */
	pml4[0] = X86_PDPT_ADDR | 0x03;
	for (i = 0; i < X86_PD_PAGES; i++)
		pdpt[i] = (X86_PD_ADDR + i * 4096) | 0x03;
	for (i = 0; i < 512 * X86_PD_PAGES; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;
	return 0;
}

static uint64_t boot_gdt(enum x86_boot_mode mode, unsigned int i)
{
	static const uint16_t flags64[X86_GDT_ENTRIES] = { 0, 0, 0xa09b, 0xc093,
							   0x008b };
	static const uint16_t flags32[X86_GDT_ENTRIES] = { 0, 0, 0xc09b, 0xc093,
							   0x008b };
	const uint16_t *f = mode == X86_BOOT_PVH ? flags32 : flags64;

	if (!f[i])
		return 0;
	if (i == 4) /* the TSS: 104 bytes, byte-granular */
		return gdt_entry(f[i], 0, 0x67);
	return gdt_entry(f[i], 0, 0xfffff);
}

static int setup_pvh(struct vm *vm, const struct boot_e820_entry *e820, int n)
{
	struct hvm_start_info *si;
	struct hvm_memmap_table_entry *mm;
	struct hvm_modlist_entry *mod;
	int i;

	si = gpa_to_hva(vm, X86_PVH_INFO_ADDR, sizeof(*si));
	mm = gpa_to_hva(vm, X86_PVH_MEMMAP_ADDR,
			sizeof(*mm) * X86_PVH_MEMMAP_MAX);
	mod = gpa_to_hva(vm, X86_PVH_MODLIST_ADDR, sizeof(*mod));
	if (!si || !mm || !mod || n > X86_PVH_MEMMAP_MAX)
		return -EFAULT;
	memset(si, 0, sizeof(*si));
	si->magic = HVM_START_MAGIC;
	si->version = 1;
	si->cmdline_paddr = X86_CMDLINE_ADDR;
	si->memmap_paddr = X86_PVH_MEMMAP_ADDR;
	si->memmap_entries = n;
	for (i = 0; i < n; i++)
		mm[i] = (struct hvm_memmap_table_entry){ e820[i].addr,
							 e820[i].size,
							 e820[i].type, 0 };
	if (vm->arch.initrd_size) {
		*mod = (struct hvm_modlist_entry){ vm->arch.initrd_gpa,
						   vm->arch.initrd_size, 0, 0 };
		si->nr_modules = 1;
		si->modlist_paddr = X86_PVH_MODLIST_ADDR;
	}
	return 0;
}

static int setup_zero_page(struct vm *vm, const struct boot_e820_entry *e820,
			   int n)
{
	struct boot_params *bp =
		gpa_to_hva(vm, X86_ZERO_PAGE_ADDR, sizeof(*bp));
	struct arch_vm *a = &vm->arch;

	if (!bp)
		return -EFAULT;
	memset(bp, 0, sizeof(*bp));
	if (a->bzimage) {
		memcpy((uint8_t *)bp + SETUP_HDR_OFFSET, a->setup_hdr,
		       a->setup_hdr_len);
	} else {
		bp->hdr.boot_flag = BOOT_FLAG;
		bp->hdr.header = HDRS_MAGIC;
		bp->hdr.version = BZIMAGE_MIN_VERSION;
		bp->hdr.kernel_alignment = 0x1000000;
		bp->hdr.cmdline_size = a->cmdline_max;
	}
	bp->hdr.type_of_loader = LOADER_TYPE_UNDEFINED;
	/* The kernel randomises its memory regions only when told. */
	if (a->kaslr)
		bp->hdr.loadflags |= KASLR_FLAG;
	else
		bp->hdr.loadflags &= ~KASLR_FLAG;
	bp->hdr.loadflags |= CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = 0xfe00;
	bp->hdr.vid_mode = 0xffff; /* "normal" */
	bp->hdr.cmd_line_ptr = X86_CMDLINE_ADDR;
	bp->hdr.ramdisk_image = (uint32_t)a->initrd_gpa;
	bp->hdr.ramdisk_size = (uint32_t)a->initrd_size;
	bp->ext_ramdisk_image = a->initrd_gpa >> 32;
	bp->ext_ramdisk_size = a->initrd_size >> 32;
	memcpy(bp->e820_table, e820, n * sizeof(*e820));
	bp->e820_entries = n;
	return 0;
}

/* ACPI tables; the kernel learns the RSDP from the boot protocol. */
static int setup_acpi(struct vm *vm)
{
	struct acpi_dev devs[VM_MAX_VIRTIO];
	struct boot_params *bp =
		gpa_to_hva(vm, X86_ZERO_PAGE_ADDR, sizeof(*bp));
	void *tables = gpa_to_hva(vm, X86_ACPI_ADDR, X86_ACPI_MAX);
	unsigned int i, n = 0;
	int r;

	if (!bp || !tables)
		return -EFAULT;
	for (i = 0; i < vm->devs.nr && n < VM_MAX_VIRTIO; i++)
		if (vm->devs.dev[i].placed)
			devs[n++] = (struct acpi_dev){ vm->devs.dev[i].base,
						       VIRTIO_MMIO_SIZE,
						       vm->devs.dev[i].irq };
	r = acpi_build(tables, X86_ACPI_MAX, X86_ACPI_ADDR, vm->nr_vcpus, devs,
		       n);
	if (r < 0) {
		pr_err("cannot build the ACPI tables: %s", strerror(-r));
		return r;
	}
	bp->acpi_rsdp_addr = X86_ACPI_ADDR;
	if (vm->arch.boot_mode == X86_BOOT_PVH) {
		struct hvm_start_info *si =
			gpa_to_hva(vm, X86_PVH_INFO_ADDR, sizeof(*si));

		if (!si)
			return -EFAULT;
		si->rsdp_paddr = X86_ACPI_ADDR;
	}
	return 0;
}

int x86_setup_boot(struct vm *vm)
{
	struct boot_e820_entry e820[8];
	size_t len = strlen(vm->cmdline);
	uint64_t *gdt;
	char *cmd;
	void *mp;
	int n, r;
	unsigned int i;

	if (len > vm->arch.cmdline_max || len >= X86_CMDLINE_MAX) {
		pr_err("the kernel command line is %zu bytes; this kernel takes at most %u",
		       len, vm->arch.cmdline_max);
		return -E2BIG;
	}
	cmd = gpa_to_hva(vm, X86_CMDLINE_ADDR, len + 1);
	if (!cmd)
		return -EFAULT;
	memcpy(cmd, vm->cmdline, len + 1);

	n = x86_build_e820(vm->ram_size, e820, 8);
	if (n < 0)
		return n;
	r = setup_zero_page(vm, e820, n);
	if (!r && vm->arch.boot_mode == X86_BOOT_PVH)
		r = setup_pvh(vm, e820, n);
	if (!r)
		r = setup_page_tables(vm);
	if (r)
		return r;

	gdt = gpa_to_hva(vm, X86_GDT_ADDR, 8 * X86_GDT_ENTRIES);
	if (!gdt)
		return -EFAULT;
	for (i = 0; i < X86_GDT_ENTRIES; i++)
		gdt[i] = boot_gdt(vm->arch.boot_mode, i);

	if (vm->acpi) {
		r = setup_acpi(vm);
		if (r)
			return r;
	}
	mp = gpa_to_hva(vm, X86_MPTABLE_ADDR, mptable_size(vm->nr_vcpus));
	if (!mp)
		return -EFAULT;
	r = mptable_build(mp, mptable_size(vm->nr_vcpus), X86_MPTABLE_ADDR,
			  vm->nr_vcpus);
	if (r < 0) {
		pr_err("cannot build the MP table: %s", strerror(-r));
		return r;
	}
	return 0;
}

/* --- Boot CPU registers ------------------------------------------------- */

#define X86_CR0_PE 0x1ULL
#define X86_CR0_ET 0x10ULL
#define X86_CR0_PG 0x80000000ULL
#define X86_CR4_PAE 0x20ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL

int x86_setup_vcpu_regs(struct vm *vm, int fd, unsigned int cpu)
{
	enum x86_boot_mode mode = vm->arch.boot_mode;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_segment code, data, tss;

	/* Secondary CPUs wait for INIT/SIPI in the in-kernel LAPIC. */
	if (cpu != 0)
		return 0;
	if (ioctl(fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;

	gdt_to_kvm_segment(boot_gdt(mode, 2), 0x10, &code);
	gdt_to_kvm_segment(boot_gdt(mode, 3), 0x18, &data);
	gdt_to_kvm_segment(boot_gdt(mode, 4), 0x20, &tss);
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.tr = tss;
	sregs.gdt.base = X86_GDT_ADDR;
	sregs.gdt.limit = 8 * X86_GDT_ENTRIES - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;

	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2; /* bit 1 is always set; IF is clear */
	regs.rip = vm->arch.entry;
	if (mode == X86_BOOT_PVH) {
		sregs.cr0 = X86_CR0_PE | X86_CR0_ET;
		sregs.cr4 = 0;
		sregs.efer = 0;
		regs.rbx = X86_PVH_INFO_ADDR;
	} else {
		sregs.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_PG;
		sregs.cr3 = X86_PML4_ADDR;
		sregs.cr4 = X86_CR4_PAE;
		sregs.efer = EFER_LME | EFER_LMA;
		regs.rsi = X86_ZERO_PAGE_ADDR;
		regs.rsp = regs.rbp = X86_BOOT_STACK;
	}
	if (ioctl(fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	if (ioctl(fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}
