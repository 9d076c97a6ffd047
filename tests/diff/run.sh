#!/bin/sh
# tests/diff/run.sh — differential tests against QEMU; see run.py --help.
exec python3 "$(dirname "$0")/run.py" "$@"
