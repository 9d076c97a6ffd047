#!/bin/sh
# scripts/run.sh — what `make run` does: build the guest kit (cached under
# ~/.cache/blkemu) and boot Linux on blkemu with two harts. The guest prints
# `uname -a` and its CPU count; with a terminal you are then left at a
# shell (exit, Ctrl-D or Ctrl-A x ends it), without one it powers off and
# blkemu exits 0.
#
# Extra arguments are passed to blkemu, e.g.  make run ARGS="-smp 4".
set -e
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
scripts/guest-kit.sh >/dev/null
CACHE=${BLKEMU_CACHE:-$HOME/.cache/blkemu}
. "$CACHE/kit/current.env"
if [ -t 0 ] && [ -t 1 ]; then
    job=uname,shell
else
    job=uname
fi
set -x
exec "$BUILD/blkemu" -M virt -m 1G -smp 2 -kernel "$KERNEL" -initrd "$INITRD" \
    -append "console=ttyS0 blkemu.job=$job" "$@"
