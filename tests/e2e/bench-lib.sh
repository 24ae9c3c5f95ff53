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
	{
		echo "kl=$(ldd "$KILN" | grep -c '=>')"
		echo "ql=$(ldd "$q" | grep -c '=>')"
	} >"$root/e2e/bench-facts"
}
