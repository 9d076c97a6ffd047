#!/bin/sh
# tests/qmp/run.sh — the control-socket tests with the guest kit (see
# qmptest.py for options): tests/qmp/run.sh [-k NAME] [--list] [-v]
exec python3 "$(dirname "$0")/qmptest.py" "$@"
