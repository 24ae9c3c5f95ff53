/* SPDX-License-Identifier: MIT */
#ifndef KILN_AML_H
#define KILN_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A small writer of ACPI Machine Language (ACPI 6.x, chapter 20), enough
 * for a DSDT that declares devices and their resources: names, integers,
 * strings, packages, buffers, scopes, devices and resource templates.
 * Constructs with a PkgLength are built from a finished body.
 */
struct aml {
	uint8_t *buf;
	size_t len, cap;
	bool failed; /* out of memory or a bad name: the output is void */
};

void aml_free(struct aml *a);
void aml_bytes(struct aml *a, const void *p, size_t n);
void aml_byte(struct aml *a, uint8_t b);

/* PkgLength for a body of body_len bytes (the encoding counts itself). */
void aml_pkglen(struct aml *a, size_t body_len);

/* Zero, One, Ones, or the smallest of Byte/Word/DWord/QWord. */
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);

/*
 * A NameString: "\\" for the root, segments of up to 4 characters split
 * by '.', each padded with '_' ("\\_SB.COM1", "_HID").
 */
void aml_name_string(struct aml *a, const char *path);

/* Name(name, ...): the caller appends the data object. */
void aml_name(struct aml *a, const char *name);

/* Scope(path) { body }, Device(name) { body }. */
void aml_scope(struct aml *a, const char *path, const struct aml *body);
void aml_device(struct aml *a, const char *name, const struct aml *body);

/* Package() { elements }: body holds n encoded elements. */
void aml_package(struct aml *a, unsigned int n, const struct aml *body);

/* Buffer() { bytes }. */
void aml_buffer(struct aml *a, const void *p, size_t n);

/* The compressed EISA id of "PNP0501" and the like. */
uint32_t aml_eisaid(const char *id);

/* Resource descriptors; aml_end_tag closes a template. */
void res_memory32_fixed(struct aml *r, bool rw, uint32_t base, uint32_t len);
void res_interrupt(struct aml *r, bool edge, bool active_low, bool shared,
		   uint32_t irq);
void res_io(struct aml *r, uint16_t port, uint8_t len);
void res_irq_noflags(struct aml *r, uint8_t irq);
void res_end(struct aml *r);

/* Name(name, ResourceTemplate() { r... }): r must end with res_end. */
void aml_resource_template(struct aml *a, const char *name,
			   const struct aml *r);

#endif
