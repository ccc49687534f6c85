/* SPDX-License-Identifier: GPL-2.0-or-later */
/* LVM in the plan: each lvm: entry becomes a volume group over the
 * partitions (of the target) and RAID arrays that name it, with extents of
 * 4 MiB; its logical volumes are sized in whole extents (a size in bytes
 * rounded up, a percentage of the group's extents rounded down, `rest` what
 * is left), and a group whose volumes do not fit is refused here, before
 * anything is written.
 *
 * The group's size: pvcreate puts the label and the metadata area in the
 * first MiB of a physical volume (pe_start = 1 MiB, the default for these
 * sizes; the apply step checks the extent count it gets against the plan),
 * and the rest is cut into 4 MiB extents: exact for a partition. An array's
 * size depends on mdadm's data offset, so for an array the plan reserves
 * PLAN_LVM_MD_RESERVE: conservative (the group may be slightly larger than
 * planned; `rest` takes it all). */
#include <inttypes.h>
#include <stdarg.h>

#include "basic/checked.h"
#include "basic/strutil.h"
#include "plan/plan-internal.h"

const PlanVg *plan_partition_vg(const Plan *p, const PlanPartition *pl) {
        if (!pl->source || !pl->source->lvm || pl->preserve)
                return NULL;
        for (size_t i = 0; i < p->n_vgs; i++)
                if (streq(p->vgs[i].name, pl->source->lvm))
                        return &p->vgs[i];
        return NULL;
}

bool plan_lvm_holds_system(const Plan *p) {
        for (size_t i = 0; i < p->n_vgs; i++)
                for (size_t k = 0; k < p->vgs[i].n_lvs; k++) {
                        const char *m = p->vgs[i].lvs[k].source->mount;
                        if (streq_ptr(m, "/") || streq_ptr(m, "/boot"))
                                return true;
                }
        return false;
}

char *plan_lv_devnode(const PlanVg *vg, const PlanLv *lv) {
        StrBuf b = {};

        /* device-mapper's name: VG-LV, with every '-' in a name doubled. */
        strbuf_appendf(&b, "/dev/mapper/");
        for (const char *s = vg->name; *s; s++)
                strbuf_appendf(&b, "%s", *s == '-' ? "--" : (char[]) { *s, 0 });
        strbuf_appendf(&b, "-");
        for (const char *s = lv->name; *s; s++)
                strbuf_appendf(&b, "%s", *s == '-' ? "--" : (char[]) { *s, 0 });
        return strbuf_steal(&b);
}

void plan_lvm_free(Plan *p) {
        for (size_t i = 0; i < p->n_vgs; i++)
                free(p->vgs[i].lvs);
        free(p->vgs);
        p->vgs = NULL;
        p->n_vgs = 0;
}

/* Usable extents of a physical volume of `size` bytes. */
static uint64_t pv_extents(uint64_t size) {
        return size > PLAN_LVM_PE_START ? (size - PLAN_LVM_PE_START) / PLAN_LVM_EXTENT : 0;
}

/* The physical volumes of vg: partitions of the target, arrays. */
static int plan_vg_pvs(Plan *p, PlanVg *vg, size_t index, ProfileErrors *errors) {
        const ProfileVg *src = vg->source;
        char key[64], a[32];

        snprintf(key, sizeof key, "lvm[%zu]", index);
        for (size_t k = 0; k < p->n_partitions; k++) {
                const PlanPartition *pl = &p->partitions[k];
                const ProfilePartition *pp = pl->source;

                if (!pp || !streq_ptr(pp->lvm, vg->name))
                        continue;
                snprintf(key, sizeof key, "disk.partitions[%zu]", (size_t) (pp - p->profile->disk.partitions));
                if (pl->preserve)
                        return plan_error(p, errors, pp->line, pp->column, key,
                                          "a preserved partition cannot become a physical volume of volume group %s "
                                          "(pvcreate would overwrite its start)",
                                          vg->name);
                if (p->has_mirror)
                        return plan_error(p, errors, pp->line, pp->column, key,
                                          "with disk.mirror a volume group goes on a RAID1 array (set 'lvm: %s' on the "
                                          "raid: entry), not on a partition of one disk",
                                          vg->name);
                if (vg->n_pv_partitions + vg->n_pv_raids >= PLAN_LVM_PV_MAX)
                        return plan_error(p, errors, pp->line, pp->column, key,
                                          "volume group %s has more than %d physical volumes", vg->name, PLAN_LVM_PV_MAX);
                if (pv_extents(pl->size) == 0)
                        return plan_error(p, errors, pp->line, pp->column, key,
                                          "partition %u is %s: too small for a physical volume of volume group %s "
                                          "(1 MiB of LVM metadata and at least one 4 MiB extent)",
                                          pl->number, format_bytes(a, sizeof a, pl->size), vg->name);
                vg->pv_partitions[vg->n_pv_partitions++] = pl->number;
                if (!u64_add_to(&vg->pv_bytes, pl->size) || !u64_add_to(&vg->extents, pv_extents(pl->size)))
                        return plan_error(p, errors, pp->line, pp->column, key,
                                          "volume group %s would be larger than 2^64 bytes", vg->name);
        }
        for (size_t k = 0; k < p->n_raids; k++) {
                const PlanRaid *r = &p->raids[k];

                if (!streq_ptr(r->source->lvm, vg->name))
                        continue;
                if (vg->n_pv_partitions + vg->n_pv_raids >= PLAN_LVM_PV_MAX)
                        return plan_error(p, errors, r->source->line, r->source->column, "raid",
                                          "volume group %s has more than %d physical volumes", vg->name, PLAN_LVM_PV_MAX);
                if (r->size <= PLAN_LVM_MD_RESERVE || pv_extents(r->size - PLAN_LVM_MD_RESERVE) == 0)
                        return plan_error(p, errors, r->source->line, r->source->column, "raid",
                                          "array %s (%s members) is too small for a physical volume of volume group %s",
                                          r->name, format_bytes(a, sizeof a, r->size), vg->name);
                vg->pv_raids[vg->n_pv_raids++] = r->name;
                if (!u64_add_to(&vg->pv_bytes, r->size - PLAN_LVM_MD_RESERVE) ||
                    !u64_add_to(&vg->extents, pv_extents(r->size - PLAN_LVM_MD_RESERVE)))
                        return plan_error(p, errors, r->source->line, r->source->column, "raid",
                                          "volume group %s would be larger than 2^64 bytes", vg->name);
                vg->estimated = true;
        }
        if (vg->n_pv_partitions + vg->n_pv_raids == 0) /* the profile checks say so first */
                return plan_error(p, errors, src->line, src->column, key, "volume group %s has no physical volume",
                                  vg->name);
        return 0;
}

/* The volumes in extents; refused when they do not fit. */
static int plan_vg_lvs(Plan *p, PlanVg *vg, size_t index, ProfileErrors *errors) {
        const ProfileVg *src = vg->source;
        uint64_t used = 0;
        size_t rest = SIZE_MAX;
        char key[96], a[32], b[32], c[32];

        vg->lvs = new0(PlanLv, src->n_volumes ? src->n_volumes : 1);
        if (!vg->lvs)
                return -ENOMEM;
        for (size_t k = 0; k < src->n_volumes; k++) {
                const ProfileVolume *v = &src->volumes[k];
                PlanLv *lv = &vg->lvs[vg->n_lvs++];

                *lv = (PlanLv) { .source = v, .name = v->name };
                snprintf(key, sizeof key, "lvm[%zu].volumes[%zu]", index, k);
                if (vg->n_lvs > PLAN_LVM_LV_MAX)
                        return plan_error(p, errors, v->line, v->column, key,
                                          "volume group %s has more than %d logical volumes", vg->name, PLAN_LVM_LV_MAX);
                /* Whole extents, checked: a size near 2^64 must not wrap
                 * to 0 extents (lvcreate would read that as "all that is
                 * free"), and no volume is 0 extents. */
                switch (v->size.unit) {
                case SIZE_BYTES:
                        lv->extents = u64_div_round_up(v->size.value, PLAN_LVM_EXTENT);
                        break;
                case SIZE_PERCENT:
                        if (!u64_scale(vg->extents, v->size.value, 100, &lv->extents))
                                lv->extents = UINT64_MAX;
                        if (lv->extents == 0)
                                return plan_error(p, errors, v->line, v->column, key,
                                                  "%s: %" PRIu64 "%% of the %" PRIu64 " extents of 4 MiB of volume group %s "
                                                  "is less than one extent; give a size in bytes (at least 4 MiB) or a "
                                                  "larger percentage",
                                                  v->name, v->size.value, vg->extents, vg->name);
                        break;
                case SIZE_REST:
                        lv->rest = true;
                        rest = k;
                        continue;
                }
                if (lv->extents == 0)
                        return plan_error(p, errors, v->line, v->column, key, "%s: a logical volume of 0 bytes", v->name);
                if (!u64_add_to(&used, lv->extents))
                        used = UINT64_MAX;
                if (used > vg->extents)
                        return plan_error(p, errors, v->line, v->column, key,
                                          "the logical volumes of volume group %s do not fit: up to %s they need %" PRIu64
                                          " extents of 4 MiB (%s) but the group has %" PRIu64 " (%s on %s of physical "
                                          "volumes, less 1 MiB of LVM metadata on each%s)",
                                          vg->name, v->name, used,
                                          used > UINT64_MAX / PLAN_LVM_EXTENT ? "more than 16 EiB" :
                                                                              format_bytes(a, sizeof a, used * PLAN_LVM_EXTENT),
                                          vg->extents, format_bytes(b, sizeof b, vg->extents * PLAN_LVM_EXTENT),
                                          format_bytes(c, sizeof c, vg->pv_bytes),
                                          vg->estimated ? "; an array's own metadata reserved" : "");
                lv->size = lv->extents * PLAN_LVM_EXTENT; /* <= the group's bytes: no wrap */
        }
        if (rest != SIZE_MAX) {
                PlanLv *lv = &vg->lvs[rest];
                const ProfileVolume *v = lv->source;

                snprintf(key, sizeof key, "lvm[%zu].volumes[%zu]", index, rest);
                if (used >= vg->extents)
                        return plan_error(p, errors, v->line, v->column, key,
                                          "nothing is left for %s (size: rest) in volume group %s: the other volumes "
                                          "take all of its %" PRIu64 " extents of 4 MiB (%s); it needs at least one",
                                          v->name, vg->name, vg->extents, format_bytes(a, sizeof a, vg->extents * PLAN_LVM_EXTENT));
                lv->extents = vg->extents - used;
                lv->size = lv->extents * PLAN_LVM_EXTENT;
        }
        return 0;
}

int plan_lvm(Plan *p, ProfileErrors *errors) {
        const Profile *pr = p->profile;
        bool boot_partition = false, boot_lv = false, root_lv = false;
        int r;

        if (pr->n_vgs == 0)
                return 0;
        p->vgs = new0(PlanVg, pr->n_vgs);
        if (!p->vgs)
                return -ENOMEM;
        for (size_t i = 0; i < pr->n_vgs; i++) {
                PlanVg *vg = &p->vgs[p->n_vgs++];

                *vg = (PlanVg) { .source = &pr->vgs[i], .name = pr->vgs[i].name };
                r = plan_vg_pvs(p, vg, i, errors);
                if (r < 0)
                        return r;
                r = plan_vg_lvs(p, vg, i, errors);
                if (r < 0)
                        return r;
                for (size_t k = 0; k < vg->n_lvs; k++) {
                        boot_lv = boot_lv || streq_ptr(vg->lvs[k].source->mount, "/boot");
                        root_lv = root_lv || streq_ptr(vg->lvs[k].source->mount, "/");
                }
        }

        /* extlinux reads its files from the filesystem it is installed on,
         * through the partition the MBR code starts: not from a logical
         * volume. (UEFI: systemd-boot and the kernel are on the ESP.) */
        for (size_t i = 0; i < p->n_partitions; i++)
                boot_partition = boot_partition || streq_ptr(p->partitions[i].mount, "/boot");
        for (size_t i = 0; i < p->n_raids; i++)
                boot_partition = boot_partition || streq_ptr(p->raids[i].source->mount, "/boot");
        if (p->firmware == FIRMWARE_BIOS && (boot_lv || (root_lv && !boot_partition))) {
                const ProfileVg *v = &pr->vgs[0];
                return plan_error(p, errors, v->line, v->column, "lvm",
                                  "legacy BIOS boot (extlinux) cannot read /boot from a logical volume: %s; add a /boot "
                                  "partition, e.g. { size: 512MiB, fs: ext4, mount: /boot }",
                                  boot_lv ? "/boot is on one" : "/ is on one and there is no separate /boot");
        }
        return 0;
}

/* ---- printing ---------------------------------------------------------------- */

/* The stack: disk -> partition (or array) -> volume group -> logical volume
 * -> filesystem -> mount. */
void plan_lvm_print_text(const Plan *p, FILE *f) {
        const HwDisk *disk = plan_target_disk(p);
        char a[32], b[32];

        for (size_t i = 0; i < p->n_vgs; i++) {
                const PlanVg *vg = &p->vgs[i];

                fprintf(f, "  %s volume group %s =", i ? "          " : "LVM:      ", vg->name);
                for (size_t k = 0; k < vg->n_pv_partitions; k++)
                        fprintf(f, "%s %s partition %u", k ? " +" : "", disk->devnode, vg->pv_partitions[k]);
                for (size_t k = 0; k < vg->n_pv_raids; k++)
                        fprintf(f, "%s /dev/%s", k || vg->n_pv_partitions ? " +" : "", vg->pv_raids[k]);
                fprintf(f, " (%s): %" PRIu64 " extents of 4 MiB = %s%s\n", format_bytes(a, sizeof a, vg->pv_bytes),
                        vg->extents, format_bytes(b, sizeof b, vg->extents * PLAN_LVM_EXTENT),
                        vg->estimated ? " at least (RAID metadata reserved)" : "");
                for (size_t k = 0; k < vg->n_lvs; k++) {
                        const PlanLv *lv = &vg->lvs[k];
                        const ProfileVolume *v = lv->source;
                        _cleanup_free_ char *dev = plan_lv_devnode(vg, lv);

                        fprintf(f, "               -> %s %s%s (%" PRIu64 " extents) -> %s%s%s%s%s\n", dev ? dev : "?",
                                lv->rest ? "rest: " : "", format_bytes(a, sizeof a, lv->size), lv->extents,
                                v->fs == FS_NONE ? "no filesystem" : fs_type_to_string(v->fs), v->mount ? " at " : "",
                                v->mount ? v->mount : "", v->label ? ", label " : "", v->label ? v->label : "");
                }
        }
}

void plan_lvm_print_json(const Plan *p, JsonWriter *j) {
        const HwDisk *disk = plan_target_disk(p);

        jsonw_array_begin(j, "lvm");
        for (size_t i = 0; i < p->n_vgs; i++) {
                const PlanVg *vg = &p->vgs[i];

                jsonw_object_begin(j, NULL);
                jsonw_string(j, "name", vg->name);
                jsonw_array_begin(j, "physical_volumes");
                for (size_t k = 0; k < vg->n_pv_partitions; k++) {
                        jsonw_object_begin(j, NULL);
                        jsonw_string(j, "disk", disk->devnode);
                        jsonw_u64(j, "partition", vg->pv_partitions[k]);
                        jsonw_object_end(j);
                }
                for (size_t k = 0; k < vg->n_pv_raids; k++) {
                        jsonw_object_begin(j, NULL);
                        jsonw_string(j, "raid", vg->pv_raids[k]);
                        jsonw_object_end(j);
                }
                jsonw_array_end(j);
                jsonw_u64(j, "pv_size_bytes", vg->pv_bytes);
                jsonw_u64(j, "extent_size_bytes", PLAN_LVM_EXTENT);
                jsonw_u64(j, "extents", vg->extents);
                jsonw_u64(j, "size_bytes", vg->extents * PLAN_LVM_EXTENT);
                jsonw_bool(j, "size_exact", !vg->estimated);
                jsonw_array_begin(j, "volumes");
                for (size_t k = 0; k < vg->n_lvs; k++) {
                        const PlanLv *lv = &vg->lvs[k];
                        const ProfileVolume *v = lv->source;
                        _cleanup_free_ char *dev = plan_lv_devnode(vg, lv);

                        jsonw_object_begin(j, NULL);
                        jsonw_string(j, "name", lv->name);
                        jsonw_string(j, "devnode", dev);
                        jsonw_u64(j, "extents", lv->extents);
                        jsonw_u64(j, "size_bytes", lv->size);
                        jsonw_bool(j, "rest", lv->rest);
                        jsonw_string(j, "fs", v->fs == FS_NONE ? NULL : fs_type_to_string(v->fs));
                        jsonw_string(j, "mount", v->mount);
                        jsonw_string(j, "label", v->label);
                        jsonw_string(j, "mount_options", v->mount_options);
                        jsonw_object_end(j);
                }
                jsonw_array_end(j);
                jsonw_object_end(j);
        }
        jsonw_array_end(j);
}
