#!/usr/bin/env bash
# Installs the Debian packages kiln builds and tests with (as root), or
# names the missing ones. Usage: tests/deps.sh [build|test|sandbox]...
set -euo pipefail

build=(gcc make libc6-dev linux-libc-dev libelf-dev libfdt-dev pkgconf)
test=(libcunit1-dev clang-format clang libclang-rt-14-dev busybox-static cpio
	xz-utils e2fsprogs passt valgrind)
sandbox=(qemu-system-x86)

want=()
for set in "${@:-build}"; do
	case $set in
	build) want+=("${build[@]}") ;;
	test) want+=("${test[@]}") ;;
	sandbox) want+=("${sandbox[@]}") ;;
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
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 || {
	apt-get update -q >&2
	apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}
