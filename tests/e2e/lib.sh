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

# E2E_ARCH: the arch under test (KILN_E2E_ARCH, default the host's), and
# Debian's name for it.
E2E_ARCH=${KILN_E2E_ARCH:-$(uname -m)}
case $E2E_ARCH in
x86_64) DEB_ARCH=amd64 ;;
aarch64) DEB_ARCH=arm64 ;;
*) die "KILN_E2E_ARCH=$E2E_ARCH: give x86_64 or aarch64" ;;
esac

# deb_arch_ready: the package index lists DEB_ARCH's packages (another
# arch than the host's is added to dpkg once, as root).
deb_arch_ready() {
	[ "$DEB_ARCH" = "$(dpkg --print-architecture)" ] && return 0
	dpkg --print-foreign-architectures | grep -qx "$DEB_ARCH" &&
		apt-cache show "busybox-static:$DEB_ARCH" >/dev/null 2>&1 && return 0
	[ "$(id -u)" -eq 0 ] || die "run as root once: dpkg --add-architecture $DEB_ARCH && apt-get update"
	log "adding the $DEB_ARCH architecture to the package index"
	dpkg --add-architecture "$DEB_ARCH" && apt-get update -q >&2 ||
		die "cannot add the $DEB_ARCH architecture (dpkg --add-architecture)"
}

# fetch_deb PACKAGE DIR: PACKAGE (name:arch) unpacked, not installed, into
# DIR (replaced).
fetch_deb() {
	local pkg=$1 dir=$2 deb
	log "fetching $pkg"
	rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
	(cd "$dir.tmp" && apt-get download "$pkg" >&2) ||
		die "apt-get download $pkg failed"
	deb=$(ls "$dir.tmp"/*.deb)
	dpkg -x "$deb" "$dir.tmp" && rm -f "$deb"
	rm -rf "$dir" && mv "$dir.tmp" "$dir"
}

# Debian's stock kernel for E2E_ARCH, unpacked (not installed) into the
# cache. Sets DEB_KVER, DEB_KDIR (the unpacked tree), DEB_VMLINUZ, and on
# x86_64 DEB_VMLINUX (arm64's vmlinuz is already a plain Image).
fetch_debian_kernel() {
	local ver
	deb_arch_ready
	ver=${KILN_DEBIAN_KERNEL:-}
	if [ -z "$ver" ]; then
		ver=$(apt-cache depends "linux-image-$DEB_ARCH:$DEB_ARCH" 2>/dev/null |
			sed -n "s/.*Depends: linux-image-\(.*-$DEB_ARCH\)\(:$DEB_ARCH\)\{0,1\}\$/\1/p" |
			head -n1)
	fi
	if [ -z "$ver" ]; then
		# No package index: use whatever was cached before.
		ver=$(ls "$CACHE/debian-kernel" 2>/dev/null | grep -- "-$DEB_ARCH\$" | sort -V | tail -n1)
	fi
	[ -n "$ver" ] || die "cannot find Debian's kernel package (apt-get update?)"
	DEB_KVER=$ver
	DEB_KDIR=$CACHE/debian-kernel/$ver
	DEB_VMLINUZ=$DEB_KDIR/boot/vmlinuz-$ver
	DEB_VMLINUX=
	[ -f "$DEB_VMLINUZ" ] || fetch_deb "linux-image-$ver:$DEB_ARCH" "$DEB_KDIR"
	[ "$E2E_ARCH" = x86_64 ] || return 0
	DEB_VMLINUX=$DEB_KDIR/vmlinux
	if [ ! -f "$DEB_VMLINUX" ]; then
		"$E2E_DIR/extract-vmlinux.sh" "$DEB_VMLINUZ" >"$DEB_VMLINUX.tmp" ||
			die "cannot extract vmlinux from $DEB_VMLINUZ"
		mv "$DEB_VMLINUX.tmp" "$DEB_VMLINUX"
	fi
}

# BUSYBOX: a static busybox of E2E_ARCH (Debian's busybox-static).
fetch_busybox() {
	if [ "$E2E_ARCH" = "$(uname -m)" ]; then
		BUSYBOX=/bin/busybox
		return 0
	fi
	deb_arch_ready
	BUSYBOX=$CACHE/debian-$DEB_ARCH/busybox-static/bin/busybox
	[ -x "$BUSYBOX" ] || fetch_deb "busybox-static:$DEB_ARCH" "$CACHE/debian-$DEB_ARCH/busybox-static"
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
	cp "${BUSYBOX:-/bin/busybox}" "$dir/bin/busybox"
	# The applets of the same Debian busybox, asked of the host's.
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
	for t in randio tcpxfer blkzero vsockxfer; do
		if [ -x "$ROOT/build/$E2E_ARCH/$t" ]; then
			cp "$ROOT/build/$E2E_ARCH/$t" "$dir/bin/$t"
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
	# A kernel told no init= (Firecracker's getting-started) runs
	# /sbin/init: the test init too.
	rm -f "$dir/sbin/init"
	printf '#!/bin/sh\nexec /init\n' >"$dir/sbin/init"
	chmod 755 "$dir/sbin/init"
	rm -f "$out"
	mke2fs -q -t ext4 -d "$dir" -L kiln-root "$out" 16M ||
		die "mke2fs failed"
	rm -rf "$dir"
}

# kvm_usable: true when /dev/kvm opens here.
kvm_usable() {
	[ -c /dev/kvm ] && { : </dev/kvm; } 2>/dev/null && { : >/dev/kvm; } 2>/dev/null
}

# build_runtime_tools: the opencontainers runtime-tools validation tests
# kiln runs (create, state, kill, delete, start), runtimetest and the
# suite's root filesystem, built offline from tests/third_party with
# Debian's Go and cached by the archive's and Go's versions. Prints the
# directory; fails without Go.
build_runtime_tools() {
	local tar key out t
	tar=$(ls "$ROOT"/tests/third_party/runtime-tools-*.tar.xz 2>/dev/null | head -n1)
	[ -n "$tar" ] && command -v go >/dev/null || return 1
	key=$(cat "$tar" <(go version) | sha256sum | cut -c1-16)
	out=$CACHE/runtime-tools/$key
	if [ ! -x "$out/start.t" ]; then
		rm -rf "$out.tmp"
		mkdir -p "$out.tmp/src"
		tar -xJf "$tar" -C "$out.tmp/src" --strip-components=1 || return 1
		(
			cd "$out.tmp/src" || exit 1
			export GOFLAGS=-mod=vendor GOPROXY=off CGO_ENABLED=0 GOENV=off \
				GOCACHE="$out.tmp/gocache" GOPATH="$out.tmp/gopath"
			go build -ldflags '-s -w' -o ../runtimetest ./cmd/runtimetest || exit 1
			for t in create state kill delete start; do
				go build -ldflags '-s -w' -o "../$t.t" "./validation/$t/$t.go" || exit 1
			done
			# The suite unpacks it with "tar -xf", which busybox's tar
			# (the sandbox's) does not do for gzip: kept unpacked,
			# under the name the suite asks for.
			gzip -dc rootfs-amd64.tar.gz >../rootfs-amd64.tar.gz
		) >"$out.tmp/build.log" 2>&1 || {
			tail -20 "$out.tmp/build.log" >&2
			return 1
		}
		chmod -R u+w "$out.tmp"
		rm -rf "$out.tmp/src" "$out.tmp/gocache" "$out.tmp/gopath"
		mv "$out.tmp" "$out"
	fi
	echo "$out"
}
