#!/usr/bin/env bash
# Installs the Debian packages kiln builds and tests with (as root), or
# names the missing ones. Usage: tests/deps.sh [SET]...
#   build, test, sandbox        x86_64 (the host's arch)
#   aarch64                     cross-building and unit-testing for aarch64
#   sandbox-aarch64             the nested Arm sandbox
set -euo pipefail

build=(gcc make libc6-dev musl-dev linux-libc-dev libfdt-dev pkgconf
	liblzma-dev libzstd-dev zlib1g-dev liblz4-dev)
# podman and conmon, containerd: the OCI runtime's cases with the clients
# users run; slirp4netns: a container network with a published port;
# crun and golang-go: the runtime-tools validation tests (built from
# tests/third_party) and the plain runtime they are compared with.
test=(libcunit1-dev clang-format clang libclang-rt-14-dev busybox-static cpio
	xz-utils e2fsprogs passt valgrind curl podman conmon containerd
	slirp4netns crun golang-go)
sandbox=(qemu-system-x86)
[ "$(uname -m)" = aarch64 ] && sandbox=(qemu-system-arm)
# Debian's cross toolchain; arm64 libraries from the multiarch archive.
aarch64=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross musl-dev:arm64
	libfdt-dev:arm64 libcunit1-dev:arm64 qemu-user-static
	liblzma-dev:arm64 libzstd-dev:arm64 zlib1g-dev:arm64 liblz4-dev:arm64)
sandbox_aarch64=(qemu-system-arm)

want=()
for set in "${@:-build}"; do
	case $set in
	build) want+=("${build[@]}") ;;
	test) want+=("${test[@]}") ;;
	sandbox) want+=("${sandbox[@]}") ;;
	aarch64) want+=("${aarch64[@]}") ;;
	sandbox-aarch64) want+=("${sandbox_aarch64[@]}") ;;
	*) echo "deps.sh: unknown set '$set'" >&2; exit 2 ;;
	esac
done

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "kiln needs these Debian packages: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# arm64 packages (and the arm64 guest's busybox and kernel) need the arch
# in dpkg and a package index that lists it.
if printf '%s\n' "${missing[@]}" | grep -q ':arm64$' &&
	! dpkg --print-foreign-architectures | grep -qx arm64; then
	dpkg --add-architecture arm64
	apt-get update -q >&2
fi
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 || {
	apt-get update -q >&2
	apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}
