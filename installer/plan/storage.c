/* SPDX-License-Identifier: GPL-2.0-or-later */
/* RAID1 in the plan: the mirror disk (its own disk.mirror.select, never the
 * target, never the boot medium), the size check between the two disks, and
 * one array per raid: entry over the partition with the same number on both
 * disks. The layout itself (plan_layout()) is computed once, on the smaller
 * disk, and written to both. */
#include <inttypes.h>
#include <stdarg.h>

#include "basic/checked.h"
#include "basic/strutil.h"
#include "plan/plan-internal.h"

const HwDisk *plan_mirror_disk(const Plan *p) {
        return p->has_mirror ? &p->inventory->disks[p->mirror] : NULL;
}

const PlanRaid *plan_partition_raid(const Plan *p, const PlanPartition *pl) {
        if (!pl->source || !pl->source->raid)
                return NULL;
        for (size_t i = 0; i < p->n_raids; i++)
                if (streq(p->raids[i].name, pl->source->raid))
                        return &p->raids[i];
        return NULL;
}

int plan_select_mirror(Plan *p, ProfileErrors *errors) {
        const ProfileDisk *pd = &p->profile->disk;
        const Inventory *inv = p->inventory;
        const DiskSelect *s = &pd->mirror;
        const HwDisk *target = plan_target_disk(p), *m;
        size_t n_match = 0, chosen = SIZE_MAX;
        StrBuf why = {};
        char a[32], b[32];

        if (!pd->has_mirror)
                return 0;

        for (size_t i = 0; i < inv->n_disks; i++) {
                _cleanup_free_ char *buf = NULL;
                const char *no = i == p->target ? "the target disk (disk.select)" : plan_disk_mismatch(&inv->disks[i], s, &buf);

                if (!no) {
                        n_match++;
                        if (chosen == SIZE_MAX)
                                chosen = i;
                        else if ((streq_ptr(s->prefer, "smallest") && inv->disks[i].size < inv->disks[chosen].size) ||
                                 (streq_ptr(s->prefer, "largest") && inv->disks[i].size > inv->disks[chosen].size))
                                chosen = i;
                }
                if (strbuf_appendf(&why, "%s %s: %s", i ? ";" : "", inv->disks[i].devnode, no ? no : "matches") < 0) {
                        strbuf_done(&why);
                        return -ENOMEM;
                }
        }
        if (n_match == 0 || (n_match > 1 && !s->prefer)) {
                int r = n_match == 0 ?
                        plan_error(p, errors, s->line, s->column, "disk.mirror.select",
                                   "no disk matches for the mirror (%zu disk%s:%s)", inv->n_disks,
                                   inv->n_disks == 1 ? "" : "s", why.data ? why.data : " none") :
                        plan_error(p, errors, s->line, s->column, "disk.mirror.select",
                                   "%zu disks match for the mirror; add a hint (serial, wwn, path, ...) or prefer: "
                                   "first|smallest|largest (%zu disks:%s)",
                                   n_match, inv->n_disks, why.data ? why.data : "");
                strbuf_done(&why);
                return r;
        }
        strbuf_done(&why);
        p->mirror = chosen;
        p->has_mirror = true;
        m = plan_mirror_disk(p);
        p->mirror_reason = n_match > 1 ? strprintf("%s of %zu matching disks", s->prefer, n_match)
                                       : strdup(s->path ? "named by disk.mirror.select.path" : "the only matching disk");
        if (!p->mirror_reason)
                return -ENOMEM;

        /* Members of different sizes: the array is as large as the smaller
         * one. A small difference (models of "the same" size) is normal; a
         * large one means the wrong disk or wasted space. */
        uint64_t big = MAX(target->size, m->size), small = MIN(target->size, m->size), allowed;
        if (!u64_scale(big, PLAN_MIRROR_TOLERANCE_PERCENT, 100, &allowed) || big - small > allowed)
                return plan_error(p, errors, s->line, s->column, "disk.mirror",
                                  "the RAID1 disks differ in size beyond the %d%% tolerance: %s has %s (%" PRIu64
                                  " bytes), %s has %s (%" PRIu64 " bytes); name two disks of the same size",
                                  PLAN_MIRROR_TOLERANCE_PERCENT, target->devnode, format_bytes(a, sizeof a, target->size),
                                  target->size, m->devnode, format_bytes(b, sizeof b, m->size), m->size);
        if (target->logical_sector_size != m->logical_sector_size)
                return plan_error(p, errors, s->line, s->column, "disk.mirror",
                                  "the RAID1 disks have different logical sector sizes: %s %u bytes, %s %u bytes",
                                  target->devnode, target->logical_sector_size, m->devnode, m->logical_sector_size);

        /* Data safety, as for the target (the mirror's own mark). */
        int r = plan_unfinished(p, m, true, &p->mirror_mark_note);
        if (r < 0)
                return r;
        if (hw_disk_has_data(m)) {
                _cleanup_free_ char *what = plan_describe_contents(m);
                if (!what)
                        return -ENOMEM;
                if (r == 0 && !pd->wipe)
                        return plan_error(p, errors, s->line, s->column, "disk.wipe",
                                          "refusing to use %s as the mirror: it holds data (%s)%s%s; set disk.wipe: true to "
                                          "allow wiping it",
                                          m->devnode, what, p->mirror_mark_note ? "; it carries " : "",
                                          p->mirror_mark_note ? p->mirror_mark_note : "");
                p->mirror_wipe = true;
                p->mirror_wipe_reason = r == 1 ? PLAN_WIPE_UNFINISHED : PLAN_WIPE_PROFILE;
                p->mirror_wipe_summary = TAKE_PTR(what);
        }
        return 0;
}

/* The filesystem that holds /boot (or / when there is no /boot): the
 * extlinux install must be readable by the BIOS loader from either disk. */
static bool raid_holds_boot(const Profile *pr, const ProfileRaid *r) {
        bool separate_boot = false;

        for (size_t i = 0; i < pr->disk.n_partitions; i++)
                separate_boot = separate_boot || streq_ptr(pr->disk.partitions[i].mount, "/boot");
        for (size_t i = 0; i < pr->n_raids; i++)
                separate_boot = separate_boot || streq_ptr(pr->raids[i].mount, "/boot");
        for (size_t i = 0; i < pr->n_vgs; i++)
                for (size_t k = 0; k < pr->vgs[i].n_volumes; k++)
                        separate_boot = separate_boot || streq_ptr(pr->vgs[i].volumes[k].mount, "/boot");
        return streq_ptr(r->mount, separate_boot ? "/boot" : "/");
}

int plan_storage(Plan *p, ProfileErrors *errors) {
        const Profile *pr = p->profile;
        const ProfileDisk *pd = &pr->disk;
        bool boot_on_raid = false;

        /* What this installer does not carry out yet is refused here, before
         * anything is written, rather than half done. */
        for (size_t i = 0; i < pr->n_raids; i++)
                if (pr->raids[i].luks)
                        return plan_error(p, errors, pr->raids[i].line, pr->raids[i].column, "raid",
                                          "%s on a RAID array is not supported by this installer yet", "luks");
        /* lvm: plan_lvm() (lvm.c). */
        for (size_t i = 0; i < pr->n_vgs; i++)
                for (size_t k = 0; k < pr->vgs[i].n_volumes; k++)
                        if (pr->vgs[i].volumes[k].luks)
                                return plan_error(p, errors, pr->vgs[i].volumes[k].line, pr->vgs[i].volumes[k].column,
                                                  "lvm", "luks on a logical volume is not supported by this installer yet");

        if (!p->has_mirror)
                return 0;
        if (p->keep_table)
                return plan_error(p, errors, pd->mirror.line, pd->mirror.column, "disk.mirror",
                                  "preserve and disk.mirror cannot be combined yet");
        if (p->firmware == FIRMWARE_UEFI)
                return plan_error(p, errors, pd->mirror.line, pd->mirror.column, "disk.mirror",
                                  "RAID1 (disk.mirror) is supported for legacy BIOS boot only in this installer; "
                                  "set disk.firmware: bios if the machine can boot in legacy mode");

        p->raids = new0(PlanRaid, pr->n_raids ? pr->n_raids : 1);
        if (!p->raids)
                return -ENOMEM;
        for (size_t i = 0; i < pr->n_raids; i++) {
                const ProfileRaid *r = &pr->raids[i];
                PlanRaid *pl = &p->raids[p->n_raids];
                size_t members = 0;

                *pl = (PlanRaid) { .source = r, .name = r->name, .metadata = "1.2", .homehost = pr->hostname,
                                   .holds_boot = raid_holds_boot(pr, r) };
                for (size_t k = 0; k < p->n_partitions; k++)
                        if (p->partitions[k].source && streq_ptr(p->partitions[k].source->raid, r->name)) {
                                members++;
                                pl->member = p->partitions[k].number;
                                pl->size = p->partitions[k].size;
                        }
                if (members != 1)
                        return plan_error(p, errors, r->line, r->column, "raid",
                                          "RAID1 array %s needs exactly one member partition per disk (disk.partitions "
                                          "with 'raid: %s'), the profile has %zu",
                                          r->name, r->name, members);
                /* extlinux boots from a filesystem that starts at the start
                 * of the partition: the superblock goes to the end (1.0). */
                if (pl->holds_boot) {
                        pl->metadata = "1.0";
                        boot_on_raid = true;
                }
                p->n_raids++;
        }

        /* Either disk alone must boot: the filesystem holding /boot must be
         * on an array (the MBR code and the legacy_boot flag are on both). */
        if (!boot_on_raid)
                return plan_error(p, errors, pd->mirror.line, pd->mirror.column, "disk.mirror",
                                  "with disk.mirror the filesystem holding /boot (or / without a separate /boot) "
                                  "must be on a RAID1 array, so that either disk boots alone");

        /* The BIOS loader's flag goes on the member partition of the array
         * that holds /boot, on both disks. */
        for (size_t k = 0; k < p->n_partitions; k++) {
                PlanPartition *part = &p->partitions[k];
                const PlanRaid *r = plan_partition_raid(p, part);

                part->legacy_boot = part->boot_flag = false;
                if (r && r->holds_boot) {
                        part->legacy_boot = p->table == PARTITION_TABLE_GPT;
                        part->boot_flag = p->table != PARTITION_TABLE_GPT;
                }
        }
        return 0;
}
