# shellcheck shell=bash
# Sourced by run.sh for the bench job: puts QEMU (for side-by-side figures)
# and the timing tool into the L1 root.

# bench_add_qemu L1ROOT
bench_add_qemu() {
	local root=$1 q
	q=$(command -v qemu-system-x86_64) || die "qemu-system-x86_64 is missing"
	copy_with_libs "$q" "$root"
	# QEMU finds its firmware relative to its own path: keep it in /usr/bin.
	mkdir -p "$root/usr/bin" "$root/usr/share"
	mv "$root/bin/qemu-system-x86_64" "$root/usr/bin/"
	cp -rL /usr/share/qemu "$root/usr/share/qemu"
	cp "$ROOT/build/$(uname -m)/timeto" "$root/bin/timeto" ||
		die "no timeto: run make tools"
	mkdir -p "$root/e2e"
	# For QEMU to run `true` the way `kiln run -- true` does: kiln's own
	# guest init and the configuration kiln would give it, in an
	# initramfs (kiln writes the same one in memory).
	local d
	d=$(mktemp -d)
	mkdir -p "$d/kiln" "$d/dev"
	cp "$ROOT/build/$(uname -m)/guest-init/init" "$d/kiln/init" ||
		die "no guest init: run make first"
	printf 'arg=true\0env=TERM=linux\0root=9p:kiln.root:ro\0cwd=/\0stdin=0\0tty=0\0' \
		>"$d/kiln/config"
	mknod "$d/dev/console" c 5 1 2>/dev/null || true
	make_cpio "$d" "$root/e2e/qinit.cpio"
	rm -rf "$d"
	{
		echo "kl=$(ldd "$KILN" | grep -c '=>')"
		echo "ql=$(ldd "$q" | grep -c '=>')"
	} >"$root/e2e/bench-facts"
}
