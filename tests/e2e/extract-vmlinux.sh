#!/bin/sh
# extract-vmlinux.sh BZIMAGE > vmlinux
# Decompresses the ELF vmlinux inside a bzImage, using the payload offset
# and length from its setup header (boot protocol 2.08+).
set -eu
k=$1
u8() { od -An -tu1 -j "$1" -N1 "$k" | tr -d ' '; }
u32() { od -An -tu4 -j "$1" -N4 "$k" | tr -d ' '; }
sects=$(u8 $((0x1f1)))
[ "$sects" -eq 0 ] && sects=4
off=$(( (sects + 1) * 512 + $(u32 $((0x248))) ))
len=$(u32 $((0x24c)))
magic=$(tail -c +$((off + 1)) "$k" | head -c 4 | od -An -tx1 | tr -d ' ')
case "$magic" in
fd377a58) tail -c +$((off + 1)) "$k" | head -c "$len" | xz -dc --single-stream ;;
1f8b*) tail -c +$((off + 1)) "$k" | head -c "$len" | { gzip -dc 2>/dev/null || [ $? -eq 2 ]; } ;;
28b52ffd) tail -c +$((off + 1)) "$k" | head -c "$len" | zstd -dc 2>/dev/null ;;
*) echo "extract-vmlinux: unknown compression (magic $magic)" >&2; exit 1 ;;
esac
