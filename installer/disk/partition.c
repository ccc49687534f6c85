/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing the partition table with libparted. libparted reports problems
 * through a global exception handler and returns booleans: the handler here
 * captures the message text (never prints, never asks) and the failures are
 * turned into -errno plus that text. */
#include <fcntl.h>
#include <inttypes.h>
#include <parted/parted.h>

#include "basic/log.h"
#include "basic/strutil.h"
#include "disk/disk-internal.h"

/* libparted's handler has no user data pointer: what it captures goes here,
 * for the duration of one disk_partition() call. */
static StrBuf parted_messages;

static PedExceptionOption parted_exception_handler(PedException *ex) {
        log_debug("libparted %s: %s", ped_exception_get_type_string(ex->type), ex->message);

        if (ex->type == PED_EXCEPTION_INFORMATION)
                return ex->options & PED_EXCEPTION_IGNORE ? PED_EXCEPTION_IGNORE :
                       ex->options & PED_EXCEPTION_OK     ? PED_EXCEPTION_OK :
                       ex->options & PED_EXCEPTION_CANCEL ? PED_EXCEPTION_CANCEL : PED_EXCEPTION_UNHANDLED;

        /* Keep the text of warnings and errors, one line each. */
        if (strbuf_appendf(&parted_messages, "%s%s", parted_messages.len ? "; " : "", ex->message) >= 0)
                for (char *p = parted_messages.data; *p; p++)
                        if (*p == '\n')
                                *p = ' ';

        /* Warnings are ignored where that is an option (nothing we do asks
         * for what a warning is about); otherwise, and for errors, cancel.
         * Never agree to "fix" anything. */
        if (ex->type == PED_EXCEPTION_WARNING) {
                if (ex->options & PED_EXCEPTION_IGNORE)
                        return PED_EXCEPTION_IGNORE;
                if (ex->options == PED_EXCEPTION_OK)
                        return PED_EXCEPTION_OK;
        }
        if (ex->options & PED_EXCEPTION_CANCEL)
                return PED_EXCEPTION_CANCEL;
        return PED_EXCEPTION_UNHANDLED;
}

static const char *parted_reason(void) {
        return parted_messages.len ? strstrip(parted_messages.data) : "libparted gives no reason";
}

static void ped_device_destroyp(PedDevice **d) {
        if (*d)
                ped_device_destroy(*d);
}

static void ped_disk_destroyp(PedDisk **d) {
        if (*d)
                ped_disk_destroy(*d);
}

static const char *fs_type_parted_name(FsType fs) {
        switch (fs) {
        case FS_EXT4: return "ext4";
        case FS_XFS: return "xfs";
        case FS_VFAT: return "fat32";
        case FS_SWAP: return "linux-swap(v1)";
        case FS_NONE: return NULL;
        }
        return NULL;
}

static int set_flag(PedPartition *part, PedPartitionFlag flag, bool required, const char *path, char **ret_error) {
        if (!ped_partition_is_flag_available(part, flag)) {
                if (!required)
                        return 0;
                return disk_error(ret_error, -EOPNOTSUPP,
                                  "Cannot set the %s flag on partition %d of %s: %s partition tables do not have it",
                                  ped_partition_flag_get_name(flag), part->num, path, part->disk->type->name);
        }
        if (!ped_partition_set_flag(part, flag, 1))
                return disk_error(ret_error, -EIO, "Failed to set the %s flag on partition %d of %s: %s",
                                  ped_partition_flag_get_name(flag), part->num, path, parted_reason());
        return 0;
}

static int add_partition(PedDisk *disk, const PlanPartition *p, unsigned sector_size, const char *path,
                         char **ret_error) {
        bool gpt = streq(disk->type->name, "gpt");
        const char *fs_name = fs_type_parted_name(p->fs);
        const PedFileSystemType *fs_type = NULL;
        PedSector start = (PedSector) (p->start / sector_size);
        PedSector end = (PedSector) ((p->start + p->size) / sector_size) - 1;
        PedConstraint *constraint;
        PedPartition *part;
        int r;

        if (p->role == PART_ROLE_BIOS_BOOT)
                fs_name = NULL;
        if (fs_name) {
                fs_type = ped_file_system_type_get(fs_name);
                if (!fs_type)
                        return disk_error(ret_error, -EOPNOTSUPP, "Cannot create partition %u on %s: libparted does not know %s",
                                          p->number, path, fs_name);
        }

        part = ped_partition_new(disk, PED_PARTITION_NORMAL, fs_type, start, end);
        if (!part)
                return disk_error(ret_error, -EIO, "Failed to create partition %u on %s: %s", p->number, path,
                                  parted_reason());

        /* Exactly where the plan says: libparted must not move it. */
        constraint = ped_constraint_exact(&part->geom);
        if (!constraint) {
                ped_partition_destroy(part);
                return -ENOMEM;
        }
        if (!ped_disk_add_partition(disk, part, constraint)) {
                ped_constraint_destroy(constraint);
                ped_partition_destroy(part);
                return disk_error(ret_error, -EINVAL, "Failed to create partition %u on %s (sectors %lld-%lld): %s",
                                  p->number, path, (long long) start, (long long) end, parted_reason());
        }
        ped_constraint_destroy(constraint);
        /* From here on the partition belongs to the disk. */

        if (part->geom.start != start || part->geom.end != end || part->num != (int) p->number)
                return disk_error(ret_error, -EINVAL,
                                  "libparted placed partition %u of %s as number %d at sectors %lld-%lld, not at %lld-%lld",
                                  p->number, path, part->num, (long long) part->geom.start, (long long) part->geom.end,
                                  (long long) start, (long long) end);

        if (ped_disk_type_check_feature(disk->type, PED_DISK_TYPE_PARTITION_NAME)) {
                const char *name = p->name ? p->name : part_role_to_string(p->role);
                if (!ped_partition_set_name(part, name))
                        return disk_error(ret_error, -EINVAL, "Failed to name partition %u of %s \"%s\": %s",
                                          p->number, path, name, parted_reason());
        }

        switch (p->role) {
        case PART_ROLE_BIOS_BOOT:
                r = set_flag(part, PED_PARTITION_BIOS_GRUB, true, path, ret_error);
                break;
        case PART_ROLE_ESP:
                r = set_flag(part, PED_PARTITION_ESP, true, path, ret_error);
                if (r >= 0 && gpt) /* "boot" is the ESP's other name on GPT */
                        r = set_flag(part, PED_PARTITION_BOOT, true, path, ret_error);
                break;
        case PART_ROLE_SWAP:
                /* The file system type already makes it Linux swap
                 * (0x82); the flag exists on GPT only. */
                r = set_flag(part, PED_PARTITION_SWAP, false, path, ret_error);
                break;
        default:
                /* FAT32 with LBA addressing: 0x0c rather than 0x0b. */
                r = !gpt && p->fs == FS_VFAT ? set_flag(part, PED_PARTITION_LBA, false, path, ret_error) : 0;
        }
        /* An LVM physical volume: type Linux LVM (GPT) / 0x8e (msdos). */
        if (r >= 0 && p->source && p->source->lvm && !p->preserve)
                r = set_flag(part, PED_PARTITION_LVM, false, path, ret_error);
        if (r >= 0 && p->legacy_boot)
                r = set_flag(part, PED_PARTITION_LEGACY_BOOT, true, path, ret_error);
        if (r >= 0 && p->boot_flag)
                r = set_flag(part, PED_PARTITION_BOOT, true, path, ret_error);
        return r;
}

static const PlanPartition *plan_preserved(const Plan *plan, int num) {
        for (size_t i = 0; i < plan->n_partitions; i++)
                if (plan->partitions[i].preserve && (int) plan->partitions[i].number == num)
                        return &plan->partitions[i];
        return NULL;
}

/* Reinstall: the existing table, read by libparted, becomes the preserved
 * partitions alone. Each of them must be exactly where the plan saw it (the
 * last look before the write); every other partition is deleted. The boot
 * flags are taken off preserved partitions, so that the boot code finds the
 * new system; nothing else of theirs changes. */
static int keep_preserved_only(const Plan *plan, PedDisk *disk, const char *path, char **ret_error) {
        unsigned ss = (unsigned) disk->dev->sector_size;
        bool gpt = plan->table == PARTITION_TABLE_GPT;
        int r;

        if (!streq(disk->type->name, gpt ? "gpt" : "msdos"))
                return disk_error(ret_error, -ESTALE,
                                  "Refusing to write %s: it has a%s %s partition table, the plan keeps a %s one",
                                  path, streq(disk->type->name, "msdos") ? "n" : "", disk->type->name,
                                  gpt ? "gpt" : "msdos");

        for (size_t i = 0; i < plan->n_partitions; i++) {
                const PlanPartition *p = &plan->partitions[i];
                PedPartition *part;

                if (!p->preserve)
                        continue;
                part = ped_disk_get_partition(disk, (int) p->number);
                if (!part || (uint64_t) part->geom.start * ss != p->start || (uint64_t) part->geom.length * ss != p->size)
                        return disk_error(ret_error, -ESTALE,
                                          "Refusing to write %s: preserved partition %u (%s) is %s; the plan saw it at "
                                          "byte %" PRIu64 ", %" PRIu64 " bytes long",
                                          path, p->number, p->existing ? p->existing : "?",
                                          part ? "not where the plan saw it" : "gone", p->start, p->size);
                static const PedPartitionFlag boot_flags[] = { PED_PARTITION_LEGACY_BOOT, PED_PARTITION_BOOT };
                for (size_t k = 0; k < ELEMENTSOF(boot_flags); k++)
                        if (ped_partition_is_flag_available(part, boot_flags[k]) &&
                            ped_partition_get_flag(part, boot_flags[k]) && !ped_partition_set_flag(part, boot_flags[k], 0))
                                return disk_error(ret_error, -EIO, "Failed to clear the %s flag of partition %u of %s: %s",
                                                  ped_partition_flag_get_name(boot_flags[k]), p->number, path,
                                                  parted_reason());
        }

        /* Delete the others, logical partitions before the extended one. */
        for (;;) {
                PedPartition *victim = NULL;
                for (PedPartition *part = ped_disk_next_partition(disk, NULL); part;
                     part = ped_disk_next_partition(disk, part)) {
                        if (!ped_partition_is_active(part) || plan_preserved(plan, part->num))
                                continue;
                        victim = part;
                        if (part->type & PED_PARTITION_LOGICAL)
                                break;
                }
                if (!victim)
                        break;
                if (victim->type & PED_PARTITION_EXTENDED) {
                        /* Only when no logical partition is left in it. */
                        for (PedPartition *part = ped_disk_next_partition(disk, NULL); part;
                             part = ped_disk_next_partition(disk, part))
                                if (part->type & PED_PARTITION_LOGICAL && ped_partition_is_active(part))
                                        return disk_error(ret_error, -EINVAL,
                                                          "Cannot delete the extended partition of %s: it still holds partition %d",
                                                          path, part->num);
                }
                log_debug("Deleting partition %d of %s", victim->num, path);
                r = victim->num;
                if (!ped_disk_delete_partition(disk, victim))
                        return disk_error(ret_error, -EIO, "Failed to delete partition %d of %s: %s", r, path,
                                          parted_reason());
        }
        return 0;
}

static int partition_with_parted(const Plan *plan, const char *path, char **ret_error) {
        _cleanup_(ped_device_destroyp) PedDevice *dev = NULL;
        _cleanup_(ped_disk_destroyp) PedDisk *disk = NULL;
        bool gpt = plan->table == PARTITION_TABLE_GPT;
        const PedDiskType *type;
        uint64_t dev_bytes;
        unsigned ss;
        int r;

        /* The same checks as everywhere else before libparted sees it,
         * and is it still the planned disk? */
        r = disk_open(path, O_RDONLY | O_NONBLOCK, NULL, NULL);
        if (r == -ENOTBLK)
                return disk_error(ret_error, r, "Cannot partition %s: neither a block device nor a regular file", path);
        if (r < 0)
                return disk_error(ret_error, r, "Cannot open %s: %s", path, strerror(-r));
        {
                _cleanup_close_ int fd = r;
                r = disk_verify_identity_fd(disk_planned_disk(plan, path), fd, path, ret_error);
                if (r < 0)
                        return r;
        }

        dev = ped_device_get(path);
        if (!dev)
                return disk_error(ret_error, -EIO, "Cannot open %s: %s", path, parted_reason());

        ss = (unsigned) dev->sector_size;
        dev_bytes = (uint64_t) dev->length * ss;
        if (!gpt && plan->n_partitions > 4)
                return disk_error(ret_error, -EOPNOTSUPP,
                                  "Cannot partition %s: an msdos partition table holds at most 4 partitions, the plan has %zu",
                                  path, plan->n_partitions);
        for (size_t i = 0; i < plan->n_partitions; i++) {
                const PlanPartition *p = &plan->partitions[i];
                if (ss == 0 || p->start % ss || p->size % ss || p->size == 0)
                        return disk_error(ret_error, -EINVAL,
                                          "Cannot create partition %u on %s: start %" PRIu64 " and size %" PRIu64
                                          " are not whole sectors of %u bytes",
                                          p->number, path, p->start, p->size, ss);
                if (p->start + p->size > dev_bytes)
                        return disk_error(ret_error, -ENOSPC,
                                          "Cannot create partition %u on %s: it ends at byte %" PRIu64
                                          ", beyond the end of the disk (%" PRIu64 " bytes)",
                                          p->number, path, p->start + p->size, dev_bytes);
        }

        type = ped_disk_type_get(gpt ? "gpt" : "msdos");
        if (!type)
                return disk_error(ret_error, -EOPNOTSUPP, "libparted does not support %s partition tables",
                                  gpt ? "gpt" : "msdos");
        if (plan->keep_table) {
                disk = ped_disk_new(dev);
                if (!disk)
                        return disk_error(ret_error, -EIO, "Failed to read the partition table of %s: %s", path,
                                          parted_reason());
                r = keep_preserved_only(plan, disk, path, ret_error);
                if (r < 0)
                        return r;
        } else {
                disk = ped_disk_new_fresh(dev, type);
                if (!disk)
                        return disk_error(ret_error, -EIO, "Failed to create a %s partition table for %s: %s", type->name,
                                          path, parted_reason());
                /* A fresh table is "clobbered" on commit: libparted (3.5)
                 * zeroes the first and last 9 sectors, the boot code area
                 * with them, and then (msdos) writes its own boot code,
                 * which starts the active partition's boot sector, maybe an
                 * old install's. With the install-in-progress mark on the
                 * disk, disk_wipe() has zeroed the first and last MiB
                 * already, all but the mark: no clobbering, so that the
                 * table is written around the mark and the disk never
                 * carries anything but the mark in its boot code area (no
                 * window between the commit and disk_mark_after_partition()). */
                r = disk_has_mark(path);
                if (r < 0)
                        return disk_error(ret_error, r, "Cannot read the MBR of %s: %s", path, strerror(-r));
                if (r > 0)
                        disk->needs_clobber = 0;
        }

        for (size_t i = 0; i < plan->n_partitions; i++) {
                if (plan->partitions[i].preserve)
                        continue;
                r = add_partition(disk, &plan->partitions[i], ss, path, ret_error);
                if (r < 0)
                        return r;
        }

        /* Writes the table and, on a block device, tells the kernel about
         * the partitions (BLKPG). */
        if (!ped_disk_commit(disk))
                return disk_error(ret_error, -EIO, "Failed to write the partition table to %s: %s", path,
                                  parted_reason());

        /* libparted puts its own MBR boot code into an msdos table whose
         * boot code area is blank; that code starts the active partition's
         * boot sector, which may still be an old install's. Until the
         * install's last step writes boot code, the disk must boot nothing:
         * the install-in-progress mark stays (and names the new table), or
         * without one the boot code area is zeroed. */
        _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                return disk_error(ret_error, r, "Cannot open %s: %s", path, strerror(-r));
        }
        return disk_mark_after_partition(fd, path, ret_error);
}

int disk_partition(const Plan *plan, const char *path, char **ret_error) {
        PedExceptionHandler *saved = ped_exception_get_handler();
        int r;

        strbuf_done(&parted_messages);
        ped_exception_set_handler(parted_exception_handler);
        r = partition_with_parted(plan, path, ret_error);
        ped_exception_set_handler(saved);
        strbuf_done(&parted_messages);
        return r;
}
