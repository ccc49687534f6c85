#!/bin/bash
# Failing netboots through the fault proxy (tests/faultproxy.py), each a
# short PXE boot of a fresh guest: the image trickles below the profile's
# min_rate (fails with "gave up after 2 attempts" within attempts x window),
# the server ignores Range after a reset (200: "server ignored the Range
# request"), the file changes after a reset (another ETag: "the file changed
# on the server"), 404 on the image (fails at once: one request). Each: exit
# status 5 and the error on the console, no bootloader phase, the
# install-in-progress mark on the target, the target booted alone (no
# network) starts no kernel, the disk beside it unchanged. The cases are
# tests/vm/faults.py's "trickle range-ignored file-changed 404"
# (docs/testing.md).
set -euo pipefail
exec python3 "$(dirname "$0")/faults.py" --name "$(basename "$0" .sh)" --group 94
