#!/bin/sh
# scripts/deps.sh — the Debian packages blkemu needs, and installing them.
#
#   scripts/deps.sh [--install] GROUP...
#
# Groups: build (compile blkemu), test (unit tests), guest (build the guest
# kit), ref (QEMU as a reference), bench (fio on the host for `make bench`). Prints the missing packages; with
# --install and as root, installs them with apt-get (running `apt-get update`
# first). Exit 1 if anything is still missing.
set -e

install=no
[ "${1:-}" = "--install" ] && { install=yes; shift; }

pkgs=""
for group in "$@"; do
    case "$group" in
    build) pkgs="$pkgs gcc make pkg-config libfdt-dev liburing-dev libaio-dev libjson-c-dev opensbi device-tree-compiler" ;;
    test)  pkgs="$pkgs libcriterion-dev python3" ;;
    guest) pkgs="$pkgs gcc-riscv64-linux-gnu libc6-dev-riscv64-cross binutils-riscv64-linux-gnu linux-source-6.1 bc flex bison libssl-dev libelf-dev dpkg-dev cpio e2fsprogs xz-utils make gzip python3" ;;
    ref)   pkgs="$pkgs qemu-system-misc" ;;
    bench) pkgs="$pkgs fio" ;;
    *) echo "deps.sh: unknown group '$group'" >&2; exit 2 ;;
    esac
done

missing=""
for p in $pkgs; do
    case " $missing " in *" $p "*) continue ;; esac
    if ! dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ $install = yes ] && [ "$(id -u)" = 0 ]; then
    echo "deps.sh: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
    exit 0
fi
echo "deps.sh: missing Debian packages:$missing" >&2
[ "$(id -u)" = 0 ] || echo "deps.sh: run as root, or: sudo apt-get install$missing" >&2
exit 1
