/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Partition layout: sizes from the profile placed on the target disk, every
 * partition starting and ending on a 1 MiB boundary. */
#include "basic/strutil.h"
#include "plan/plan-internal.h"

static uint64_t align_down(uint64_t v) {
        return v / PLAN_ALIGN * PLAN_ALIGN;
}

static uint64_t align_up(uint64_t v) {
        return (v + PLAN_ALIGN - 1) / PLAN_ALIGN * PLAN_ALIGN;
}

static PartRole role_of(const ProfilePartition *pp) {
        if (pp->fs == FS_SWAP)
                return PART_ROLE_SWAP;
        if (pp->fs == FS_NONE)
                return PART_ROLE_RAW;
        if (pp->mount && streq(pp->mount, "/"))
                return PART_ROLE_ROOT;
        if (pp->fs == FS_VFAT && pp->mount && (streq(pp->mount, "/boot/efi") || streq(pp->mount, "/efi")))
                return PART_ROLE_ESP;
        return PART_ROLE_DATA;
}

static bool is_esp_mount(const char *m) {
        return m && (streq(m, "/boot/efi") || streq(m, "/efi"));
}

/* A firmware error at disk.firmware or disk.table if the profile has them,
 * else at the disk section. */
static int firmware_error(Plan *p, ProfileErrors *errors, unsigned line, unsigned column, const char *key,
                          const char *msg) {
        const ProfileDisk *pd = &p->profile->disk;
        int r;

        if (line == 0) {
                line = pd->select.line;
                column = pd->select.column;
        }
        r = profile_errors_add(errors, p->profile->filename, line, column, key, "%s", msg);
        return r < 0 ? r : -EINVAL;
}

/* The boot partition the firmware needs when the profile has none: UEFI
 * boots from an EFI system partition (FAT32, first on the disk, where
 * systemd-boot, the kernel and its initrd go); legacy BIOS on GPT gets a
 * BIOS boot partition, as GRUB and other loaders expect (extlinux boots
 * through gptmbr.bin and the legacy_boot attribute and does not use it). */
static int plan_boot_partition(Plan *p, PlanPartition *ret, ProfileErrors *errors) {
        const ProfileDisk *pd = &p->profile->disk;
        bool gpt = pd->table == PARTITION_TABLE_GPT;
        const char *why = p->firmware_from_profile ? "disk.firmware is uefi" : "this machine boots with UEFI";

        if (p->firmware != FIRMWARE_UEFI) {
                if (!gpt)
                        return 0;
                *ret = (PlanPartition) {
                        .role = PART_ROLE_BIOS_BOOT,
                        .fs = FS_NONE,
                        .size = PLAN_ALIGN,
                        .name = "bios-boot",
                        .automatic = true,
                };
                return 1;
        }

        /* UEFI firmware reads GPT; an ESP on an msdos table (type 0xef)
         * boots on some machines only: refuse rather than guess. */
        if (!gpt) {
                if (pd->firmware == DISK_FIRMWARE_UEFI)
                        return firmware_error(p, errors, pd->firmware_line, pd->firmware_column, "disk.firmware",
                                              "firmware uefi needs a GPT partition table with an EFI system "
                                              "partition, not table: msdos; use table: gpt");
                return firmware_error(p, errors, pd->table_line, pd->table_column, "disk.table",
                                      "msdos cannot boot this machine: it boots with UEFI, which needs a GPT "
                                      "partition table with an EFI system partition; use table: gpt, or "
                                      "firmware: bios if the machine also boots in legacy (CSM) mode");
        }
        for (size_t i = 0; i < pd->n_partitions; i++) {
                const ProfilePartition *pp = &pd->partitions[i];
                if (role_of(pp) == PART_ROLE_ESP)
                        return 0; /* the profile's own ESP */
                if (is_esp_mount(pp->mount)) {
                        _cleanup_free_ char *msg = strprintf(
                                "disk.partitions[%zu] is mounted at %s but is %s: the EFI system partition "
                                "needs fs: vfat", i, pp->mount, fs_type_to_string(pp->fs));
                        int r = profile_errors_add(errors, p->profile->filename, pp->line, pp->column,
                                                   "disk.partitions", "%s (%s)", msg ?: "not vfat", why);
                        return r < 0 ? r : -EINVAL;
                }
        }
        bool label_taken = false;
        for (size_t i = 0; i < pd->n_partitions; i++)
                label_taken = label_taken || streq_ptr(pd->partitions[i].label, "ESP");
        *ret = (PlanPartition) {
                .role = PART_ROLE_ESP,
                .fs = FS_VFAT,
                .size = PLAN_ESP_SIZE,
                .mount = PLAN_ESP_MOUNT,
                .label = label_taken ? NULL : "ESP",
                .name = "esp",
                .mount_options = PLAN_ESP_OPTIONS,
                .automatic = true,
        };
        return 1;
}

int plan_layout(Plan *p, ProfileErrors *errors) {
        const ProfileDisk *pd = &p->profile->disk;
        const HwDisk *disk = plan_target_disk(p);
        const char *file = p->profile->filename;
        bool gpt = pd->table == PARTITION_TABLE_GPT;
        uint64_t start, end, fixed = 0, pos;
        size_t n = 0, rest_index = SIZE_MAX;
        char a[32], b[32];
        int r;

        p->table = pd->table;
        /* GPT keeps a backup table in the last 33 sectors: leave the last
         * MiB free, as parted and sgdisk do. */
        start = PLAN_ALIGN;
        end = align_down(disk->size - (gpt ? PLAN_ALIGN : 0));
        if (end <= start + PLAN_ALIGN)
                return profile_errors_add(errors, file, pd->select.line, pd->select.column, "disk",
                                          "disk %s is too small (%s)", disk->devnode,
                                          format_bytes(a, sizeof a, disk->size)) < 0 ? -ENOMEM : -EINVAL;
        p->usable_start = start;
        p->usable_end = end;

        p->partitions = new0(PlanPartition, pd->n_partitions + 1);
        if (!p->partitions)
                return -ENOMEM;

        /* The firmware's boot partition goes first. */
        r = plan_boot_partition(p, &p->partitions[n], errors);
        if (r < 0)
                return r;
        if (r > 0)
                fixed += p->partitions[n++].size;

        for (size_t i = 0; i < pd->n_partitions; i++) {
                const ProfilePartition *pp = &pd->partitions[i];
                PlanPartition *pl = &p->partitions[n];

                *pl = (PlanPartition) {
                        .role = role_of(pp),
                        .fs = pp->fs,
                        .mount = pp->mount,
                        .label = pp->label,
                        .name = pp->name,
                        .mount_options = pp->mount_options,
                };
                if (pl->role == PART_ROLE_ESP && !pl->mount_options)
                        pl->mount_options = PLAN_ESP_OPTIONS;
                switch (pp->size.unit) {
                case SIZE_BYTES:
                        pl->size = align_up(pp->size.value);
                        break;
                case SIZE_PERCENT:
                        pl->size = align_down(disk->size / 100 * pp->size.value + disk->size % 100 * pp->size.value / 100);
                        if (pl->size == 0)
                                pl->size = PLAN_ALIGN;
                        break;
                case SIZE_REST:
                        rest_index = n;
                        break;
                }
                fixed += pl->size;
                n++;
        }
        p->n_partitions = n;

        if (fixed > end - start || (rest_index != SIZE_MAX && end - start - fixed < PLAN_ALIGN)) {
                const ProfilePartition *last = &pd->partitions[pd->n_partitions - 1];
                bool esp = p->partitions[0].automatic && p->partitions[0].role == PART_ROLE_ESP;
                r = profile_errors_add(errors, file, last->line, last->column, "disk.partitions",
                                       "the partitions need %s%s%s but %s has %s usable", format_bytes(a, sizeof a, fixed),
                                       esp ? " (with the 512 MiB EFI system partition added for UEFI)" : "",
                                       rest_index != SIZE_MAX ? " plus at least 1 MiB for \"rest\"" : "",
                                       disk->devnode, format_bytes(b, sizeof b, end - start));
                return r < 0 ? r : -EINVAL;
        }
        if (rest_index != SIZE_MAX)
                p->partitions[rest_index].size = end - start - fixed;

        /* The legacy BIOS loader (extlinux) lives on the filesystem that
         * holds /boot: a separate /boot partition if there is one, else /. */
        size_t boot = SIZE_MAX;
        pos = start;
        for (size_t i = 0; i < n; i++) {
                PlanPartition *pl = &p->partitions[i];
                pl->number = (unsigned) i + 1;
                pl->start = pos;
                pos += pl->size;
                if (pl->mount && streq(pl->mount, "/boot"))
                        boot = i;
                else if (pl->role == PART_ROLE_ROOT && boot == SIZE_MAX)
                        boot = i;
        }
        if (boot != SIZE_MAX && p->firmware == FIRMWARE_BIOS) {
                p->partitions[boot].legacy_boot = gpt;
                p->partitions[boot].boot_flag = !gpt;
        }
        return 0;
}
