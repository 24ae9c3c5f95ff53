# Sourced by cases.sh: compressed kernels decompressed on the host, the
# kernel cache, and KASLR done by kiln (Debian's stock xz vmlinuz on
# x86_64; a gzip-compressed Image on aarch64).

KC=/tmp/kc-e2e
# text NAME: the kernel text address the guest reported.
text() { out "$1" | sed -n 's/^KILN-GUEST-TEXT //p' | head -n1; }
# ran NAME: kiln ended with 0 and the guest ran its /init to the end.
ran() { [ $RC -eq 0 ] && out "$1" | grep -q '^KILN-GUEST-DONE'; }
# host_line NAME: kiln's debug line on how the kernel was loaded.
host_line() { grep -m1 'decompressed on the host' "$LOGDIR/$1.err"; }

# --- Debian's vmlinuz, cold cache then warm: decompressed once, kept ---
if want kcache-cold-warm; then
	rm -rf $KC
	bad=
	KILN_CACHE=$KC kiln_run kcache-cold -v -v --kernel "$KERNEL" \
		--initrd "$GUEST_INITRD" --append "$APPEND_BASE kt=boot"
	ran kcache-cold || bad="$bad; cold: status $RC, /init did not finish"
	host_line kcache-cold | grep -q ', now cached;' ||
		bad="$bad; cold: not decompressed and stored: $(host_line kcache-cold)"
	n=$(ls $KC/kernels 2>/dev/null | wc -l)
	[ "$n" = 1 ] || bad="$bad; $n entries in $KC/kernels, want 1"
	KILN_CACHE=$KC kiln_run kcache-warm -v -v --kernel "$KERNEL" \
		--initrd "$GUEST_INITRD" --append "$APPEND_BASE kt=boot"
	ran kcache-warm || bad="$bad; warm: status $RC, /init did not finish"
	host_line kcache-warm | grep -q ', cached;' ||
		bad="$bad; warm: not from the cache: $(host_line kcache-warm)"
	if [ -n "$bad" ]; then
		result kcache-cold-warm 1 "${bad#; }"
	else
		result kcache-cold-warm 0 "$(host_line kcache-cold | sed 's/^kiln: //'); then cached"
	fi
fi

# --- KASLR: kiln moves the kernel on every boot, nokaslr keeps it ---
if want kaslr-random; then
	texts=
	bad=
	for i in 1 2 3; do
		KILN_CACHE=$KC kiln_run kaslr-$i -v -v --kernel "$KERNEL" \
			--initrd "$GUEST_INITRD" --append "$APPEND_BASE kt=kaslr"
		ran kaslr-$i || bad="$bad; boot $i: status $RC, /init did not finish"
		host_line kaslr-$i | grep -q 'KASLR' ||
			bad="$bad; boot $i: not randomised: $(host_line kaslr-$i)"
		texts="$texts $(text kaslr-$i)"
	done
	distinct=$(echo $texts | tr ' ' '\n' | grep -c . | tr -d ' ')
	uniq=$(echo $texts | tr ' ' '\n' | grep . | sort -u | wc -l | tr -d ' ')
	if [ -n "$bad" ]; then
		result kaslr-random 1 "${bad#; }"
	elif [ "$distinct" != 3 ] || [ "$uniq" -lt 2 ]; then
		result kaslr-random 1 "_text on three boots:$texts (want three, not all the same)"
	else
		result kaslr-random 0 "_text on three boots:$texts"
	fi
fi
if want kaslr-off; then
	texts=
	bad=
	for i in 1 2; do
		KILN_CACHE=$KC kiln_run kaslr-off-$i -v -v --kernel "$KERNEL" \
			--initrd "$GUEST_INITRD" --append "$APPEND_BASE nokaslr kt=kaslr"
		ran kaslr-off-$i || bad="$bad; boot $i: status $RC, /init did not finish"
		host_line kaslr-off-$i | grep -q 'at 0x1000000, virtual offset 0x0$' ||
			bad="$bad; boot $i: $(host_line kaslr-off-$i)"
		texts="$texts $(text kaslr-off-$i)"
	done
	if [ -n "$bad" ]; then
		result kaslr-off 1 "${bad#; }"
	elif [ "$texts" != " ffffffff81000000 ffffffff81000000" ]; then
		result kaslr-off 1 "_text with nokaslr:$texts, want ffffffff81000000 twice"
	else
		result kaslr-off 0 "nokaslr: _text at the link address on both boots"
	fi
fi

# --- a corrupt or truncated cache entry is replaced, the boot goes on ---
if want kcache-corrupt; then
	bad=
	[ -n "$(ls $KC/kernels 2>/dev/null)" ] ||
		KILN_CACHE=$KC "$KILN" run --kernel "$KERNEL" --initrd "$GUEST_INITRD" \
			--append "$APPEND_BASE kt=boot" </dev/null >/dev/null 2>&1
	entry=$(ls $KC/kernels/* 2>/dev/null | head -n1)
	if [ -z "$entry" ]; then
		bad="no cache entry to damage"
	else
		for how in corrupt truncated; do
			if [ $how = corrupt ]; then
				printf 'X' | dd of="$entry" bs=1 seek=30000000 conv=notrunc 2>/dev/null
			else
				truncate -s 20000000 "$entry"
			fi
			KILN_CACHE=$KC kiln_run kcache-$how -v -v --kernel "$KERNEL" \
				--initrd "$GUEST_INITRD" --append "$APPEND_BASE kt=boot"
			ran kcache-$how || bad="$bad; $how: status $RC, /init did not finish"
			grep -q 'is corrupt or truncated: replacing it' "$LOGDIR/kcache-$how.err" ||
				bad="$bad; $how: kiln did not notice"
			host_line kcache-$how | grep -q ', now cached;' ||
				bad="$bad; $how: not stored again: $(host_line kcache-$how)"
		done
	fi
	if [ -n "$bad" ]; then
		result kcache-corrupt 1 "${bad#; }"
	else
		result kcache-corrupt 0 "a flipped byte and a truncated entry: noticed, replaced, booted"
	fi
fi

# --- a cache that cannot be written: decompressed in memory all the same ---
if want kcache-unusable; then
	KILN_CACHE=/proc/kiln kiln_run kcache-unusable -v -v --kernel "$KERNEL" \
		--initrd "$GUEST_INITRD" --append "$APPEND_BASE kt=boot"
	if ! ran kcache-unusable; then
		result kcache-unusable 1 "status $RC, /init did not finish"
	elif ! grep -q 'kernel cache: cannot write' "$LOGDIR/kcache-unusable.err" ||
		! host_line kcache-unusable | grep -q 'on the host, [0-9]* MiB;'; then
		result kcache-unusable 1 "$(grep 'cache\|host' "$LOGDIR/kcache-unusable.err" | head -n3)"
	else
		result kcache-unusable 0 "read-only cache directory: decompressed in memory, booted"
	fi
fi

# --- --kernel-cache=off: the bzImage through its own decompressor ---
if want kernel-cache-off; then
	rm -rf $KC-off
	KILN_CACHE=$KC-off kiln_run kernel-cache-off -v -v --kernel-cache=off \
		--kernel "$KERNEL" --initrd "$GUEST_INITRD" --append "$APPEND_BASE kt=kaslr"
	if ! ran kernel-cache-off; then
		result kernel-cache-off 1 "status $RC, /init did not finish"
	elif host_line kernel-cache-off >/dev/null ||
		! grep -q 'bzImage (boot protocol' "$LOGDIR/kernel-cache-off.err"; then
		result kernel-cache-off 1 "not booted as given: $(grep 'kernel\|bzImage' "$LOGDIR/kernel-cache-off.err" | head -n2)"
	elif [ -e $KC-off ]; then
		result kernel-cache-off 1 "the cache directory was made"
	else
		result kernel-cache-off 0 "bzImage booted as given (its own decompressor), _text $(text kernel-cache-off)"
	fi
fi

# --- aarch64: a gzip-compressed Image (Image.gz, what some distributions
# ship as vmlinuz) is decompressed on the host (x86 kernels come as
# bzImages: the cases above) ---
if [ "$(uname -m)" = aarch64 ] && want boot-image-gz; then
	gzip -c "$KERNEL" >/tmp/Image.gz
	rm -rf $KC
	KILN_CACHE=$KC kiln_run boot-image-gz -v -v --kernel /tmp/Image.gz \
		--initrd "$GUEST_INITRD" --append "$APPEND_BASE kt=boot"
	line=$(grep -m1 'Image decompressed on the host' "$LOGDIR/boot-image-gz.err")
	if ! ran boot-image-gz; then
		result boot-image-gz 1 "status $RC, /init did not finish: $(tail -n2 "$LOGDIR/boot-image-gz.err")"
	elif [ -z "$line" ]; then
		result boot-image-gz 1 "no decompression on the host in kiln's messages"
	else
		result boot-image-gz 0 "${line#kiln: }, ran /init"
	fi
	rm -f /tmp/Image.gz
fi
