#!/bin/bash
# scripts/guest-kit.sh — build the riscv64 guest kit from Debian packages only.
#
#   scripts/guest-kit.sh [--print] [--kernel-only] [--userland-only] [--no-deps]
#
# Artefacts (each under ${BLKEMU_CACHE:-$HOME/.cache/blkemu}, in a directory
# named by a hash of its inputs, so a second run finds them and is instant):
#   kernel/KEY/Image           linux-source-6.1, riscv defconfig + scripts/guest/kernel.config
#   busybox/KEY/busybox        static busybox from `apt-get source busybox`
#   fio/KEY/fio                static fio (with libaio from `apt-get source libaio`)
#   iotest/KEY/iotest          scripts/guest/iotest.c (the seed-003 workload), static
#   initramfs/KEY/initramfs.cpio.gz   busybox + fio + scripts/guest/init as /init
#   disk/KEY/disk.ext4         the same userland as a raw ext4 image (/sbin/init)
# and kit/current.env, KEY=path lines (KERNEL INITRD DISK BUSYBOX FIO) that
# other scripts `source`.  The env file is printed at the end.
#
#   --print          print current.env if every artefact is built, else exit 1
#   --kernel-only    build (or find) the kernel only
#   --userland-only  build everything but the kernel (current.env then lacks KERNEL
#                    unless it is already cached)
#   --no-deps        do not call scripts/deps.sh --install guest first
#   --prune          after building, delete kernel/initramfs/disk/busybox/fio
#                    artefacts that current.env no longer names
# Environment: BLKEMU_CACHE, JOBS (default 2), BLKEMU_DEBIAN_MIRROR (deb-src
# URI, default: the system's Debian URI), SOURCE_DATE_EPOCH.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GUEST=$ROOT/scripts/guest
CACHE=${BLKEMU_CACHE:-$HOME/.cache/blkemu}
JOBS=${JOBS:-2}
CROSS=riscv64-linux-gnu-
# Everything we build embeds this time instead of "now": reproducible output.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1672531200}
export KBUILD_BUILD_TIMESTAMP="@$SOURCE_DATE_EPOCH" KBUILD_BUILD_USER=blkemu \
    KBUILD_BUILD_HOST=blkemu KBUILD_BUILD_VERSION=1 LC_ALL=C TZ=UTC
umask 022

log() { echo "guest-kit: $*" >&2; }
die() { echo "guest-kit: error: $*" >&2; exit 1; }

# key NAME INPUT... — 16 hex digits hashing every input string.
key() { printf '%s\0' "$@" | sha256sum | cut -c1-16; }

# run_logged LOG CMD... — run quietly into LOG; on failure show its tail.
run_logged() {
    local logf=$1; shift
    if ! "$@" >>"$logf" 2>&1; then
        tail -n 40 "$logf" >&2
        die "failed: $* (full log: $logf)"
    fi
}

toolchain_id() { "${CROSS}gcc" --version | head -n1; }

# ---------------------------------------------------------------- sources --

# Debian source packages come through a private apt configuration so the
# system's sources.list (which has no deb-src line) is never touched.
apt_private() {
    local d=$CACHE/apt mirror suite
    mirror=${BLKEMU_DEBIAN_MIRROR:-$(sed -n 's/^URIs: *\([^ ]*debian\)\/* *$/\1/p' \
        /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)}
    mirror=${mirror:-http://deb.debian.org/debian}
    suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" \
        >"$d/sources.list"
    APT_OPTS=(-o "Dir::Etc::SourceList=$d/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache"
        -o APT::Sandbox::User=root -q)
    if [ ! -e "$d/lists/.updated" ]; then
        log "apt-get update (private deb-src list: $mirror $suite)"
        apt-get "${APT_OPTS[@]}" update >"$d/update.log" 2>&1 || {
            cat "$d/update.log" >&2; die "apt-get update for deb-src failed"; }
        touch "$d/lists/.updated"
    fi
}

# fetch_source PKG — unpack Debian source PKG once under $CACHE/src/PKG;
# sets SRC (the unpacked tree) and SRCVER (its Debian version).
fetch_source() {
    local pkg=$1 d=$CACHE/src/$1 dsc
    if [ ! -e "$d/.done" ]; then
        apt_private
        rm -rf "$d"; mkdir -p "$d"
        log "apt-get source $pkg"
        if ! (cd "$d" && apt-get "${APT_OPTS[@]}" source --download-only "$pkg" >fetch.log 2>&1); then
            # Stale lists name a version the mirror no longer has: refresh once.
            rm -f "$CACHE/apt/lists/.updated"; apt_private
            (cd "$d" && apt-get "${APT_OPTS[@]}" source --download-only "$pkg" >fetch.log 2>&1) || {
                cat "$d/fetch.log" >&2; die "apt-get source $pkg failed"; }
        fi
        dsc=$(ls "$d"/*.dsc | head -n1)
        (cd "$d" && dpkg-source --no-check -x "$(basename "$dsc")" tree >>fetch.log 2>&1) ||
            die "dpkg-source -x $dsc failed"
        touch "$d/.done"
    fi
    SRC=$d/tree
    SRCVER=$(sed -n 's/^Version: //p' "$d"/*.dsc | head -n1)
}

# ----------------------------------------------------------------- kernel --

kernel_version() { dpkg-query -W -f='${Version}' linux-source-6.1; }

kernel_build() {
    local out=$1 tree=$CACHE/src/linux-$2 obj=$CACHE/build/kernel-$3 t0=$SECONDS
    if [ ! -e "$tree/.done" ]; then
        log "unpacking /usr/src/linux-source-6.1.tar.xz"
        rm -rf "$tree"; mkdir -p "$tree"
        tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$tree" --strip-components=1
        touch "$tree/.done"
    fi
    mkdir -p "$obj"
    local mk=(make -C "$tree" O="$obj" ARCH=riscv CROSS_COMPILE=$CROSS)
    "${mk[@]}" -s defconfig >"$obj/build.log" 2>&1
    (cd "$tree" && KCONFIG_CONFIG=$obj/.config scripts/kconfig/merge_config.sh -m -O "$obj" \
        "$obj/.config" "$GUEST/kernel.config") >>"$obj/build.log" 2>&1
    run_logged "$obj/build.log" "${mk[@]}" olddefconfig
    kernel_check_config "$obj/.config"
    log "building the kernel Image (make -j$JOBS; ~11 min on 2 cores; log $obj/build.log)"
    run_logged "$obj/build.log" "${mk[@]}" -j"$JOBS" Image
    mkdir -p "$out"
    cp "$obj/arch/riscv/boot/Image" "$obj/.config" "$out/"
    mv "$out/.config" "$out/config"
    echo "$((SECONDS - t0))" >"$out/build-seconds"
    log "kernel built in $((SECONDS - t0)) s"
}

# Kconfig silently drops a fragment line whose dependencies are unmet: fail
# instead, so the guest never quietly loses a driver or keeps a debug option.
kernel_check_config() {
    local cfg=$1 line sym bad=0
    while IFS= read -r line; do
        case "$line" in
        CONFIG_*) grep -qxF "$line" "$cfg" || { log "config: wanted $line"; bad=1; } ;;
        "# CONFIG_"*" is not set")
            sym=${line#\# }; sym=${sym%% *}
            ! grep -q "^$sym=" "$cfg" || { log "config: wanted $sym off"; bad=1; } ;;
        esac
    done <"$GUEST/kernel.config"
    [ $bad = 0 ] || die "kernel config fragment not honoured (see above)"
}

do_kernel() {
    local ver k
    ver=$(kernel_version) || die "linux-source-6.1 is not installed"
    k=$(key kernel "$ver" "$(cat "$GUEST/kernel.config")" "$(declare -f kernel_build kernel_check_config)" \
        "$(toolchain_id)")
    KERNEL=$CACHE/kernel/$k/Image
    [ ! -e "$KERNEL" ] || return 0
    # Reuse the object tree of an earlier configuration: kbuild then rebuilds
    # only what the new configuration changes instead of everything.
    local old
    for old in "$CACHE"/build/kernel-*; do
        [ -d "$old" ] && [ "$old" != "$CACHE/build/kernel-$k" ] || continue
        [ -e "$CACHE/build/kernel-$k" ] || mv "$old" "$CACHE/build/kernel-$k"
        rm -rf "$old"
    done
    kernel_build "$CACHE/kernel/$k" "$ver" "$k"
}

# ---------------------------------------------------------------- busybox --

busybox_build() {
    local out=$1 obj=$CACHE/build/busybox-$2 sym
    rm -rf "$obj"; cp -a "$SRC" "$obj"
    local mk=(make -C "$obj" CROSS_COMPILE=$CROSS)
    run_logged "$obj/build.log" "${mk[@]}" allnoconfig
    # Turn on each wanted symbol, then let oldconfig give the options they
    # unlock their defaults.
    while read -r sym; do
        case "$sym" in ''|'#'*) continue ;; esac
        sed -i "/^# ${sym%%=*} is not set\$/d; /^${sym%%=*}=/d" "$obj/.config"
        echo "$sym" >>"$obj/.config"
    done <"$GUEST/busybox.config"
    yes '' | "${mk[@]}" oldconfig >>"$obj/build.log" 2>&1 || true
    while read -r sym; do
        case "$sym" in ''|'#'*) continue ;; esac
        grep -qxF "$sym" "$obj/.config" || die "busybox: $sym did not stick"
    done <"$GUEST/busybox.config"
    run_logged "$obj/build.log" "${mk[@]}" -j"$JOBS" busybox busybox.links
    mkdir -p "$out"
    cp "$obj/busybox" "$obj/busybox.links" "$out/"
    cp "$obj/.config" "$out/config"
}

do_busybox() {
    local k
    fetch_source busybox
    k=$(key busybox "$SRCVER" "$(cat "$GUEST/busybox.config")" "$(declare -f busybox_build)" \
        "$(toolchain_id)")
    BUSYBOX=$CACHE/busybox/$k/busybox
    if [ ! -e "$BUSYBOX" ]; then
        log "building busybox $SRCVER"
        busybox_build "$CACHE/busybox/$k" "$k"
        rm -rf "$CACHE/build/busybox-$k"
    fi
}

# ------------------------------------------------------------ libaio, fio --

libaio_build() {
    local out=$1 obj=$CACHE/build/libaio-$2
    rm -rf "$obj"; cp -a "$SRC" "$obj"
    run_logged "$obj/build.log" make -C "$obj/src" CC="${CROSS}gcc" AR="${CROSS}ar" \
        RANLIB="${CROSS}ranlib" libaio.a
    mkdir -p "$out/lib" "$out/include"
    cp "$obj/src/libaio.a" "$out/lib/"
    cp "$obj/src/libaio.h" "$out/include/"
}

fio_build() {
    local out=$1 obj=$CACHE/build/fio-$2 aio=$3
    rm -rf "$obj"; cp -a "$SRC" "$obj"
    # fio's Makefile takes SRCDIR from the environment: keep it out.
    # -ffile-prefix-map and no build id keep the binary identical between runs
    # and cache directories.
    (cd "$obj" && run_logged "$obj/build.log" env -u SRCDIR LDFLAGS="-L$aio/lib -Wl,--build-id=none" ./configure \
        --cc="${CROSS}gcc" --build-static --disable-native --disable-numa --disable-rdma \
        --disable-rados --disable-rbd --disable-http --disable-gfapi --disable-libnfs \
        --disable-pmem --disable-xnvme --disable-libzbc --disable-tcmalloc --disable-dfs \
        --extra-cflags="-I$aio/include -ffile-prefix-map=$obj=fio -ffile-prefix-map=$aio=libaio")
    grep -q '^CONFIG_LIBAIO=y' "$obj/config-host.mak" || die "fio: libaio not detected (see $obj/config.log)"
    run_logged "$obj/build.log" env -u SRCDIR make -C "$obj" -j"$JOBS" fio
    mkdir -p "$out"
    ! "${CROSS}readelf" -l "$obj/fio" | grep -q INTERP || die "fio: not linked statically"
    "${CROSS}strip" -o "$out/fio" "$obj/fio"
    cp "$obj/config-host.mak" "$out/"
}

do_fio() {
    local k aio
    fetch_source libaio
    k=$(key libaio "$SRCVER" "$(declare -f libaio_build)" "$(toolchain_id)")
    aio=$CACHE/libaio/$k
    if [ ! -e "$aio/lib/libaio.a" ]; then
        log "building libaio $SRCVER"
        libaio_build "$aio" "$k"
        rm -rf "$CACHE/build/libaio-$k"
    fi
    fetch_source fio
    k=$(key fio "$SRCVER" "$k" "$(declare -f fio_build)" "$(toolchain_id)")
    FIO=$CACHE/fio/$k/fio
    if [ ! -e "$FIO" ]; then
        log "building fio $SRCVER"
        fio_build "$CACHE/fio/$k" "$k" "$aio"
        rm -rf "$CACHE/build/fio-$k"
    fi
}

# ----------------------------------------------------------------- iotest --

# The seed-003 workload (scripts/guest/iotest.c): Linux AIO through raw
# system calls, so it needs nothing but the cross compiler's libc.
iotest_build() {
    local out=$1
    mkdir -p "$out"
    "${CROSS}gcc" -static -O2 -Wall -Wextra -Werror -ffile-prefix-map="$GUEST=guest" \
        -Wl,--build-id=none -o "$out/iotest.tmp" "$GUEST/iotest.c"
    "${CROSS}strip" "$out/iotest.tmp"
    mv "$out/iotest.tmp" "$out/iotest"
}

do_iotest() {
    local k
    k=$(key iotest "$(cat "$GUEST/iotest.c")" "$(declare -f iotest_build)" "$(toolchain_id)")
    IOTEST=$CACHE/iotest/$k/iotest
    [ -e "$IOTEST" ] || { log "building iotest"; iotest_build "$CACHE/iotest/$k"; }
}

# ------------------------------------------------------ initramfs and disk --

# rootfs_tree DIR — the guest's file tree: busybox with its applet links,
# fio, /init and /sbin/init, fio job files, mount points.
rootfs_tree() {
    local d=$1 link
    rm -rf "$d"
    mkdir -p "$d"/{bin,sbin,usr/bin,usr/sbin,etc/fio,proc,sys,dev,tmp,run,root,mnt}
    chmod 1777 "$d/tmp"
    install -m 755 "$BUSYBOX" "$d/bin/busybox"
    while read -r link; do
        [ "$link" = /bin/busybox ] || [ -e "$d$link" ] || ln -s /bin/busybox "$d$link"
    done <"$(dirname "$BUSYBOX")/busybox.links"
    install -m 755 "$FIO" "$d/usr/bin/fio"
    install -m 755 "$IOTEST" "$d/usr/bin/iotest"
    install -m 755 "$GUEST/init" "$d/init"
    ln -sf /init "$d/sbin/init"
    install -m 644 "$GUEST"/fio/*.fio "$d/etc/fio/"
    printf 'root:x:0:0:root:/root:/bin/sh\n' >"$d/etc/passwd"
    printf 'root:x:0:\n' >"$d/etc/group"
    printf 'PS1="blkemu# "\nexport PS1\n' >"$d/etc/profile"
    # Every time is SOURCE_DATE_EPOCH so the archives are reproducible.
    find "$d" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}

initramfs_build() {
    local out=$1 tree=$CACHE/build/rootfs-$2
    rootfs_tree "$tree"
    mkdir -p "$out"
    # Sorted names, owner root, fixed times, gzip -n: a bit-identical archive.
    # A second archive appended to it holds /dev/console and /dev/null, which
    # the kernel needs before /init can mount devtmpfs; it is written here
    # because making device nodes on the host would need root.
    {
        (cd "$tree" && find . -mindepth 1 | LC_ALL=C sort |
            cpio --quiet -o -H newc -R 0:0 --reproducible)
        python3 - "$SOURCE_DATE_EPOCH" <<'PY'
import sys
mtime = int(sys.argv[1])
out = bytearray()
def entry(name, mode, rdev=(0, 0), ino=0):
    name_b = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 1, mtime, 0, 0, 0, rdev[0], rdev[1], len(name_b), 0]
    out.extend(b"070701" + b"".join(b"%08X" % f for f in fields) + name_b)
    out.extend(b"\0" * (-len(out) % 4))
entry("dev", 0o040755, ino=900001)
entry("dev/console", 0o020600, (5, 1), 900002)
entry("dev/null", 0o020666, (1, 3), 900003)
entry("TRAILER!!!", 0)
sys.stdout.buffer.write(bytes(out))
PY
    } | gzip -n -9 >"$out/initramfs.cpio.gz.tmp"
    mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
}

disk_build() {
    local out=$1 tree=$CACHE/build/rootfs-$2 img=$1/disk.ext4.tmp
    rootfs_tree "$tree"
    mkdir -p "$out"
    rm -f "$img"
    # E2FSPROGS_FAKE_TIME and a fixed UUID and hash seed: identical images.
    # mke2fs -d sorts names but copies each host inode's ctime, which no
    # tool can set; debugfs rewrites them afterwards.
    export E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH
    run_logged "$out/mkfs.log" mkfs.ext4 -q -F -d "$tree" -L blkemu-root \
        -U 5d5a6d1c-0b1e-4e6b-9a4f-626c6b656d75 \
        -E hash_seed=5d5a6d1c-0b1e-4e6b-9a4f-626c6b656d75,root_owner=0:0 \
        -I 256 -b 4096 -m 0 "$img" 64M
    (cd "$tree" && find . | LC_ALL=C sort |
        sed "s|^\.||; s|^\$|/|; s|.*|sif \"&\" ctime @$SOURCE_DATE_EPOCH|") >"$out/ctime.cmds"
    run_logged "$out/mkfs.log" debugfs -w -f "$out/ctime.cmds" "$img"
    unset E2FSPROGS_FAKE_TIME
    rm -f "$out/ctime.cmds"
    mv "$img" "$out/disk.ext4"
}

do_userland() {
    local k
    do_busybox
    do_fio
    do_iotest
    # Contents, not paths: the same inputs give the same key in any cache.
    k=$(key rootfs "$(cat "$BUSYBOX" "$FIO" "$IOTEST" "$GUEST/init" "$GUEST"/fio/*.fio | sha256sum)" \
        "$(declare -f rootfs_tree initramfs_build)")
    INITRD=$CACHE/initramfs/$k/initramfs.cpio.gz
    [ -e "$INITRD" ] || { log "packing the initramfs"; initramfs_build "$CACHE/initramfs/$k" "i$k"
        rm -rf "$CACHE/build/rootfs-i$k"; }
    k=$(key disk "$k" "$(declare -f disk_build)" "$(mkfs.ext4 -V 2>&1 | head -n1)")
    DISK=$CACHE/disk/$k/disk.ext4
    [ -e "$DISK" ] || { log "making the ext4 disk image"; disk_build "$CACHE/disk/$k" "d$k"
        rm -rf "$CACHE/build/rootfs-d$k"; }
}

# kernel_if_cached — set KERNEL if the current config's Image is already built.
kernel_if_cached() {
    local ver k
    ver=$(kernel_version) || return 0
    k=$(key kernel "$ver" "$(cat "$GUEST/kernel.config")" "$(declare -f kernel_build kernel_check_config)" \
        "$(toolchain_id)")
    [ ! -e "$CACHE/kernel/$k/Image" ] || KERNEL=$CACHE/kernel/$k/Image
}

# write_env — record what was built in kit/current.env (merged with what an
# earlier partial run recorded) and print it.
write_env() {
    local env=$CACHE/kit/current.env v
    mkdir -p "$CACHE/kit"
    if [ -e "$env" ]; then
        local old_kernel old_initrd old_disk old_busybox old_fio
        old_kernel=$(. "$env"; echo "${KERNEL:-}"); old_initrd=$(. "$env"; echo "${INITRD:-}")
        old_disk=$(. "$env"; echo "${DISK:-}"); old_busybox=$(. "$env"; echo "${BUSYBOX:-}")
        old_fio=$(. "$env"; echo "${FIO:-}")
        KERNEL=${KERNEL:-$old_kernel} INITRD=${INITRD:-$old_initrd} DISK=${DISK:-$old_disk}
        BUSYBOX=${BUSYBOX:-$old_busybox} FIO=${FIO:-$old_fio}
    fi
    {
        echo "# written by scripts/guest-kit.sh; source it"
        for v in KERNEL INITRD DISK BUSYBOX FIO; do echo "$v=${!v}"; done
    } >"$env.tmp"
    mv "$env.tmp" "$env"
    cat "$env"
}

# prune_cache — remove artefact directories current.env does not name.
prune_cache() {
    local d keep
    keep=$(cat "$CACHE/kit/current.env")
    for d in "$CACHE"/{kernel,initramfs,disk,busybox,fio,iotest}/*/; do
        [ -d "$d" ] || continue
        case "$keep" in *"=${d%/}/"*) continue ;; esac
        log "pruning ${d%/}"
        rm -rf "$d"
    done
}

# ------------------------------------------------------------------- main --

main() {
    local what=all print=no deps=yes prune=no
    while [ $# -gt 0 ]; do
        case "$1" in
        --print) print=yes ;;
        --kernel-only) what=kernel ;;
        --userland-only) what=userland ;;
        --no-deps) deps=no ;;
        --prune) prune=yes ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option '$1' (try --help)" ;;
        esac
        shift
    done
    if [ $print = yes ]; then
        [ -e "$CACHE/kit/current.env" ] || exit 1
        ( . "$CACHE/kit/current.env"; for f in "$KERNEL" "$INITRD" "$DISK"; do [ -e "$f" ]; done ) ||
            exit 1
        cat "$CACHE/kit/current.env"; exit 0
    fi
    [ $deps = no ] || "$ROOT/scripts/deps.sh" --install guest
    mkdir -p "$CACHE/build"
    KERNEL="" INITRD="" DISK="" BUSYBOX="" FIO=""
    # One builder at a time per part of the cache (make check and make run
    # may race); the kernel and the userland may build side by side.
    if [ $what != kernel ]; then
        exec 8>"$CACHE/.lock-userland"; flock 8
        do_userland
    fi
    if [ $what = userland ]; then
        kernel_if_cached
    else
        exec 9>"$CACHE/.lock-kernel"; flock 9
        do_kernel
    fi
    exec 7>"$CACHE/.lock-env"; flock 7
    write_env
    [ $prune = no ] || prune_cache
}

main "$@"
