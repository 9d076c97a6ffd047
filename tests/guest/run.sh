#!/bin/sh
# tests/guest/run.sh — the guest tests (see guesttest.py for options):
#   EMU=blkemu|qemu tests/guest/run.sh [-k NAME] [--list] [-v]
exec python3 "$(dirname "$0")/guesttest.py" "$@"
