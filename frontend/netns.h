/* SPDX-License-Identifier: MIT */
#ifndef KILN_NETNS_H
#define KILN_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A container's network, as podman's and containerd's network plugins
 * made it: a network namespace holding a veth (or any Ethernet link) with
 * an IPv4 address and a default route. kiln joins the VM to it the way
 * Kata Containers does: a TAP beside the link in that namespace, and two
 * tc rules (an ingress qdisc and a matchall filter with a mirred
 * redirect on each) that hand every frame arriving on one to the other.
 * The guest's NIC takes the link's MAC, address, mask, MTU and default
 * route, so the network sees the VM where the container's namespace was.
 */

#define NETNS_TAP "kiln-tap0"

struct netns_link {
	char ifname[16];
	int ifindex;
	uint8_t mac[6];
	uint32_t addr; /* network byte order */
	int prefix;
	uint32_t gateway; /* network byte order, 0: none */
	int mtu;
};

/*
 * Enters the network namespace at path (this thread): *saved is a handle
 * on the one left, for netns_leave. 0, or -errno with err saying why.
 */
int netns_enter(const char *path, int *saved, char *err, size_t errlen);
void netns_leave(int saved);

/*
 * The namespace's link to join: the first up non-loopback Ethernet link
 * with an IPv4 address. 1 found, 0 none (a namespace with loopback only:
 * the VM gets no NIC), -errno with err on failure.
 */
int netns_probe(struct netns_link *l, char *err, size_t errlen);

/*
 * With the TAP tap made (kiln's virtio-net opened it) beside l: the TAP
 * up with l's MTU, and the two redirects. 0, or -errno with err.
 */
int netns_wire(const struct netns_link *l, const char *tap, char *err,
	       size_t errlen);

/*
 * The default route of ifname in /proc/net/route's text (NUL-terminated):
 * 1 with *gw (network byte order), 0 when it has none.
 */
int netns_route_gateway(const char *text, const char *ifname, uint32_t *gw);

/*
 * Netlink requests, built into buf (cap bytes): the ingress qdisc on
 * ifindex (its removal when del), and a matchall filter on its ingress
 * redirecting to target. Their length, or 0 when cap is too small.
 */
size_t netns_msg_ingress(void *buf, size_t cap, int ifindex, uint32_t seq,
			 bool del);
size_t netns_msg_redirect(void *buf, size_t cap, int ifindex, int target,
			  uint32_t seq);

/* The guest init's "net" record value: MAC, ADDR/PREFIX, GATEWAY, MTU
 * (\x1f between). Its length, or -1 when it does not fit. */
int netns_record(const struct netns_link *l, char *out, size_t cap);

#endif
