/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The volume list (plan.h, PlanVolume): the partitions, arrays, LUKS
 * mappings, volume groups and logical volumes the plan has made so far,
 * flattened into one ordered list in which everything comes after what it
 * sits on, plus the order to mount them in (parents first, any depth).
 * The limits that only make sense once everything is known are checked
 * here, with the profile position of the entry they concern. Pure. */
#include <inttypes.h>
#include <stdarg.h>

#include "basic/strutil.h"
#include "plan/plan-internal.h"

static const char *const kind_names[_PLAN_VOLUME_KIND_MAX] = {
        [PLAN_VOLUME_PARTITION] = "partition", [PLAN_VOLUME_RAID] = "raid", [PLAN_VOLUME_LUKS] = "luks",
        [PLAN_VOLUME_VG] = "vg", [PLAN_VOLUME_LV] = "lv",
};

const char *plan_volume_kind_to_string(PlanVolumeKind k) {
        return (size_t) k < ELEMENTSOF(kind_names) ? kind_names[k] : NULL;
}

const PlanVolume *plan_volume_of_partition(const Plan *p, const PlanPartition *pl) {
        for (size_t i = 0; i < p->n_volumes; i++)
                if (p->volumes[i].partition == pl)
                        return &p->volumes[i];
        return NULL;
}

void plan_volumes_free(Plan *p) {
        for (size_t i = 0; i < p->n_volumes; i++) {
                free(p->volumes[i].id);
                free(p->volumes[i].on);
                free(p->volumes[i].where);
        }
        free(p->volumes);
        free(p->mount_order);
        p->volumes = NULL;
        p->mount_order = NULL;
        p->n_volumes = p->n_mount_order = 0;
}

static unsigned mount_depth(const char *m) {
        unsigned n = 0;

        if (!m || streq(m, "/"))
                return 0;
        for (; *m; m++)
                n += *m == '/';
        return n;
}

/* A mount point the installer can make under its root: short enough for
 * PATH_MAX with that root in front, no component beyond NAME_MAX. NULL
 * when fine. */
static const char *mount_too_long(const char *m, char *buf, size_t size) {
        size_t len = strlen(m);

        if (len > PLAN_MOUNT_PATH_MAX) {
                snprintf(buf, size, "is %zu bytes long; at most %d are supported", len, PLAN_MOUNT_PATH_MAX);
                return buf;
        }
        for (const char *c = m; *c;) {
                size_t n = strcspn(c, "/");
                if (n > PLAN_MOUNT_NAME_MAX) {
                        snprintf(buf, size, "has a component of %zu bytes; at most %d are allowed", n, PLAN_MOUNT_NAME_MAX);
                        return buf;
                }
                c += n;
                c += *c == '/';
        }
        return NULL;
}

static int add_on(PlanVolume *v, size_t index) {
        size_t *on = realloc(v->on, (v->n_on + 1) * sizeof *on);

        if (!on)
                return -ENOMEM;
        v->on = on;
        v->on[v->n_on++] = index;
        return 0;
}

/* The index of the partition volume numbered `number`, or SIZE_MAX. */
static size_t partition_volume(const Plan *p, unsigned number) {
        for (size_t i = 0; i < p->n_volumes; i++)
                if (p->volumes[i].kind == PLAN_VOLUME_PARTITION && p->volumes[i].partition->number == number)
                        return i;
        return SIZE_MAX;
}

static size_t volume_by_id(const Plan *p, PlanVolumeKind kind, const char *name) {
        for (size_t i = 0; i < p->n_volumes; i++) {
                const PlanVolume *v = &p->volumes[i];
                if (v->kind != kind)
                        continue;
                if ((kind == PLAN_VOLUME_RAID && streq(v->raid->name, name)) ||
                    (kind == PLAN_VOLUME_VG && streq(v->vg->name, name)))
                        return i;
        }
        return SIZE_MAX;
}

static PlanVolume *add(Plan *p, PlanVolumeKind kind, const char *where, unsigned line, unsigned column,
                       const char *id_fmt, ...) _printf_(6, 7);
static PlanVolume *add(Plan *p, PlanVolumeKind kind, const char *where, unsigned line, unsigned column,
                       const char *id_fmt, ...) {
        PlanVolume *v = &p->volumes[p->n_volumes];
        va_list ap;
        int r;

        *v = (PlanVolume) { .kind = kind, .line = line, .column = column };
        va_start(ap, id_fmt);
        r = vasprintf(&v->id, id_fmt, ap);
        va_end(ap);
        if (r < 0) {
                v->id = NULL;
                return NULL;
        }
        if (where && !(v->where = strdup(where))) {
                free(v->id);
                return NULL;
        }
        p->n_volumes++;
        return v;
}

static int build_list(Plan *p) {
        const ProfileDisk *pd = &p->profile->disk;
        size_t n = p->n_partitions + p->n_raids + p->n_luks + p->n_vgs, lv_index = 0;
        char where[64];

        for (size_t i = 0; i < p->n_vgs; i++)
                n += p->vgs[i].n_lvs;
        p->volumes = new0(PlanVolume, n ? n : 1);
        if (!p->volumes)
                return -ENOMEM;

        for (size_t i = 0; i < p->n_partitions; i++) {
                const PlanPartition *pl = &p->partitions[i];
                const ProfilePartition *pp = pl->source;
                bool stacked = plan_partition_raid(p, pl) || plan_partition_vg(p, pl) || plan_partition_luks(p, pl);
                PlanVolume *v;

                if (pp)
                        snprintf(where, sizeof where, "disk.partitions[%zu]", (size_t) (pp - pd->partitions));
                v = add(p, PLAN_VOLUME_PARTITION, pp ? where : NULL, pp ? pp->line : 0, pp ? pp->column : 0,
                        "partition:%u", pl->number);
                if (!v)
                        return -ENOMEM;
                v->partition = pl;
                v->fs_seed = pl->number;
                v->size = pl->size;
                v->preserve = pl->preserve;
                v->fs_uuid = pl->fs_uuid;
                if (!stacked) {
                        v->fs = pl->fs;
                        v->mount = pl->mount;
                        v->label = pl->label;
                        v->mount_options = pl->mount_options;
                }
        }
        for (size_t i = 0; i < p->n_raids; i++) {
                const PlanRaid *r = &p->raids[i];
                const ProfileRaid *src = r->source;
                size_t member = partition_volume(p, r->member);
                PlanVolume *v;

                snprintf(where, sizeof where, "raid[%zu]", (size_t) (src - p->profile->raids));
                v = add(p, PLAN_VOLUME_RAID, where, src->line, src->column, "raid:%s", r->name);
                if (!v)
                        return -ENOMEM;
                v->raid = r;
                v->fs_seed = 256 + (unsigned) atoi(r->name + strlen("md")); /* md0 .. md127 (profile) */
                v->size = r->size;
                if (!src->lvm) {
                        v->fs = src->fs;
                        v->mount = src->mount;
                        v->label = src->label;
                        v->mount_options = src->mount_options;
                }
                if (member == SIZE_MAX || add_on(v, member) < 0)
                        return member == SIZE_MAX ? -EINVAL : -ENOMEM;
        }
        for (size_t i = 0; i < p->n_luks; i++) {
                const PlanLuks *k = &p->luks[i];
                size_t part = partition_volume(p, k->partition);
                PlanVolume *v;

                if (part == SIZE_MAX)
                        return -EINVAL;
                const PlanPartition *pl = p->volumes[part].partition;
                v = add(p, PLAN_VOLUME_LUKS, k->where, k->source->line, k->source->column, "luks:%s", k->name);
                if (!v)
                        return -ENOMEM;
                v->luks = k;
                v->fs_seed = pl->number; /* the filesystem is the partition's, moved onto the mapping */
                v->size = pl->size;
                v->fs = pl->fs;
                v->mount = pl->mount;
                v->label = pl->label;
                v->mount_options = pl->mount_options;
                if (add_on(v, part) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < p->n_vgs; i++) {
                const PlanVg *vg = &p->vgs[i];
                PlanVolume *v;

                snprintf(where, sizeof where, "lvm[%zu]", (size_t) (vg->source - p->profile->vgs));
                v = add(p, PLAN_VOLUME_VG, where, vg->source->line, vg->source->column, "vg:%s", vg->name);
                if (!v)
                        return -ENOMEM;
                v->vg = vg;
                v->size = vg->extents * PLAN_LVM_EXTENT;
                for (size_t k = 0; k < vg->n_pv_partitions; k++) {
                        size_t on = partition_volume(p, vg->pv_partitions[k]);
                        if (on == SIZE_MAX || add_on(v, on) < 0)
                                return on == SIZE_MAX ? -EINVAL : -ENOMEM;
                }
                for (size_t k = 0; k < vg->n_pv_raids; k++) {
                        size_t on = volume_by_id(p, PLAN_VOLUME_RAID, vg->pv_raids[k]);
                        if (on == SIZE_MAX || add_on(v, on) < 0)
                                return on == SIZE_MAX ? -EINVAL : -ENOMEM;
                }
        }
        for (size_t i = 0; i < p->n_vgs; i++) {
                const PlanVg *vg = &p->vgs[i];
                size_t on = volume_by_id(p, PLAN_VOLUME_VG, vg->name);

                for (size_t k = 0; k < vg->n_lvs; k++, lv_index++) {
                        const PlanLv *lv = &vg->lvs[k];
                        const ProfileVolume *src = lv->source;
                        PlanVolume *v;

                        snprintf(where, sizeof where, "lvm[%zu].volumes[%zu]", (size_t) (vg->source - p->profile->vgs),
                                 (size_t) (src - vg->source->volumes));
                        v = add(p, PLAN_VOLUME_LV, where, src->line, src->column, "lv:%s/%s", vg->name, lv->name);
                        if (!v)
                                return -ENOMEM;
                        v->vg = vg;
                        v->lv = lv;
                        v->fs_seed = 512 + (unsigned) lv_index;
                        v->size = lv->size;
                        v->fs = src->fs;
                        v->mount = src->mount;
                        v->label = src->label;
                        v->mount_options = src->mount_options;
                        if (on == SIZE_MAX || add_on(v, on) < 0)
                                return on == SIZE_MAX ? -EINVAL : -ENOMEM;
                }
        }
        return 0;
}

/* Parents before children: by depth, in list order within a depth. */
static int cmp_depth(const void *a, const void *b, void *userdata) {
        const Plan *p = userdata;
        size_t x = *(const size_t *) a, y = *(const size_t *) b;
        unsigned dx = p->volumes[x].mount_depth, dy = p->volumes[y].mount_depth;

        return dx != dy ? (dx < dy ? -1 : 1) : (x < y ? -1 : x > y);
}

int plan_volumes(Plan *p, ProfileErrors *errors) {
        int r;

        r = build_list(p);
        if (r == -EINVAL) /* an inconsistency between the plan's own parts: a bug */
                return plan_error(p, errors, 0, 0, "disk", "internal error: the plan's volumes do not fit together");
        if (r < 0)
                return r;

        p->mount_order = new0(size_t, p->n_volumes ? p->n_volumes : 1);
        if (!p->mount_order)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_volumes; i++) {
                PlanVolume *v = &p->volumes[i];
                char why[96];

                if (!v->mount || v->fs == FS_SWAP || v->fs == FS_NONE)
                        continue;
                if (mount_too_long(v->mount, why, sizeof why))
                        return plan_error(p, errors, v->line, v->column, v->where ? v->where : "disk",
                                          "mount point %.64s... %s", v->mount, why);
                v->mount_depth = mount_depth(v->mount);
                p->mount_order[p->n_mount_order++] = i;
        }
        qsort_r(p->mount_order, p->n_mount_order, sizeof *p->mount_order, cmp_depth, p);
        return 0;
}

void plan_volumes_print_json(const Plan *p, JsonWriter *j) {
        jsonw_array_begin(j, "volumes");
        for (size_t i = 0; i < p->n_volumes; i++) {
                const PlanVolume *v = &p->volumes[i];

                jsonw_object_begin(j, NULL);
                jsonw_string(j, "id", v->id);
                jsonw_string(j, "kind", plan_volume_kind_to_string(v->kind));
                jsonw_u64(j, "size_bytes", v->size);
                jsonw_string(j, "fs", v->fs == FS_NONE ? NULL : fs_type_to_string(v->fs));
                jsonw_string(j, "mount", v->mount);
                jsonw_string(j, "label", v->label);
                jsonw_string(j, "mount_options", v->mount_options);
                jsonw_bool(j, "preserve", v->preserve);
                jsonw_array_begin(j, "on");
                for (size_t k = 0; k < v->n_on; k++)
                        jsonw_string(j, NULL, p->volumes[v->on[k]].id);
                jsonw_array_end(j);
                jsonw_string(j, "source", v->where);
                if (v->line > 0) {
                        jsonw_u64(j, "line", v->line);
                        jsonw_u64(j, "column", v->column);
                }
                jsonw_object_end(j);
        }
        jsonw_array_end(j);
        jsonw_array_begin(j, "mount_order");
        for (size_t i = 0; i < p->n_mount_order; i++)
                jsonw_string(j, NULL, p->volumes[p->mount_order[i]].id);
        jsonw_array_end(j);
}
