#!/bin/sh
# scripts/run.sh — what `make run` does: build the guest kit (cached under
# ~/.cache/blkemu) and boot Linux on blkemu with two harts, from the kit's
# ext4 disk image on virtio-blk (root=/dev/vda). The guest prints `uname -a`
# and its CPU count, then runs a short fio job (4k random reads, io_uring,
# O_DIRECT) on a second virtio disk and prints fio's result. With a terminal
# you are then left at a shell (exit, Ctrl-D or Ctrl-A x ends it); without
# one the guest powers off and blkemu exits 0.
#
# The disks live in $BUILD/run/ (a private copy of the kit's image, so your
# changes persist between runs and the cached image stays pristine).
# Extra arguments go to blkemu, e.g.  make run ARGS="-smp 4".
set -e
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
scripts/guest-kit.sh >/dev/null
CACHE=${BLKEMU_CACHE:-$HOME/.cache/blkemu}
. "$CACHE/kit/current.env"

dir=$BUILD/run
mkdir -p "$dir"
# A new kit image (another kernel or userland) replaces the old copy.
if [ ! -f "$dir/disk.ext4" ] || [ "$(cat "$dir/disk.src" 2>/dev/null)" != "$DISK" ]; then
    cp "$DISK" "$dir/disk.ext4"
    echo "$DISK" >"$dir/disk.src"
fi
[ -f "$dir/scratch.img" ] || truncate -s 256M "$dir/scratch.img"

if [ -t 0 ] && [ -t 1 ]; then
    jobs=uname,fio,shell
else
    jobs=uname,fio
fi
fio="--name=randread --filename=/dev/vdb --rw=randread --bs=4k --direct=1"
fio="$fio --ioengine=io_uring --iodepth=16 --size=256m --runtime=3 --time_based"
set -x
exec "$BUILD/blkemu" -M virt -m 1G -smp 2 -kernel "$KERNEL" \
    -drive "file=$dir/disk.ext4,if=virtio,format=raw" \
    -drive "file=$dir/scratch.img,if=virtio,format=raw" \
    -append "console=ttyS0 root=/dev/vda rw rootwait blkemu.job=$jobs blkemu.fiofmt=normal blkemu.fio=\"$fio\"" \
    "$@"
