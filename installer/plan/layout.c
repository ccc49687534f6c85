/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Partition layout: sizes from the profile placed on the target disk, every
 * new partition starting and ending on a 1 MiB boundary.
 *
 * Preserved partitions (reinstall) stay exactly where they are, with their
 * numbers: they split the disk into gaps, and the new partitions listed
 * between two of them in the profile go into the gap between them, in order
 * ("rest" takes what is left of its gap). A layout that does not fit its gap
 * would move or shrink a preserved partition and is refused. */
#include <inttypes.h>
#include <stdarg.h>

#include "basic/checked.h"
#include "basic/strutil.h"
#include "plan/plan-internal.h"

static uint64_t align_down(uint64_t v) {
        return v / PLAN_ALIGN * PLAN_ALIGN;
}

/* false when v rounded up to 1 MiB is beyond 2^64 - 1. */
static bool align_up(uint64_t v, uint64_t *ret) {
        return u64_align_up(v, PLAN_ALIGN, ret);
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

static int layout_error(Plan *p, ProfileErrors *errors, const PlanPartition *at, const char *key_suffix,
                        const char *fmt, ...) _printf_(5, 6);
static int layout_error(Plan *p, ProfileErrors *errors, const PlanPartition *at, const char *key_suffix,
                        const char *fmt, ...) {
        const ProfilePartition *pp = at->source;
        const ProfileDisk *pd = &p->profile->disk;
        _cleanup_free_ char *msg = NULL, *key = NULL;
        unsigned line = pp ? pp->line : pd->select.line, column = pp ? pp->column : pd->select.column;
        va_list ap;
        int r;

        if (pp && pp->preserve.by != PRESERVE_NONE && streq_ptr(key_suffix, ".preserve")) {
                line = pp->preserve.line;
                column = pp->preserve.column;
        }
        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        /* key_suffix NULL: the error is about the whole list (at pp). */
        key = pp && key_suffix ? strprintf("disk.partitions[%zu]%s", (size_t) (pp - pd->partitions), key_suffix)
                               : strdup("disk.partitions");
        if (r < 0 || !key)
                return -ENOMEM;
        r = profile_errors_add(errors, p->profile->filename, line, column, key, "%s", msg);
        return r < 0 ? r : -EINVAL;
}

/* "disk.partitions[1] (/)", "the BIOS boot partition" */
static const char *describe(const PlanPartition *pl, const ProfileDisk *pd, char *buf, size_t size) {
        if (!pl->source)
                snprintf(buf, size, "the %s partition", part_role_to_string(pl->role));
        else
                snprintf(buf, size, "disk.partitions[%zu] (%s)", (size_t) (pl->source - pd->partitions),
                         pl->mount ? pl->mount : pl->fs != FS_NONE ? fs_type_to_string(pl->fs) : "no filesystem");
        return buf;
}

/* A preserved partition as the plan uses it: where it is, what it holds. */
static int fill_preserved(Plan *p, PlanPartition *pl, const HwPartition *hp, ProfileErrors *errors) {
        const ProfilePartition *pp = pl->source;
        char a[32], b[32], c[32];

        pl->preserve = true;
        pl->existing = hp->name;
        pl->fstype = hp->fstype;
        pl->fs_uuid = hp->uuid;
        pl->number = hp->number;
        pl->start = hp->start;
        pl->size = hp->size;
        pl->fs = FS_NONE;
        pl->role = PART_ROLE_DATA;

        /* size: given, it states what the partition is: never resized. */
        uint64_t aligned;
        if (pp->size.value > 0 && pp->size.value != hp->size &&
            !(align_up(pp->size.value, &aligned) && aligned == hp->size))
                return layout_error(p, errors, pl, ".size",
                                    "the preserved partition %s is %s (%" PRIu64 " bytes, at %s); the profile's size %s "
                                    "would %s it, and a preserved partition is never resized: leave size out or make it %" PRIu64,
                                    hp->name, format_bytes(a, sizeof a, hp->size), hp->size,
                                    format_bytes(b, sizeof b, hp->start), format_bytes(c, sizeof c, pp->size.value),
                                    pp->size.value < hp->size ? "shrink" : "grow", hp->size);

        if (streq_ptr(hp->fstype, "swap")) {
                if (pl->mount)
                        return layout_error(p, errors, pl, ".mount", "the preserved partition %s holds swap; it is not mounted",
                                            hp->name);
                pl->fs = FS_SWAP;
                pl->role = PART_ROLE_SWAP;
        } else if (pl->mount) {
                static const FsType mountable[] = { FS_EXT4, FS_XFS, FS_VFAT };
                for (size_t k = 0; k < ELEMENTSOF(mountable); k++)
                        if (streq_ptr(hp->fstype, fs_type_to_string(mountable[k])))
                                pl->fs = mountable[k];
                if (pl->fs == FS_NONE)
                        return layout_error(p, errors, pl, ".mount",
                                            "the preserved partition %s holds %s; only ext4, xfs and vfat can be mounted "
                                            "(leave mount out to keep it unmounted)",
                                            hp->name, hp->fstype ? hp->fstype : "no filesystem libblkid recognises");
                if (!hp->uuid)
                        return layout_error(p, errors, pl, ".mount",
                                            "the filesystem on the preserved partition %s has no UUID for /etc/fstab", hp->name);
        } else
                pl->role = PART_ROLE_RAW;
        return 0;
}

/* The new partitions v[from..to) go into [gap_start, gap_end); next is the
 * preserved partition right after the gap, or NULL at the end of the disk. */
static int place_gap(Plan *p, ProfileErrors *errors, size_t from, size_t to, uint64_t gap_start, uint64_t gap_end,
                     const PlanPartition *next) {
        const ProfileDisk *pd = &p->profile->disk;
        const HwDisk *disk = plan_target_disk(p);
        uint64_t gap = gap_end > gap_start ? gap_end - gap_start : 0, fixed = 0, pos;
        size_t rest = SIZE_MAX;
        char a[32], b[32], c[32], d[32], e[32], f[32], g[32], w[96];

        /* Every size is at most the usable space (plan_layout()), but
         * their sum may still pass 2^64 on a huge disk: saturated, it is
         * larger than any gap. */
        for (size_t i = from; i < to; i++) {
                if (p->partitions[i].source && p->partitions[i].source->size.unit == SIZE_REST)
                        rest = i;
                if (!u64_add_to(&fixed, p->partitions[i].size))
                        fixed = UINT64_MAX;
        }

        if (fixed > gap || (rest != SIZE_MAX && gap - fixed < PLAN_ALIGN)) {
                uint64_t need;
                if (!u64_add(fixed, rest != SIZE_MAX ? PLAN_ALIGN : 0, &need))
                        need = UINT64_MAX;

                if (!next && from == 0) /* no preserved partition at all: the layout is larger than the disk */
                        return layout_error(p, errors, &p->partitions[to - 1], NULL,
                                            "the partitions need %s%s%s but %s has %s usable: the layout is "
                                            "larger than the disk",
                                            format_bytes(a, sizeof a, fixed),
                                            p->partitions[0].automatic && p->partitions[0].role == PART_ROLE_ESP ?
                                                    " (with the 512 MiB EFI system partition added for UEFI)" : "",
                                            rest != SIZE_MAX ? " plus at least 1 MiB for \"rest\"" : "", disk->devnode,
                                            format_bytes(b, sizeof b, gap));
                if (!next) {
                        const PlanPartition *prev = &p->partitions[from - 1];
                        return layout_error(p, errors, &p->partitions[to - 1], NULL,
                                            "the partitions after the preserved partition %s (which ends at %s) need %s "
                                            "but only %s is left up to the end of %s: the layout is larger than the disk",
                                            prev->existing, format_bytes(a, sizeof a, prev->start + prev->size),
                                            format_bytes(b, sizeof b, need), format_bytes(c, sizeof c, gap),
                                            disk->devnode);
                }
                /* The first new partition that would reach into the
                 * preserved one. */
                size_t culprit = to - 1;
                pos = gap_start;
                for (size_t i = from; i < to; i++) {
                        uint64_t size = i == rest ? PLAN_ALIGN : p->partitions[i].size;
                        if (pos > gap_end || size > gap_end - pos) {
                                culprit = i;
                                break;
                        }
                        pos += size;
                }
                uint64_t csize = culprit == rest ? PLAN_ALIGN : p->partitions[culprit].size, cend;
                if (!u64_add(pos, csize, &cend))
                        cend = UINT64_MAX;
                return layout_error(p, errors, next, ".preserve",
                                    "the preserved partition %s starts at %s and is %s long (%" PRIu64 " + %" PRIu64
                                    " bytes) and is never moved or shrunk, but %s would take %s to %s (%s%s), overlapping "
                                    "it: the partitions listed before it need %s and only %s is free before it",
                                    next->existing, format_bytes(a, sizeof a, next->start),
                                    format_bytes(b, sizeof b, next->size), next->start, next->size,
                                    describe(&p->partitions[culprit], pd, w, sizeof w), format_bytes(c, sizeof c, pos),
                                    format_bytes(d, sizeof d, cend), format_bytes(e, sizeof e, csize),
                                    culprit == rest ? " at least" : "", format_bytes(f, sizeof f, need),
                                    format_bytes(g, sizeof g, gap));
        }
        if (rest != SIZE_MAX)
                p->partitions[rest].size = gap - fixed;

        /* fixed (+ rest) <= gap: no sum below wraps. */
        pos = gap_start;
        for (size_t i = from; i < to; i++) {
                p->partitions[i].start = pos;
                pos += p->partitions[i].size;
        }
        return 0;
}

int plan_layout(Plan *p, ProfileErrors *errors) {
        const ProfileDisk *pd = &p->profile->disk;
        const HwDisk *disk = plan_target_disk(p);
        const char *file = p->profile->filename;
        bool gpt = pd->table == PARTITION_TABLE_GPT;
        uint64_t start, end, gap_start;
        size_t n = 0, from = 0;
        char a[32];
        int r, ret = 0;

        p->table = pd->table;
        /* RAID1: the same table on both disks, laid out on the smaller. */
        uint64_t disk_size = disk->size;
        if (plan_mirror_disk(p))
                disk_size = MIN(disk_size, plan_mirror_disk(p)->size);
        /* GPT keeps a backup table in the last 33 sectors: leave the last
         * MiB free, as parted and sgdisk do. */
        start = PLAN_ALIGN;
        end = disk_size < 3 * PLAN_ALIGN ? 0 : align_down(disk_size - (gpt ? PLAN_ALIGN : 0));
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
                n++;

        /* The table's capacity, the automatic boot partition counted. */
        size_t max = gpt ? PLAN_GPT_PARTITIONS_MAX : PLAN_MSDOS_PARTITIONS_MAX;
        if (n + pd->n_partitions > max) {
                const ProfilePartition *pp = &pd->partitions[max - n];
                return plan_error(p, errors, pp->line, pp->column, "disk.partitions",
                                  "a%s %s partition table holds at most %zu partitions%s: disk.partitions[%zu] would be "
                                  "number %zu (the profile lists %zu)",
                                  gpt ? "" : "n", partition_table_to_string(pd->table), max,
                                  n == 0 ? "" : p->partitions[0].role == PART_ROLE_ESP ?
                                                " and the EFI system partition added for UEFI is one of them" :
                                                " and the BIOS boot partition added for legacy boot is one of them",
                                  max - n, max + 1, pd->n_partitions);
        }

        for (size_t i = 0; i < pd->n_partitions; i++) {
                const ProfilePartition *pp = &pd->partitions[i];
                PlanPartition *pl = &p->partitions[n++];

                *pl = (PlanPartition) {
                        .role = role_of(pp),
                        .fs = pp->fs,
                        .mount = pp->mount,
                        .label = pp->label,
                        .name = pp->name,
                        .mount_options = pp->mount_options,
                        .source = pp,
                };
                if (pl->role == PART_ROLE_ESP && !pl->mount_options)
                        pl->mount_options = PLAN_ESP_OPTIONS;
                if (p->preserved && p->preserved[i]) {
                        r = fill_preserved(p, pl, p->preserved[i], errors);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0)
                                ret = r;
                        continue;
                }
                /* Checked: a size near 2^64 must not wrap into a small
                 * one. No single partition is larger than the usable
                 * space; none is 0 bytes. */
                bool ok = true;
                switch (pp->size.unit) {
                case SIZE_BYTES:
                        ok = align_up(pp->size.value, &pl->size);
                        break;
                case SIZE_PERCENT:
                        ok = u64_scale(disk_size, pp->size.value, 100, &pl->size);
                        pl->size = align_down(pl->size);
                        if (pl->size == 0)
                                pl->size = PLAN_ALIGN;
                        break;
                case SIZE_REST:
                        break;
                }
                if (pp->size.unit != SIZE_REST && (!ok || pl->size == 0 || pl->size > end - start)) {
                        char b[32], c[48];
                        if (ok)
                                snprintf(c, sizeof c, " (%s)", format_bytes(b, sizeof b, pl->size));
                        else
                                snprintf(c, sizeof c, " (beyond 2^64 bytes once aligned to 1 MiB)");
                        r = layout_error(p, errors, pl, ".size",
                                         "size %" PRIu64 "%s%s is larger than the %s usable on %s (%" PRIu64
                                         " bytes): the layout is larger than the disk",
                                         pp->size.value, pp->size.unit == SIZE_PERCENT ? "%" : " bytes", c,
                                         format_bytes(a, sizeof a, end - start), disk->devnode, end - start);
                        if (r == -ENOMEM)
                                return r;
                        ret = r;
                }
        }
        p->n_partitions = n;
        if (ret < 0)
                return ret;

        /* Preserved partitions stay where they are: the profile lists them
         * in their order on the disk. */
        const PlanPartition *last = NULL;
        for (size_t i = 0; i < n; i++) {
                const PlanPartition *pl = &p->partitions[i];
                char w1[96], w2[96];
                uint64_t pend;
                if (!pl->preserve)
                        continue;
                /* The inventory's numbers: an end beyond 2^64 is not a disk. */
                if (!u64_add(pl->start, pl->size, &pend) || pend > disk->size || !align_up(pend, &pend))
                        return layout_error(p, errors, pl, ".preserve",
                                            "the preserved partition %s (start %" PRIu64 ", %" PRIu64 " bytes) does not "
                                            "lie within %s (%" PRIu64 " bytes)",
                                            pl->existing, pl->start, pl->size, disk->devnode, disk->size);
                if (last && pl->start < last->start)
                        return layout_error(p, errors, pl, ".preserve",
                                            "%s (%s) lies before %s, which %s preserves and lists earlier: list the "
                                            "partitions in their order on the disk",
                                            pl->existing, describe(pl, pd, w1, sizeof w1), last->existing,
                                            describe(last, pd, w2, sizeof w2));
                last = pl;
        }

        /* The new partitions, gap by gap. */
        gap_start = start;
        for (size_t i = 0; i <= n; i++) {
                const PlanPartition *next = i < n && p->partitions[i].preserve ? &p->partitions[i] : NULL;
                if (i < n && !next)
                        continue;
                /* i: a preserved partition, or the end of the list */
                if (i > from) {
                        r = place_gap(p, errors, from, i, gap_start, next ? align_down(next->start) : end, next);
                        if (r < 0)
                                return r;
                }
                if (next) {
                        uint64_t next_end; /* checked in the loop above */
                        if (!u64_add(next->start, next->size, &next_end) || !align_up(next_end, &next_end))
                                return -EINVAL;
                        gap_start = MAX(gap_start, next_end);
                }
                from = i + 1;
        }

        /* Numbers: preserved partitions keep theirs; the new ones take the
         * lowest free numbers in their order on the disk (as libparted
         * gives them). */
        for (size_t i = 0; i < n; i++) {
                PlanPartition *pl = &p->partitions[i];
                if (pl->preserve)
                        continue;
                for (unsigned num = 1;; num++) {
                        bool used = false;
                        for (size_t k = 0; k < n && !used; k++)
                                used = k != i && p->partitions[k].number == num;
                        if (!used) {
                                pl->number = num;
                                break;
                        }
                }
                /* Preserved partitions with high numbers can push a new
                 * one past the table's last entry. */
                if (pl->number > max)
                        return layout_error(p, errors, pl, NULL,
                                            "%s would be partition %u, but a%s %s partition table holds at most %zu: "
                                            "the preserved partitions take the lower numbers",
                                            describe(pl, pd, (char[96]) {}, 96), pl->number, gpt ? "" : "n",
                                            partition_table_to_string(pd->table), max);
        }

        /* The legacy BIOS loader (extlinux) lives on the filesystem that
         * holds /boot: a separate /boot partition if there is one, else /. */
        size_t boot = SIZE_MAX;
        for (size_t i = 0; i < n; i++) {
                PlanPartition *pl = &p->partitions[i];
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
