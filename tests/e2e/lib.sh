# shellcheck shell=bash
# Shared by the e2e scripts: where things are cached and how the test
# guests are made. Sourced, not run.

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$E2E_DIR/../.." && pwd)
CACHE=${KILN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kiln}

log() { printf 'e2e: %s\n' "$*" >&2; }
die() { printf 'e2e: error: %s\n' "$*" >&2; exit 1; }

# need_pkgs CMD:PACKAGE ...: installs the Debian packages whose command is
# missing (as root), or names them.
need_pkgs() {
	local missing=() pair
	for pair in "$@"; do
		[ -e "${pair%%:*}" ] || command -v "${pair%%:*}" >/dev/null 2>&1 ||
			missing+=("${pair#*:}")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		die "missing packages: ${missing[*]} (apt-get install ${missing[*]})"
	fi
	log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "${missing[@]}" >&2 ||
		{ apt-get update -q >&2 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
				--no-install-recommends "${missing[@]}" >&2; } ||
		die "could not install ${missing[*]}"
}

# Debian's stock kernel, unpacked (not installed) into the cache. Sets
# DEB_KVER, DEB_KDIR (the unpacked tree), DEB_VMLINUZ, DEB_VMLINUX.
fetch_debian_kernel() {
	local ver pkg deb
	ver=${KILN_DEBIAN_KERNEL:-}
	if [ -z "$ver" ]; then
		ver=$(apt-cache depends linux-image-amd64 2>/dev/null |
			sed -n 's/.*Depends: linux-image-\(.*-amd64\)$/\1/p' |
			head -n1)
	fi
	if [ -z "$ver" ]; then
		# No package index: use whatever was cached before.
		ver=$(ls "$CACHE/debian-kernel" 2>/dev/null | sort -V | tail -n1)
	fi
	[ -n "$ver" ] || die "cannot find Debian's kernel package (apt-get update?)"
	DEB_KVER=$ver
	DEB_KDIR=$CACHE/debian-kernel/$ver
	DEB_VMLINUZ=$DEB_KDIR/boot/vmlinuz-$ver
	DEB_VMLINUX=$DEB_KDIR/vmlinux
	if [ ! -f "$DEB_VMLINUZ" ]; then
		pkg=linux-image-$ver
		log "fetching $pkg"
		rm -rf "$DEB_KDIR.tmp" && mkdir -p "$DEB_KDIR.tmp"
		(cd "$DEB_KDIR.tmp" && apt-get download "$pkg" >&2) ||
			die "apt-get download $pkg failed"
		deb=$(ls "$DEB_KDIR.tmp"/*.deb)
		dpkg -x "$deb" "$DEB_KDIR.tmp" && rm -f "$deb"
		rm -rf "$DEB_KDIR" && mv "$DEB_KDIR.tmp" "$DEB_KDIR"
	fi
	if [ ! -f "$DEB_VMLINUX" ]; then
		"$E2E_DIR/extract-vmlinux.sh" "$DEB_VMLINUZ" >"$DEB_VMLINUX.tmp" ||
			die "cannot extract vmlinux from $DEB_VMLINUZ"
		mv "$DEB_VMLINUX.tmp" "$DEB_VMLINUX"
	fi
}

# copy_with_libs BINARY DESTROOT: the binary and every library ldd names.
copy_with_libs() {
	local bin=$1 dest=$2 lib
	mkdir -p "$dest/bin"
	cp "$bin" "$dest/bin/"
	for lib in $(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*'); do
		mkdir -p "$dest$(dirname "$lib")"
		cp -L "$lib" "$dest$lib"
	done
}

# make_busybox_root DIR: a root with busybox and its applet links.
make_busybox_root() {
	local dir=$1 a
	mkdir -p "$dir"/{bin,sbin,proc,sys,dev,tmp,etc,root}
	cp /bin/busybox "$dir/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ -e "$dir/bin/$a" ] || ln -s busybox "$dir/bin/$a"
	done
}

# make_cpio DIR OUT [gzip]: a newc archive of DIR.
make_cpio() {
	local dir=$1 out=$2
	if [ "${3:-}" = gzip ]; then
		(cd "$dir" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) |
			gzip -1 >"$out"
	else
		(cd "$dir" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$out"
	fi
}

# make_guest_initrd OUT: the busybox test guest (tests/e2e/guest-init.sh).
make_guest_initrd() {
	local out=$1 dir
	dir=$(mktemp -d)
	make_busybox_root "$dir"
	cp "$E2E_DIR/guest-init.sh" "$dir/init"
	chmod 755 "$dir/init"
	# Debian's virtio modules, for its stock kernel to find kiln's
	# devices through ACPI (the deb-virtio case).
	if [ -n "${DEB_KDIR:-}" ]; then
		local m md=$DEB_KDIR/lib/modules/$DEB_KVER/kernel
		mkdir -p "$dir/lib/deb-modules"
		for m in drivers/virtio/virtio_ring drivers/virtio/virtio \
			drivers/virtio/virtio_mmio drivers/block/virtio_blk \
			net/core/failover drivers/net/net_failover \
			drivers/net/virtio_net; do
			cp "$md/$m.ko" "$dir/lib/deb-modules/" 2>/dev/null || true
		done
	fi
	# The guest side of the disk and network tests (make tools).
	for t in randio tcpxfer; do
		if [ -x "$ROOT/build/$(uname -m)/$t" ]; then
			cp "$ROOT/build/$(uname -m)/$t" "$dir/bin/$t"
		fi
	done
	cat >"$dir/bin/udhcpc.script" <<'EOS'
#!/bin/sh
case "$1" in
bound | renew)
	ip addr add "$ip/${mask:-24}" dev "$interface"
	if [ -n "$router" ]; then
		ip route add default via "${router%% *}" dev "$interface"
		echo "${router%% *}" >/tmp/gw
	fi
	;;
esac
EOS
	chmod 755 "$dir/bin/udhcpc.script"
	make_cpio "$dir" "$out" gzip
	rm -rf "$dir"
}

# make_rootfs_image OUT: an ext4 image of the busybox test guest.
make_rootfs_image() {
	local out=$1 dir
	dir=$(mktemp -d)
	make_busybox_root "$dir"
	cp "$E2E_DIR/guest-init.sh" "$dir/init"
	chmod 755 "$dir/init"
	rm -f "$out"
	mke2fs -q -t ext4 -d "$dir" -L kiln-root "$out" 16M ||
		die "mke2fs failed"
	rm -rf "$dir"
}

# kvm_usable: true when /dev/kvm opens here.
kvm_usable() {
	[ -c /dev/kvm ] && { : </dev/kvm; } 2>/dev/null && { : >/dev/kvm; } 2>/dev/null
}
