#!/usr/bin/env bash
# Builds kiln's guest kernel (bzImage and vmlinux) from tinyconfig plus
# guest-kernel-config/$ARCH.config.
#
#   guest-kernel-config/build.sh            builds (or finds) it
#   guest-kernel-config/build.sh --deps     only installs what building needs
#
# KERNEL_SRC names a kernel source tree or tarball; the default is Debian's
# linux-source-6.1 package (installed when missing). The result is cached
# in $KILN_CACHE/guest-kernel/<key>/, the key hashing the fragment, the
# source and the compiler, so it is built once per machine. Prints the
# directory holding bzImage and vmlinux. Many at once are safe: one
# builds while the others wait for its result (a lock per kernel).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ARCH=${ARCH:-$(uname -m)}
CACHE=${KILN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kiln}
frag=$here/$ARCH.config
[ -f "$frag" ] || { echo "no config fragment for $ARCH" >&2; exit 1; }
case $ARCH in
x86_64) karch=x86; image=arch/x86/boot/bzImage; cross= ;;
aarch64) karch=arm64; image=arch/arm64/boot/Image; cross=aarch64-linux-gnu- ;;
*) echo "unsupported ARCH $ARCH" >&2; exit 1 ;;
esac
[ "$(uname -m)" = "$ARCH" ] && cross=

pkgs=(bc flex bison libssl-dev libelf-dev make gcc xz-utils)
[ -z "$cross" ] || pkgs+=(gcc-${cross%-})
src=${KERNEL_SRC:-}
if [ -z "$src" ]; then
	src=$(ls /usr/src/linux-source-6.1.tar.xz 2>/dev/null || true)
	[ -n "$src" ] || pkgs+=(linux-source-6.1)
fi
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" -eq 0 ] || { echo "install: ${missing[*]}" >&2; exit 1; }
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
		{ apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; }
fi
[ -n "$src" ] || src=/usr/src/linux-source-6.1.tar.xz
[ "${1:-}" != --deps ] || exit 0

if [ -d "$src" ]; then
	srcid=$(cd "$src" && make -s kernelversion)-$(realpath "$src")
else
	srcid=$(stat -c '%s-%Y' "$src")-$(basename "$src")
fi
key=$( { cat "$frag"; echo "$srcid"; ${cross}gcc --version | head -1; echo "$ARCH"; } |
	sha256sum | cut -c1-16)
out=$CACHE/guest-kernel/$ARCH-$key
done_already() { [ -f "$out/vmlinux" ] && [ -f "$out/$(basename $image)" ]; }
if done_already; then
	echo "$out"
	exit 0
fi
mkdir -p "$CACHE/guest-kernel"
exec 9>"$CACHE/guest-kernel/.lock-$ARCH-$key"
if ! flock -n 9; then
	echo "waiting for another build of the $ARCH guest kernel" >&2
	flock 9
fi
if done_already; then
	echo "$out"
	exit 0
fi

work=$CACHE/guest-kernel/build-$ARCH-$key
rm -rf "$work"
mkdir -p "$work"
if [ -d "$src" ]; then
	tree=$src
	obj=(O="$work/obj")
else
	echo "unpacking $src" >&2
	tar -C "$work" -xf "$src"
	tree=$(ls -d "$work"/linux-*)
	obj=()
fi
mk() { make -C "$tree" "${obj[@]}" ARCH=$karch CROSS_COMPILE=$cross "$@"; }
objdir=${obj:+$work/obj}
objdir=${objdir:-$tree}
echo "building the $ARCH guest kernel in $work (several minutes)" >&2
mk tinyconfig >&2
"$tree/scripts/kconfig/merge_config.sh" -m -O "$objdir" "$objdir/.config" "$frag" >&2
mk olddefconfig >&2
# Every line of the fragment must have survived olddefconfig.
bad=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=*) grep -qxF "$line" "$objdir/.config" || { echo "config lost: $line" >&2; bad=1; } ;;
	esac
done <"$frag"
[ $bad -eq 0 ] || exit 1
mk -j"$(nproc)" "$(basename $image)" vmlinux >&2
mkdir -p "$out.tmp"
cp "$objdir/$image" "$objdir/vmlinux" "$objdir/.config" "$out.tmp/"
strip --strip-debug "$out.tmp/vmlinux" 2>/dev/null || true
rm -rf "$out" && mv "$out.tmp" "$out"
rm -rf "$work"
echo "$out"
