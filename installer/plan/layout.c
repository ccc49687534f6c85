/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Partition layout: sizes from the profile placed on the target disk, every
 * partition starting and ending on a 1 MiB boundary. */
#include "basic/strutil.h"
#include "plan/plan-internal.h"

#define BIOS_BOOT_SIZE PLAN_ALIGN

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

        /* Legacy BIOS boot on GPT: a small BIOS boot partition first, as
         * GRUB and other loaders expect; extlinux boots through gptmbr.bin
         * and the legacy_boot attribute on the root partition. */
        if (gpt && p->firmware == FIRMWARE_BIOS) {
                p->partitions[n++] = (PlanPartition) {
                        .role = PART_ROLE_BIOS_BOOT,
                        .fs = FS_NONE,
                        .size = BIOS_BOOT_SIZE,
                        .name = "bios-boot",
                };
                fixed += BIOS_BOOT_SIZE;
        }

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
                r = profile_errors_add(errors, file, last->line, last->column, "disk.partitions",
                                       "the partitions need %s%s but %s has %s usable", format_bytes(a, sizeof a, fixed),
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
        if (boot != SIZE_MAX) {
                p->partitions[boot].legacy_boot = gpt;
                p->partitions[boot].boot_flag = !gpt;
        }
        return 0;
}
