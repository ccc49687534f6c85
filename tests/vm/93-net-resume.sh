#!/bin/bash
# One install through the fault proxy (tests/faultproxy.py) with, on the
# image: a reset at 30%, then at 60%, then at 95% of the file, then three
# 503 answers, then 60 s of refused connections, then success. The install
# completes (exit 0, sha256 verified) and the installed system boots to its
# first-boot marker; the proxy's log shows each resume asking for Range from
# where the guest's data stopped (at most the bytes the proxy had sent, at
# least that minus 8 MiB in flight) and the installer's "Resuming at byte N"
# lines name the same offsets; bytes sent = image size + what the resets
# lost in flight; a disk holding ext4 beside the target keeps its sha256.
# The work is tests/vm/faults.py's case "network" (docs/testing.md).
set -euo pipefail
exec python3 "$(dirname "$0")/faults.py" --name "$(basename "$0" .sh)" --boot --group 93
