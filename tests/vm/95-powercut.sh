#!/bin/bash
# Three representative power cuts, chained on one disk (tests/vm/powercut.py
# --chain): SIGKILL to QEMU right after the partition step, at 40% of the
# image, and right after the bootloader step (everything written but the MBR
# boot code). After each cut the disk is booted alone, without network: no
# kernel, no login prompt. Each following netboot's plan says the disk holds
# this installer's unfinished install (the profile has wipe: false), the
# last one completes and the installed system boots to its first-boot
# marker; a disk holding ext4 beside the target keeps its sha256. The full
# matrix is `make powercut` (docs/testing.md).
set -euo pipefail
exec python3 "$(dirname "$0")/powercut.py" --name "$(basename "$0" .sh)" --chain \
	--points partition-done,image-40,bootloader-done
