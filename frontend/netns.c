// SPDX-License-Identifier: MIT
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if_arp.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bundle.h"
#include "netns.h"

int netns_enter(const char *path, int *saved, char *err, size_t errlen)
{
	int fd, r;

	*saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*saved < 0) {
		r = -errno;
		snprintf(err, errlen, "this network namespace: %s",
			 strerror(errno));
		return r;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		r = -errno;
		snprintf(err, errlen, "network namespace '%.200s': %s%s", path,
			 strerror(errno),
			 errno == EPERM ?
				 ": kiln needs CAP_SYS_ADMIN to join it" :
				 "");
		if (fd >= 0)
			close(fd);
		close(*saved);
		*saved = -1;
		return r;
	}
	close(fd);
	return 0;
}

void netns_leave(int saved)
{
	if (saved < 0)
		return;
	if (setns(saved, CLONE_NEWNET))
		perror("kiln: back to kiln's network namespace");
	close(saved);
}

int netns_route_gateway(const char *text, const char *ifname, uint32_t *gw)
{
	const char *line = text;

	/* Iface Destination Gateway Flags RefCnt Use Metric Mask ...: the
	 * addresses in hex, as the kernel holds them (network order). */
	while (line && *line) {
		char name[32];
		unsigned int dst, via, flags, refcnt, use, metric, mask;
		const char *nl = strchr(line, '\n');

		if (sscanf(line, "%31s %x %x %x %u %u %u %x", name, &dst, &via,
			   &flags, &refcnt, &use, &metric, &mask) == 8 &&
		    !strcmp(name, ifname) && !dst && !mask &&
		    (flags & 0x3) == 0x3 /* RTF_UP | RTF_GATEWAY */) {
			*gw = via;
			return 1;
		}
		line = nl ? nl + 1 : NULL;
	}
	return 0;
}

static int mask_prefix(uint32_t mask_be)
{
	uint32_t m = ntohl(mask_be);
	int n = 0;

	while (n < 32 && (m & (0x80000000u >> n)))
		n++;
	/* Not contiguous: not a mask. */
	if (n < 32 && (m << n))
		return -1;
	return n;
}

int netns_probe(struct netns_link *l, char *err, size_t errlen)
{
	struct if_nameindex *all = if_nameindex(), *i;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), found = 0;

	memset(l, 0, sizeof(*l));
	if (!all || s < 0) {
		int r = -errno;

		snprintf(err, errlen, "the container's network links: %s",
			 strerror(errno));
		if (all)
			if_freenameindex(all);
		if (s >= 0)
			close(s);
		return r;
	}
	for (i = all; i->if_index && !found; i++) {
		struct ifreq r;
		struct sockaddr_in a;

		memset(&r, 0, sizeof(r));
		snprintf(r.ifr_name, sizeof(r.ifr_name), "%s", i->if_name);
		if (ioctl(s, SIOCGIFFLAGS, &r) ||
		    (r.ifr_flags & IFF_LOOPBACK) || !(r.ifr_flags & IFF_UP))
			continue;
		if (ioctl(s, SIOCGIFHWADDR, &r) ||
		    r.ifr_hwaddr.sa_family != ARPHRD_ETHER)
			continue;
		memcpy(l->mac, r.ifr_hwaddr.sa_data, 6);
		if (ioctl(s, SIOCGIFADDR, &r))
			continue; /* no IPv4 address */
		memcpy(&a, &r.ifr_addr, sizeof(a));
		l->addr = a.sin_addr.s_addr;
		if (ioctl(s, SIOCGIFNETMASK, &r))
			continue;
		memcpy(&a, &r.ifr_netmask, sizeof(a));
		l->prefix = mask_prefix(a.sin_addr.s_addr);
		if (l->prefix < 0)
			continue;
		l->mtu = ioctl(s, SIOCGIFMTU, &r) ? 1500 : r.ifr_mtu;
		snprintf(l->ifname, sizeof(l->ifname), "%s", i->if_name);
		l->ifindex = (int)i->if_index;
		found = 1;
	}
	if_freenameindex(all);
	close(s);
	if (found) {
		size_t len;
		char *routes = bundle_read_file("/proc/thread-self/net/route",
						1 << 20, &len);

		if (!routes ||
		    !netns_route_gateway(routes, l->ifname, &l->gateway))
			l->gateway = 0;
		free(routes);
	}
	return found;
}

/* Netlink messages, built in place: a header, a tcmsg, attributes. */
struct nlb {
	char *buf;
	size_t len, cap;
	bool full;
};

static void *nlb_put(struct nlb *b, const void *data, size_t len)
{
	size_t at = NLMSG_ALIGN(b->len);
	char *p;

	if (b->full || at + len > b->cap) {
		b->full = true;
		return NULL;
	}
	p = b->buf + at;
	memset(b->buf + b->len, 0, at - b->len);
	if (data)
		memcpy(p, data, len);
	else
		memset(p, 0, len);
	b->len = at + len;
	return p;
}

/* An attribute; its offset, for nlb_end when it nests others. */
static size_t nlb_attr(struct nlb *b, unsigned short type, const void *data,
		       size_t len)
{
	struct nlattr a = { .nla_len = (unsigned short)(NLA_HDRLEN + len),
			    .nla_type = type };
	size_t at = NLMSG_ALIGN(b->len);

	if (!nlb_put(b, &a, sizeof(a)))
		return 0;
	if (len && !nlb_put(b, data, len))
		return 0;
	return at;
}

static void nlb_end(struct nlb *b, size_t at)
{
	struct nlattr *a = (struct nlattr *)(b->buf + at);

	if (!b->full)
		a->nla_len = (unsigned short)(b->len - at);
}

static void nlb_start(struct nlb *b, void *buf, size_t cap, unsigned short type,
		      uint32_t seq, int ifindex, uint32_t parent,
		      uint32_t handle, uint32_t info)
{
	struct nlmsghdr h = { .nlmsg_type = type,
			      .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
			      .nlmsg_seq = seq };
	struct tcmsg t = { .tcm_family = AF_UNSPEC,
			   .tcm_ifindex = ifindex,
			   .tcm_parent = parent,
			   .tcm_handle = handle,
			   .tcm_info = info };

	if (type != RTM_DELQDISC)
		h.nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
	b->buf = buf;
	b->len = 0;
	b->cap = cap;
	b->full = false;
	nlb_put(b, &h, sizeof(h));
	nlb_put(b, &t, sizeof(t));
}

static size_t nlb_done(struct nlb *b)
{
	if (b->full)
		return 0;
	((struct nlmsghdr *)b->buf)->nlmsg_len = (uint32_t)b->len;
	return b->len;
}

size_t netns_msg_ingress(void *buf, size_t cap, int ifindex, uint32_t seq,
			 bool del)
{
	struct nlb b;

	nlb_start(&b, buf, cap, del ? RTM_DELQDISC : RTM_NEWQDISC, seq, ifindex,
		  TC_H_INGRESS, TC_H_MAKE(TC_H_INGRESS, 0), 0);
	nlb_attr(&b, TCA_KIND, "ingress", sizeof("ingress"));
	nlb_attr(&b, TCA_OPTIONS, NULL, 0);
	return nlb_done(&b);
}

size_t netns_msg_redirect(void *buf, size_t cap, int ifindex, int target,
			  uint32_t seq)
{
	struct tc_mirred m = { .action = TC_ACT_STOLEN,
			       .eaction = TCA_EGRESS_REDIR,
			       .ifindex = (uint32_t)target };
	size_t opts, acts, act, aopts;
	struct nlb b;

	/* Priority 1, every protocol, on the ingress qdisc (ffff:). */
	nlb_start(&b, buf, cap, RTM_NEWTFILTER, seq, ifindex,
		  TC_H_MAKE(TC_H_INGRESS, 0), 0,
		  TC_H_MAKE(1u << 16, htons(ETH_P_ALL)));
	nlb_attr(&b, TCA_KIND, "matchall", sizeof("matchall"));
	opts = nlb_attr(&b, TCA_OPTIONS, NULL, 0);
	acts = nlb_attr(&b, TCA_MATCHALL_ACT, NULL, 0);
	act = nlb_attr(&b, 1, NULL, 0);
	nlb_attr(&b, TCA_ACT_KIND, "mirred", sizeof("mirred"));
	aopts = nlb_attr(&b, TCA_ACT_OPTIONS, NULL, 0);
	nlb_attr(&b, TCA_MIRRED_PARMS, &m, sizeof(m));
	nlb_end(&b, aopts);
	nlb_end(&b, act);
	nlb_end(&b, acts);
	nlb_end(&b, opts);
	return nlb_done(&b);
}

int netns_record(const struct netns_link *l, char *out, size_t cap)
{
	char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN] = "";
	int n;

	inet_ntop(AF_INET, &l->addr, a, sizeof(a));
	if (l->gateway)
		inet_ntop(AF_INET, &l->gateway, g, sizeof(g));
	n = snprintf(out, cap,
		     "%02x:%02x:%02x:%02x:%02x:%02x\x1f%s/%d\x1f%s\x1f%d",
		     l->mac[0], l->mac[1], l->mac[2], l->mac[3], l->mac[4],
		     l->mac[5], a, l->prefix, g, l->mtu);
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* Sends one request and waits for its answer: 0 or -errno. */
static int nl_talk(int s, void *msg, size_t len, uint32_t seq)
{
	char ans[4096];
	ssize_t n;

	if (send(s, msg, len, 0) != (ssize_t)len)
		return -errno;
	for (;;) {
		struct nlmsghdr *h = (struct nlmsghdr *)ans;

		n = recv(s, ans, sizeof(ans), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			struct nlmsgerr *e = NLMSG_DATA(h);

			if (h->nlmsg_seq != seq || h->nlmsg_type != NLMSG_ERROR)
				continue;
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				return -EPROTO;
			return e->error;
		}
	}
}

static int link_set(int s, const char *name, int mtu)
{
	struct ifreq r;

	memset(&r, 0, sizeof(r));
	snprintf(r.ifr_name, sizeof(r.ifr_name), "%s", name);
	r.ifr_mtu = mtu;
	if (mtu && ioctl(s, SIOCSIFMTU, &r))
		return -errno;
	if (ioctl(s, SIOCGIFFLAGS, &r))
		return -errno;
	r.ifr_flags |= IFF_UP;
	return ioctl(s, SIOCSIFFLAGS, &r) ? -errno : 0;
}

int netns_wire(const struct netns_link *l, const char *tap, char *err,
	       size_t errlen)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int tapidx = (int)if_nametoindex(tap), s, r = 0, k;
	char msg[512];
	const char *what = "";
	uint32_t seq = 1;
	size_t len;

	if (!tapidx) {
		snprintf(err, errlen, "TAP '%s': %s", tap, strerror(errno));
		return -ENODEV;
	}
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || (r = link_set(s, tap, l->mtu))) {
		r = r ? r : -errno;
		snprintf(err, errlen, "TAP '%s': cannot bring it up: %s", tap,
			 strerror(-r));
		if (s >= 0)
			close(s);
		return r;
	}
	close(s);
	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa))) {
		r = -errno;
		snprintf(err, errlen, "netlink: %s", strerror(errno));
		if (s >= 0)
			close(s);
		return r;
	}
	/*
	 * A VM that ran here before (the container restarted in the same
	 * namespace) left the link's ingress qdisc with a redirect to a
	 * TAP gone with it: removed, with its filters, before anew.
	 */
	len = netns_msg_ingress(msg, sizeof(msg), l->ifindex, seq, true);
	if (len)
		nl_talk(s, msg, len, seq);
	seq++;
	for (k = 0; k < 4 && !r; k++, seq++) {
		int dev = k % 2 ? tapidx : l->ifindex,
		    peer = k % 2 ? l->ifindex : tapidx;

		if (k < 2) {
			what = "an ingress qdisc (sch_ingress)";
			len = netns_msg_ingress(msg, sizeof(msg), dev, seq,
						false);
		} else {
			what = "a redirect (cls_matchall, act_mirred)";
			len = netns_msg_redirect(msg, sizeof(msg), dev, peer,
						 seq);
		}
		r = len ? nl_talk(s, msg, len, seq) : -ENOBUFS;
	}
	close(s);
	if (r)
		snprintf(
			err, errlen,
			"joining the VM to the container's network: %s on %s: %s",
			what, (k - 1) % 2 ? tap : l->ifname, strerror(-r));
	return r;
}
