/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Carrying out the disk part of a plan: check the target once more, wipe it,
 * write the partition table, make the filesystems.
 *
 * Every function that takes a disk path also accepts a regular file (a disk
 * image), so that all of this is testable without root. libparted and libblkid
 * are called only here; their conventions (exception handler and booleans;
 * 1 = nothing found, -2 = ambiguous) are converted to -errno. Functions with a
 * ret_error argument set it on failure (when non-NULL) to an allocated
 * message naming the device and the reason, e.g.
 *   "Refusing to write /dev/vda: it holds data (gpt partition table), but the
 *    plan expected a blank disk (did the disk change since the plan was made?)"
 * and leave it untouched on success (the caller frees it). Nothing here logs above debug level. */

#include "plan/plan.h"

/* ---- identity: the disk written is the disk that was planned ----------------
 *
 * The plan names a disk by its kernel name (/dev/vda), but the kernel reuses
 * names: a disk pulled and another plugged in (or a controller that reset)
 * can take the name after the plan was made. So every destructive step
 * first checks, through the file descriptor it is about to write with, that
 * the block device is the inventory's disk: the same device number (when the
 * inventory was detected on this machine: HwDisk.major/minor), size, logical
 * sector size, serial, WWN, WWID and by-path name (hw_disk_identify() reads
 * them again from sysfs). A mismatch is -ESTALE with a message naming the
 * device, what was planned and what was found, e.g.
 *   "Refusing to write /dev/vda: it is not the disk the plan was made for
 *    (/dev/vda, serial disk0); serial: planned "disk0", found "other". Nothing
 *    was written to it"
 * The installer exits with status 6 (install failed); nothing was written.
 * A regular file (a disk image, in tests) has no identity beyond its size,
 * which disk_check_target() compares.
 *
 * disk_check_target(), disk_check_mirror(), disk_wipe(), disk_wipe_replaced()
 * and disk_partition() verify it themselves. Steps that write to partitions,
 * arrays, LUKS or LVM built on the disks (disk_wipe_signatures, disk_mkfs,
 * disk_md_create, disk_luks_format, disk_lvm_create_vg) call
 * disk_verify_plan() right before they start. */

/* Is the block device `path` (or the one fd is open on) the disk `planned`?
 * 0, -ESTALE (the message says what differs), -ENOTBLK, -ENOMEM, -errno of
 * open(). */
int disk_verify_identity(const HwDisk *planned, const char *path, char **ret_error);
int disk_verify_identity_fd(const HwDisk *planned, int fd, const char *path, char **ret_error);
/* The comparison alone (FOUND as hw_disk_identify() read it). 0 or -ESTALE. */
int disk_identity_compare(const HwDisk *planned, const HwDisk *found, const char *path, char **ret_error);
/* Which of the plan's disks `path` names: the mirror disk when it is one of
 * the mirror's names, else the target disk. */
const HwDisk *disk_planned_disk(const Plan *plan, const char *path);
/* Both of the plan's disks (the target by its devnode, and the mirror if
 * any) are still the planned ones: disk_verify_identity() on each. */
int disk_verify_plan(const Plan *plan, char **ret_error);

/* Right before the first write: is `path` still the disk the plan was made
 * for, and is it safe to write? Opens `path` read-only (and, for a block
 * device, once with O_EXCL to see whether anyone holds it). Returns 0 when it
 * may be written, else:
 *   -ENOTBLK    neither a block device nor a regular file
 *   -ESTALE     its size (or logical sector size) differs from the inventory's
 *               for the plan's target disk, or (a block device) it is not the
 *               planned disk (see above: serial, WWN, device number...)
 *   -EROFS      the block device is read-only
 *   -EBUSY      it or one of its partitions is mounted, used as swap, held by
 *               RAID/device-mapper, or otherwise opened exclusively
 *   -ENOTUNIQ   libblkid finds ambiguous signatures (refused even when
 *               plan->wipe is set: what is on the disk is not known)
 *   -ENOTEMPTY  it holds a partition table or a filesystem/RAID/LVM/crypto
 *               signature and plan->wipe is false
 *   other -errno when it cannot be opened or probed. */
int disk_check_target(const Plan *plan, const char *path, char **ret_error);
/* The same for the plan's mirror disk (disk.mirror), against its inventory
 * entry and plan->mirror_wipe. -EINVAL without a mirror. */
int disk_check_mirror(const Plan *plan, const char *path, char **ret_error);

/* Dirty disks: release what the running system holds on the block device
 * `path` and its partitions, top down: unmount filesystems (never "/"),
 * swapoff, deactivate LVM volume groups (lvm vgchange -an), close LUKS and
 * other dm-crypt mappings (cryptsetup close), remove other device-mapper
 * devices (dmsetup remove), stop md arrays (mdadm --stop). A stack that is
 * also built on another disk (an md array with a member elsewhere, a volume
 * group with a physical volume elsewhere) is refused with -EBUSY before
 * anything is released: releasing it could write to that disk. Writes no
 * signature and no data (stopping an array updates its superblocks, which
 * are on the target). *ret_summary: what was released ("stopped md array
 * /dev/md127; ..."), NULL when nothing was. A regular file: nothing to do. */
int disk_teardown(const char *path, char **ret_summary, char **ret_error);

/* ---- the install-in-progress mark (mark.c; format: hw/hw.h, HwInstallMark) ---
 *
 * Written to the MBR boot code area (bytes 0..439 of LBA 0) of the target
 * (and the mirror) before anything else is written: a BIOS that tries the
 * disk runs its stub and moves on to the next boot device, and the next
 * netboot recognises the unfinished install (plan.h, PLAN_WIPE_UNFINISHED).
 * disk_wipe() and disk_wipe_replaced() keep it, disk_partition() rewrites it
 * with the new table's identifier, and the install's last step replaces it:
 * BIOS with the boot code (boot_write_mbr_code()), UEFI with zeros
 * (disk_mark_clear()). Each write is one 512-byte write of LBA 0 (bytes
 * 440..511 as they were), then fsync. */

/* Write the mark on path (the plan's target or mirror, opened and verified
 * like disk_wipe()): this machine's hw_inventory_machine_id(), the disk's
 * size, the time, no table id; flag KEPT_PARTITIONS for a reinstall. */
int disk_mark_write(const Plan *plan, const char *path, char **ret_error);
/* Zero the boot code area, mark or not (UEFI: the install is complete). */
int disk_mark_clear(const Plan *plan, const char *path, char **ret_error);
/* The mark on the disk fd is open on: 1 and *ret, or 0 and NULL (none, or
 * one that does not verify), or -errno. */
int disk_mark_read_fd(int fd, HwInstallMark **ret);
/* Write m to the disk fd is open on, then fsync. */
int disk_mark_write_fd(int fd, const HwInstallMark *m);

/* Erase every signature libblkid knows, like `wipefs --all`: first on each
 * partition found in the existing partition table (so that stale RAID, LVM or
 * filesystem metadata cannot reappear when partitions are recreated at the
 * same offsets), then on the whole disk (partition tables, including the GPT
 * backup at the end). Then zero the first and the last MiB (MBR boot code,
 * GPT primary and backup), except an install-in-progress mark in bytes
 * 0..439, which stays (boot code that is not a mark is zeroed). Nothing is discarded. fsync()s, and on a block
 * device re-reads the partition table (BLKRRPART). A block device is opened
 * with O_EXCL, so a disk in use is refused with -EBUSY; then verified to be
 * the plan's disk that `path` names (disk_planned_disk(): the target, or the
 * mirror), -ESTALE before any write when it is not. */
int disk_wipe(const Plan *plan, const char *path, char **ret_error);

/* Reinstall (plan->keep_table): erase every signature libblkid knows on each
 * partition of the existing table that the plan does not preserve, so that
 * old RAID, LVM, LUKS, swap or filesystem metadata cannot reassemble. The
 * partition table itself, the preserved partitions and the space between
 * partitions are not touched (a preserved partition found elsewhere than
 * the plan saw it: -ESTALE). Opened and verified like disk_wipe().
 *
 * It also makes the disk unbootable until the bootloader step writes boot
 * code again, so that a reinstall that fails half way never starts the old
 * system's boot loader on a half-written disk: the MBR boot code area (bytes
 * 0-439) is zeroed unless it holds the install-in-progress mark, which
 * stays (the disk signature at 440 and the partition entries at 446 stay), and on a GPT disk the legacy BIOS bootable attribute (bit 2)
 * is cleared on every partition, on an msdos disk the active flag (0x80)
 * of every primary partition; both tables' checksums are updated (primary
 * and backup GPT). UEFI: an old ESP that is replaced is one of the
 * partitions whose signatures are erased here (its FAT gone, firmware finds
 * no EFI/BOOT/BOOTX64.EFI on it); a preserved one (only possible unmounted)
 * is never written, by definition. */
int disk_wipe_replaced(const Plan *plan, const char *path, char **ret_error);

/* Erase every signature libblkid knows on path (a new partition, before
 * mkfs: old metadata in what was free space or another partition's middle),
 * like `wipefs --all path`. A block device is opened with O_EXCL. */
int disk_wipe_signatures(const char *path, char **ret_error);

/* Write a fresh partition table (plan->table) with libparted, each partition
 * at exactly its planned start and size, with its GPT name (PlanPartition.name
 * or the role name), type and flags:
 *   BIOS boot -> bios_grub; ESP -> esp (GPT: also boot, its alias); swap ->
 *   Linux swap; root with legacy_boot -> legacy_boot (GPT attribute bit 2);
 *   boot_flag -> boot (msdos active flag); others -> by filesystem: Linux
 *   filesystem data (GPT) / 0x83, FAT32 -> Microsoft basic data / 0x0c (lba),
 *   no filesystem -> Linux filesystem data / 0x83.
 * msdos tables hold at most 4 (primary) partitions (-EOPNOTSUPP). On a block
 * device the kernel is told about the new partitions (BLKPG); wait for their
 * device nodes with disk_wait_partitions(). Afterwards the install-in-progress
 * mark, if the disk has one, is rewritten with the new table's PTUUID;
 * without one the boot code area is zeroed (libparted writes its own boot
 * code into a blank msdos MBR). libparted's messages are captured,
 * never printed, and no question is ever asked (warnings are ignored, errors
 * cancel the operation). */
int disk_partition(const Plan *plan, const char *path, char **ret_error);
/* (disk_partition() verifies the identity like disk_wipe() first.) */

/* The device node of partition `number` of `disk`: /dev/vda -> /dev/vda2,
 * /dev/nvme0n1, /dev/loop0, /dev/mmcblk0 (ending in a digit) -> ...p2.
 * Returns 0, -EINVAL (empty disk name, number 0) or -ENOMEM. */
int disk_partition_devnode(const char *disk, unsigned number, char **ret);

/* Wait until the device nodes of partitions 1..n of the block device `disk`
 * (its kernel name, /dev/vda, not a /dev/disk/by-* link) exist: devtmpfs
 * creates them once the kernel knows the partitions (the boot image has no
 * udev). If the kernel does not know them, asks it to re-read the partition
 * table (BLKRRPART) once. Returns 0, -ETIMEDOUT, -ENOTBLK when `disk`
 * is not a block device, or another -errno. */
int disk_wait_partitions(const char *disk, unsigned n, unsigned timeout_ms);
/* The same for the partitions numbered numbers[0..n) (a reinstall keeps
 * the numbers of preserved partitions, which may leave holes). */
int disk_wait_partition_numbers(const char *disk, const unsigned *numbers, size_t n, unsigned timeout_ms);

/* Make the filesystem p->fs on devnode (a partition, or a regular file) with
 * the real tools, called by full path (busybox applets would shadow them):
 *   ext4  /sbin/mke2fs -t ext4 -F -q [-L label]
 *   swap  /sbin/mkswap [-L label]
 *   vfat  /sbin/mkfs.fat -F 32 --mbr=n [-n LABEL]   (label upper-cased)
 *   xfs   /sbin/mkfs.xfs -f [-L label]              (-ENOENT if not installed)
 * With $SOURCE_DATE_EPOCH set, UUIDs (and ext4's hash seed, FAT's volume id)
 * are derived from it and p->number, so that two runs produce identical
 * filesystem identifiers. The tool runs through process_run(); its output
 * becomes the error message, and a tool that fails returns -EPROTO. Afterwards the filesystem is probed with
 * libblkid and its UUID returned in *ret_fs_uuid (FAT: "XXXX-XXXX"). FS_NONE
 * does nothing and returns NULL. */
int disk_mkfs(const PlanPartition *p, const char *devnode, char **ret_fs_uuid, char **ret_error);

/* ---- RAID1 (md.c) ------------------------------------------------------------ */

/* modprobe -a MODULES... (NULL-terminated), e.g. md_mod raid1. */
int disk_load_modules(char *const modules[], char **ret_error);

/* mdadm --create /dev/NAME --run --metadata=METADATA --level=1
 * --raid-devices=N --homehost=HOMEHOST --name=NAME MEMBERS...
 * (--run: no question about what the members held; they were just
 * partitioned). The array resyncs in the background. */
int disk_md_create(const char *name, const char *metadata, char *const members[], size_t n_members,
                   const char *homehost, char **ret_error);

/* The array's line for mdadm.conf ("ARRAY /dev/md0 metadata=1.2 name=...
 * UUID=..."), from mdadm --detail --brief. */
int disk_md_conf_line(const char *name, char **ret_line, char **ret_error);

/* mdadm --stop /dev/NAME. A resync still running is interrupted; md keeps
 * its checkpoint in the superblock and carries on from there when the
 * installed system assembles the array. */
int disk_md_stop(const char *name, char **ret_error);

/* /sys/block/NAME/md/sync_speed_max: VALUE in KiB/s ("1000"), or "system"
 * for the system-wide /proc/sys/dev/raid/speed_limit_max again. The
 * setting belongs to the running array and is gone once it is stopped. */
int disk_md_set_sync_speed_max(const char *name, const char *value);

/* One line on the array's background sync, for the log: "md1: resync 12.5%
 * (400 of 3200 MiB), 20000 KiB/s" or "md1: idle". */
int disk_md_sync_status(const char *name, char **ret);

/* ---- LUKS2 (luks.c) ----------------------------------------------------------- */

/* The key for cryptsetup: /run/installer-keys/NAME.key, mode 0400 in a
 * 0700 directory (RAM). *ret_path goes to disk_luks_key_remove(), which
 * overwrites the file with zeros and removes it (NULL: nothing). */
int disk_luks_key_write(const char *name, const void *key, size_t size, char **ret_path);
void disk_luks_key_remove(const char *path);

/* cryptsetup luksFormat --type luks2 --batch-mode --pbkdf argon2id
 * --pbkdf-memory 131072 --label NAME --key-file KEY_FILE DEVNODE, then the
 * LUKS UUID as libblkid reads it from the new header. */
int disk_luks_format(const char *devnode, const char *name, const char *key_file, char **ret_uuid, char **ret_error);

/* cryptsetup open --type luks2 --key-file KEY_FILE DEVNODE NAME; waits for
 * /dev/mapper/NAME (returned in *ret_mapper). */
int disk_luks_open(const char *devnode, const char *name, const char *key_file, char **ret_mapper, char **ret_error);

/* cryptsetup close NAME. */
int disk_luks_close(const char *name, char **ret_error);

/* ---- LVM (lvm.c) -------------------------------------------------------------- */

#define DISK_LVM_PV_MAX 8

/* lvm pvcreate --yes --dataalignment 1m PVS..., then lvm vgcreate --yes
 * --physicalextentsize 4m VG PVS... */
int disk_lvm_create_vg(const char *vg, char *const pvs[], size_t n_pvs, char **ret_error);
/* The group's extent count (lvm vgs -o vg_extent_count). */
int disk_lvm_vg_extents(const char *vg, uint64_t *ret_extents, char **ret_error);
/* lvm lvcreate --yes --wipesignatures y --extents EXTENTS --name LV VG;
 * extents 0: --extents 100%FREE (the rest of the group). */
int disk_lvm_create_lv(const char *vg, const char *lv, uint64_t extents, char **ret_error);
/* lvm vgchange --activate n VG (before the reboot: nothing left open). */
int disk_lvm_deactivate(const char *vg, char **ret_error);
