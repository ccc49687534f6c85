#!/bin/bash
# PXE-boots the real boot image through iPXE with a blank 3 GiB virtio disk
# and a known MAC, in dry-run mode: the installer must find that disk (size)
# and that NIC (MAC), fetch and validate the profile, print the plan, and
# write nothing.
. "$(dirname "$0")/lib.sh"

MAC=52:54:00:12:34:56
cat > "$T/profiles/default.yaml" <<'YAML'
version: 1
hostname: plan-test
disk:
  select: { transport: virtio }
  partitions:
    - { size: 256MiB, fs: swap }
    - { size: rest, fs: ext4, mount: / }
image:
  url: http://10.0.2.100/images/debian12.tar.zst
  sha256: 0000000000000000000000000000000000000000000000000000000000000000
users:
  - name: admin
    password_hash: "!"
    ssh_authorized_keys: [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHYCnJ5PLuIoMsXW6YvbF6XJf2gLlFsp3JSy16PdpqyR test" ]
YAML
make_www "inst.finish=poweroff inst.dryrun"
make_disk "$T/disk.raw" 3G

log "PXE boot (TCG), waiting for the guest to power off"
pxeboot --disk "$T/disk.raw" --mac "$MAC" --timeout 300 || die "the guest did not power off in time"

expect_log "disk /dev/vda 3.0 GiB (3221225472 bytes) virtio"
expect_log "nic eth0 $MAC"
expect_log "----- BEGIN INVENTORY -----"
expect_log "<== fetch-profile done"
expect_log "http://10.0.2.100/profiles/default.yaml"
expect_log "<== validate done"
expect_log "Target:     /dev/vda  3.0 GiB  virtio"
expect_log "<== plan done"
expect_log "dry run: stopping after the plan"
expect_log "INIT: installer exited with status 0"
all_zero "$T/disk.raw" || die "the disk was written in a dry run"
log "ok: disk and NIC found, profile fetched and validated, plan printed, disk untouched"
