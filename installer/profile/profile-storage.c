/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Storage beyond plain partitions: raid: (mdadm RAID1 arrays over the
 * partitions of disk and disk.mirror), lvm: (volume groups and their logical
 * volumes), luks: (LUKS2 on a partition, an array or a volume), and the
 * checks that need all of disk:, raid: and lvm: at once. */
#include <inttypes.h>

#include "profile/profile-internal.h"
#include "basic/url.h"

static const char *const fs_names[] = {
        [FS_NONE] = "none", [FS_EXT4] = "ext4", [FS_XFS] = "xfs", [FS_VFAT] = "vfat", [FS_SWAP] = "swap",
};

/* ---- names ------------------------------------------------------------------ */

/* md0 .. md127: the kernel name of the array (/dev/md0). */
const char *profile_check_md_name(const char *s) {
        const char *d = startswith(s, "md");

        if (!d || !d[0] || strspn(d, "0123456789") != strlen(d) || (d[0] == '0' && d[1]) || strlen(d) > 3 ||
            atoi(d) > 127)
                return "must be md0 to md127 (the array is /dev/NAME)";
        return NULL;
}

/* LVM's rules for VG and LV names (lvm(8) "VALID NAMES"), and short enough
 * for a device-mapper name VG-LV. */
const char *profile_check_lvm_name(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 64)
                return "must be 1 to 64 characters long";
        if (s[0] == '-')
                return "must not start with '-'";
        if (streq(s, ".") || streq(s, "..") || startswith(s, "snapshot") || startswith(s, "pvmove"))
                return "is reserved by LVM";
        if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+_.-") != n)
                return "may only contain a-z, A-Z, 0-9, '+', '_', '.' and '-'";
        return NULL;
}

/* A device-mapper name for /dev/mapper/NAME (and /etc/crypttab). */
static const char *check_mapper_name(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 64)
                return "must be 1 to 64 characters long";
        if (streq(s, ".") || streq(s, "..") || streq(s, "control"))
                return "is reserved";
        if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+_.-") != n)
                return "may only contain a-z, A-Z, 0-9, '+', '_', '.' and '-'";
        return NULL;
}

/* ---- luks ---------------------------------------------------------------------- */

static void parse_luks_name(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "LUKS mapping name", check_mapper_name, &((ProfileLuks *) userdata)->name);
}

/* The key URL may carry credentials (user:password@, a token in the query):
 * it is echoed only redacted. */
static void parse_luks_key_url(Checker *c, const YNode *v, void *userdata) {
        ProfileLuks *l = userdata;
        const char *s = ck_scalar(c, v), *why;

        if (!s)
                return;
        why = profile_check_url(s);
        if (why) {
                _cleanup_free_ char *safe = url_redact(s);
                ck_error(c, v, "invalid key URL '%s': %s", safe ? ck_quote(safe).s : "?", why);
                return;
        }
        ck_strdup(c, s, &l->key_url);
}

static void parse_luks_key_sha256(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "sha256", profile_check_sha256, &((ProfileLuks *) userdata)->key_sha256);
        /* Compared with sha256 output: lower case. */
        for (char *q = ((ProfileLuks *) userdata)->key_sha256; q && *q; q++)
                if (*q >= 'A' && *q <= 'F')
                        *q = (char) (*q - 'A' + 'a');
}

static const Field luks_fields[] = {
        { "name", parse_luks_name, true },
        { "key_url", parse_luks_key_url, true },
        { "key_sha256", parse_luks_key_sha256, false },
};

void profile_parse_luks(Checker *c, const YNode *v, ProfileLuks **ret) {
        ProfileLuks *l = new0(ProfileLuks, 1);

        if (!l) {
                ck_oom(c);
                return;
        }
        l->line = v->line;
        l->column = v->column;
        profile_luks_free(*ret);
        *ret = l;
        if (ck_fields(c, v, luks_fields, ELEMENTSOF(luks_fields), l) && l->key_url &&
            startswith(l->key_url, "http://") && !l->key_sha256)
                /* Plain HTTP can be read and changed on the way: the key is
                 * accepted only when its checksum is known. */
                ck_error_key(c, ck_value(v, "key_url"), "key_url",
                             "a key fetched over plain http:// needs 'key_sha256' (or use https://)");
}

void profile_luks_free(ProfileLuks *l) {
        if (!l)
                return;
        free(l->name);
        free(l->key_url);
        free(l->key_sha256);
        free(l);
}

/* ---- what holds a filesystem: an array or a volume -------------------------------- */

typedef struct FsHolder {
        const YNode *node;
        FsType *fs;
        char **mount, **label, **mount_options;
        ProfileLuks **luks;
        bool fs_bad;
} FsHolder;

static void parse_holder_fs(Checker *c, const YNode *v, FsHolder *h) {
        int i = ck_enum(c, v, "filesystem", fs_names, ELEMENTSOF(fs_names));

        if (i < 0)
                h->fs_bad = true;
        else
                *h->fs = (FsType) i;
}

static void parse_holder_mount(Checker *c, const YNode *v, FsHolder *h) {
        const char *s = ck_scalar(c, v), *why;

        if (!s)
                return;
        why = profile_check_mount_point(s);
        if (why)
                ck_error(c, v, "invalid mount point '%s': %s", ck_quote(s).s, why);
        else
                ck_strdup(c, s, h->mount);
}

static void parse_holder_label(Checker *c, const YNode *v, FsHolder *h) {
        ck_validated(c, v, "label", profile_check_label, h->label);
}

static void parse_holder_mount_options(Checker *c, const YNode *v, FsHolder *h) {
        const char *s = ck_scalar(c, v);

        if (!s)
                return;
        if (s[strcspn(s, " \t\n\r")] != 0) {
                ck_error(c, v, "mount options must not contain white space (separate them with ',')");
                return;
        }
        ck_strdup(c, s, h->mount_options);
}

/* After the keys: mount and label agree with fs. */
static void check_holder(Checker *c, FsHolder *h, const char *what) {
        FsType fs = *h->fs;
        const YNode *k;

        if (h->fs_bad)
                return;
        if (profile_fs_is_mounted(fs) && !*h->mount && !ck_present_key(h->node, "mount"))
                ck_error_key(c, h->node, "mount", "missing required key 'mount': %s filesystems need a mount point",
                             fs_names[fs]);
        if (!profile_fs_is_mounted(fs) && (k = ck_present_key(h->node, "mount"))) {
                ck_error_key(c, k, "mount", "%s is not mounted; remove 'mount'",
                             fs == FS_SWAP ? "swap" : what);
                free(*h->mount);
                *h->mount = NULL;
        }
        if (fs == FS_NONE && (k = ck_present_key(h->node, "label")))
                ck_error_key(c, k, "label", "%s without a filesystem has no label", what);
        else if (*h->label && strlen(*h->label) > profile_fs_label_max(fs))
                ck_error_key(c, ck_value(h->node, "label"), "label",
                             "the label '%s' is longer than %zu characters, the limit for %s",
                             ck_quote(*h->label).s, profile_fs_label_max(fs), fs_names[fs]);
        if (fs == FS_NONE && (k = ck_present_key(h->node, "luks")))
                ck_error_key(c, k, "luks", "%s without a filesystem cannot be encrypted here", what);
}

/* ---- raid: -------------------------------------------------------------------------- */

typedef struct RaidState {
        ProfileRaid *raid;
        FsHolder h;
} RaidState;

static void parse_raid_name(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "RAID array name", profile_check_md_name, &((RaidState *) userdata)->raid->name);
}

static void parse_raid_level(Checker *c, const YNode *v, void *userdata) {
        uint64_t u;

        if (!ck_type(c, v, YNODE_SCALAR))
                return;
        if (ynode_u64(v, &u) < 0 || u != 1) {
                ck_error(c, v, "unsupported RAID level '%s': only level 1 (a mirror over disk and disk.mirror) is supported",
                         ck_quote(v->value).s);
                return;
        }
        ((RaidState *) userdata)->raid->level = (unsigned) u;
}

static void parse_raid_fs(Checker *c, const YNode *v, void *userdata) {
        parse_holder_fs(c, v, &((RaidState *) userdata)->h);
}

static void parse_raid_mount(Checker *c, const YNode *v, void *userdata) {
        parse_holder_mount(c, v, &((RaidState *) userdata)->h);
}

static void parse_raid_label(Checker *c, const YNode *v, void *userdata) {
        parse_holder_label(c, v, &((RaidState *) userdata)->h);
}

static void parse_raid_mount_options(Checker *c, const YNode *v, void *userdata) {
        parse_holder_mount_options(c, v, &((RaidState *) userdata)->h);
}

static void parse_raid_lvm(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "volume group name", profile_check_lvm_name, &((RaidState *) userdata)->raid->lvm);
}

static void parse_raid_luks(Checker *c, const YNode *v, void *userdata) {
        profile_parse_luks(c, v, &((RaidState *) userdata)->raid->luks);
}

static const Field raid_fields[] = {
        { "name", parse_raid_name, true },
        { "level", parse_raid_level, false },
        { "fs", parse_raid_fs, false },
        { "mount", parse_raid_mount, false },
        { "label", parse_raid_label, false },
        { "mount_options", parse_raid_mount_options, false },
        { "lvm", parse_raid_lvm, false },
        { "luks", parse_raid_luks, false },
};

void profile_check_raid_section(Checker *c, const YNode *v, Profile *p) {
        if (!ck_type(c, v, YNODE_SEQUENCE))
                return;
        p->raids = new0(ProfileRaid, v->n ? v->n : 1);
        if (!p->raids) {
                ck_oom(c);
                return;
        }
        p->n_raids = v->n;
        for (size_t i = 0; i < v->n; i++) {
                size_t mark = ck_push_index(c, i);
                ProfileRaid *r = &p->raids[i];
                RaidState rs = { .raid = r };
                const YNode *item = v->items[i];

                *r = (ProfileRaid) { .level = 1, .fs = FS_EXT4, .line = item->line, .column = item->column };
                rs.h = (FsHolder) { .node = item, .fs = &r->fs, .mount = &r->mount, .label = &r->label,
                                    .mount_options = &r->mount_options, .luks = &r->luks };
                if (ck_fields(c, item, raid_fields, ELEMENTSOF(raid_fields), &rs)) {
                        if (r->lvm) {
                                static const char *const own[] = { "fs", "mount", "label", "mount_options", "luks" };
                                for (size_t k = 0; k < ELEMENTSOF(own); k++) {
                                        const YNode *key = ck_present_key(item, own[k]);
                                        if (key)
                                                ck_error_key(c, key, own[k],
                                                             "an array with 'lvm' is a physical volume and holds no filesystem of "
                                                             "its own; put '%s' on a logical volume", own[k]);
                                }
                                r->fs = FS_NONE;
                        } else
                                check_holder(c, &rs.h, "an array");
                }
                for (size_t j = 0; r->name && j < i; j++)
                        if (streq_ptr(p->raids[j].name, r->name))
                                ck_error_key(c, ck_value(item, "name"), "name", "RAID array '%s' is already defined by raid[%zu]",
                                             r->name, j);
                ck_pop(c, mark);
        }
}

/* ---- lvm: ------------------------------------------------------------------------------ */

typedef struct VolumeState {
        ProfileVolume *vol;
        FsHolder h;
        bool size_valid;
} VolumeState;

static void parse_volume_name(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "logical volume name", profile_check_lvm_name, &((VolumeState *) userdata)->vol->name);
}

static void parse_volume_size(Checker *c, const YNode *v, void *userdata) {
        VolumeState *vs = userdata;

        vs->size_valid = profile_parse_size(c, v, &vs->vol->size);
}

static void parse_volume_fs(Checker *c, const YNode *v, void *userdata) {
        parse_holder_fs(c, v, &((VolumeState *) userdata)->h);
}

static void parse_volume_mount(Checker *c, const YNode *v, void *userdata) {
        parse_holder_mount(c, v, &((VolumeState *) userdata)->h);
}

static void parse_volume_label(Checker *c, const YNode *v, void *userdata) {
        parse_holder_label(c, v, &((VolumeState *) userdata)->h);
}

static void parse_volume_mount_options(Checker *c, const YNode *v, void *userdata) {
        parse_holder_mount_options(c, v, &((VolumeState *) userdata)->h);
}

static void parse_volume_luks(Checker *c, const YNode *v, void *userdata) {
        profile_parse_luks(c, v, &((VolumeState *) userdata)->vol->luks);
}

static const Field volume_fields[] = {
        { "name", parse_volume_name, true },
        { "size", parse_volume_size, true },
        { "fs", parse_volume_fs, false },
        { "mount", parse_volume_mount, false },
        { "label", parse_volume_label, false },
        { "mount_options", parse_volume_mount_options, false },
        { "luks", parse_volume_luks, false },
};

static void parse_vg_volumes(Checker *c, const YNode *v, void *userdata) {
        ProfileVg *vg = userdata;
        size_t rest = SIZE_MAX;
        uint64_t percent = 0;

        if (!ck_type(c, v, YNODE_SEQUENCE))
                return;
        if (v->n == 0) {
                ck_error(c, v, "needs at least one logical volume");
                return;
        }
        vg->volumes = new0(ProfileVolume, v->n);
        if (!vg->volumes) {
                ck_oom(c);
                return;
        }
        vg->n_volumes = v->n;
        for (size_t i = 0; i < v->n; i++) {
                size_t mark = ck_push_index(c, i);
                ProfileVolume *vol = &vg->volumes[i];
                const YNode *item = v->items[i];
                VolumeState vs = { .vol = vol };

                *vol = (ProfileVolume) { .fs = FS_EXT4, .line = item->line, .column = item->column };
                vs.h = (FsHolder) { .node = item, .fs = &vol->fs, .mount = &vol->mount, .label = &vol->label,
                                    .mount_options = &vol->mount_options, .luks = &vol->luks };
                if (ck_fields(c, item, volume_fields, ELEMENTSOF(volume_fields), &vs))
                        check_holder(c, &vs.h, "a logical volume");
                for (size_t j = 0; vol->name && j < i; j++)
                        if (streq_ptr(vg->volumes[j].name, vol->name))
                                ck_error_key(c, ck_value(item, "name"), "name",
                                             "logical volume '%s' is already defined by volumes[%zu]", vol->name, j);
                if (vs.size_valid && vol->size.unit == SIZE_REST) {
                        if (rest != SIZE_MAX)
                                ck_error_key(c, ck_value(item, "size"), "size",
                                             "only one logical volume can have size 'rest'; volumes[%zu] already has it", rest);
                        rest = i;
                } else if (vs.size_valid && vol->size.unit == SIZE_PERCENT) {
                        percent += vol->size.value;
                        if (percent > 100)
                                ck_error_key(c, ck_value(item, "size"), "size",
                                             "the percentages add up to %" PRIu64 "%%, more than 100%%", percent);
                }
                ck_pop(c, mark);
        }
}

static void parse_vg_name(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "volume group name", profile_check_lvm_name, &((ProfileVg *) userdata)->name);
}

static const Field vg_fields[] = {
        { "name", parse_vg_name, true },
        { "volumes", parse_vg_volumes, true },
};

void profile_check_lvm_section(Checker *c, const YNode *v, Profile *p) {
        if (!ck_type(c, v, YNODE_SEQUENCE))
                return;
        p->vgs = new0(ProfileVg, v->n ? v->n : 1);
        if (!p->vgs) {
                ck_oom(c);
                return;
        }
        p->n_vgs = v->n;
        for (size_t i = 0; i < v->n; i++) {
                size_t mark = ck_push_index(c, i);
                ProfileVg *vg = &p->vgs[i];

                vg->line = v->items[i]->line;
                vg->column = v->items[i]->column;
                ck_fields(c, v->items[i], vg_fields, ELEMENTSOF(vg_fields), vg);
                for (size_t j = 0; vg->name && j < i; j++)
                        if (streq_ptr(p->vgs[j].name, vg->name))
                                ck_error_key(c, ck_value(v->items[i], "name"), "name",
                                             "volume group '%s' is already defined by lvm[%zu]", vg->name, j);
                ck_pop(c, mark);
        }
}

/* ---- across sections ---------------------------------------------------------------------- */

/* The YAML node of root.KEY[i].SUB (for positions), or fallbacks. */
static const YNode *node_at(const YNode *root, const char *key, size_t i, const char *sub) {
        const YNode *s = ck_value(root, key), *item;

        if (!s || s->type != YNODE_SEQUENCE || i >= s->n)
                return s;
        item = s->items[i];
        return sub && item->type == YNODE_MAPPING && ck_value(item, sub) ? ck_value(item, sub) : item;
}

typedef struct MountSeen {
        const char *mount;
        char *where;
} MountSeen;

static void check_mount_unique(Checker *c, MountSeen *seen, size_t *n, const char *mount, const char *where,
                               const YNode *at, const char *path) {
        if (!mount)
                return;
        for (size_t i = 0; i < *n; i++)
                if (streq(seen[i].mount, mount)) {
                        size_t mark = ck_push_key(c, path);
                        ck_error(c, at, "mount point '%s' is already used by %s", mount, seen[i].where);
                        ck_pop(c, mark);
                        return;
                }
        seen[*n].mount = mount;
        seen[*n].where = strdup(where);
        if (!seen[*n].where)
                ck_oom(c);
        (*n)++;
}

static void check_luks_unique(Checker *c, const ProfileLuks **seen, size_t *n, const ProfileLuks *l,
                              const YNode *at, const char *path) {
        if (!l || !l->name)
                return;
        for (size_t i = 0; i < *n; i++)
                if (streq(seen[i]->name, l->name)) {
                        size_t mark = ck_push_key(c, path);
                        ck_error(c, at, "LUKS mapping name '%s' is used twice", l->name);
                        ck_pop(c, mark);
                        return;
                }
        seen[(*n)++] = l;
}

void profile_check_storage(Checker *c, const YNode *root, Profile *p) {
        const ProfileDisk *d = &p->disk;
        const YNode *parts = ck_value(ck_value(root, "disk"), "partitions");
        size_t n_all = d->n_partitions + p->n_raids, n_seen = 0, n_luks = 0;
        bool have_root = d->have_root, bad = d->mounts_bad;
        char path[96];

        for (size_t i = 0; i < p->n_vgs; i++)
                n_all += p->vgs[i].n_volumes;
        _cleanup_free_ MountSeen *seen = new0(MountSeen, n_all + 1);
        _cleanup_free_ const ProfileLuks **luks = new0(const ProfileLuks *, n_all + 1);
        if (!seen || !luks) {
                ck_oom(c);
                return;
        }

        /* Partitions: mount points were checked among themselves already. */
        for (size_t i = 0; i < d->n_partitions; i++) {
                const ProfilePartition *pp = &d->partitions[i];
                const YNode *item = parts && parts->type == YNODE_SEQUENCE && i < parts->n ? parts->items[i] : parts;

                snprintf(path, sizeof path, "disk.partitions[%zu]", i);
                if (pp->mount) {
                        seen[n_seen].mount = pp->mount;
                        seen[n_seen].where = strdup(path);
                        n_seen++;
                }
                check_luks_unique(c, luks, &n_luks, pp->luks, item, path);
                if (pp->raid) {
                        bool found = false;
                        for (size_t k = 0; k < p->n_raids && !found; k++)
                                found = streq_ptr(p->raids[k].name, pp->raid);
                        if (!found) {
                                size_t mark = ck_push_key(c, path);
                                ck_error_key(c, ck_value(item, "raid"), "raid", "no RAID array '%s' in the raid: section",
                                             pp->raid);
                                ck_pop(c, mark);
                        } else if (!d->has_mirror) {
                                size_t mark = ck_push_key(c, path);
                                ck_error_key(c, ck_value(item, "raid"), "raid",
                                             "RAID1 needs a second disk: add disk.mirror.select to name it");
                                ck_pop(c, mark);
                        }
                }
                if (pp->lvm) {
                        bool found = false;
                        for (size_t k = 0; k < p->n_vgs && !found; k++)
                                found = streq_ptr(p->vgs[k].name, pp->lvm);
                        if (!found) {
                                size_t mark = ck_push_key(c, path);
                                ck_error_key(c, ck_value(item, "lvm"), "lvm", "no volume group '%s' in the lvm: section",
                                             pp->lvm);
                                ck_pop(c, mark);
                        }
                }
        }

        for (size_t i = 0; i < p->n_raids; i++) {
                const ProfileRaid *r = &p->raids[i];
                bool member = false;

                snprintf(path, sizeof path, "raid[%zu]", i);
                for (size_t k = 0; k < d->n_partitions && !member; k++)
                        member = streq_ptr(d->partitions[k].raid, r->name);
                if (r->name && !member) {
                        size_t mark = ck_push_key(c, path);
                        ck_error_key(c, node_at(root, "raid", i, "name"), "name",
                                     "RAID array '%s' has no members: give a partition 'raid: %s'", r->name, r->name);
                        ck_pop(c, mark);
                }
                if (r->lvm) {
                        bool found = false;
                        for (size_t k = 0; k < p->n_vgs && !found; k++)
                                found = streq_ptr(p->vgs[k].name, r->lvm);
                        if (!found) {
                                size_t mark = ck_push_key(c, path);
                                ck_error_key(c, node_at(root, "raid", i, "lvm"), "lvm",
                                             "no volume group '%s' in the lvm: section", r->lvm);
                                ck_pop(c, mark);
                        }
                }
                have_root = have_root || streq_ptr(r->mount, "/");
                check_mount_unique(c, seen, &n_seen, r->mount, path, node_at(root, "raid", i, "mount"), path);
                check_luks_unique(c, luks, &n_luks, r->luks, node_at(root, "raid", i, "luks"), path);
        }

        for (size_t i = 0; i < p->n_vgs; i++) {
                const ProfileVg *vg = &p->vgs[i];
                bool pv = false;

                snprintf(path, sizeof path, "lvm[%zu]", i);
                for (size_t k = 0; k < d->n_partitions && !pv; k++)
                        pv = streq_ptr(d->partitions[k].lvm, vg->name);
                for (size_t k = 0; k < p->n_raids && !pv; k++)
                        pv = streq_ptr(p->raids[k].lvm, vg->name);
                if (vg->name && !pv) {
                        size_t mark = ck_push_key(c, path);
                        ck_error_key(c, node_at(root, "lvm", i, "name"), "name",
                                     "volume group '%s' has no physical volume: give a partition or a raid: entry 'lvm: %s'",
                                     vg->name, vg->name);
                        ck_pop(c, mark);
                }
                const YNode *vgnode = node_at(root, "lvm", i, NULL);
                const YNode *vols = vgnode && vgnode->type == YNODE_MAPPING ? ck_value(vgnode, "volumes") : NULL;
                for (size_t k = 0; k < vg->n_volumes; k++) {
                        const ProfileVolume *vol = &vg->volumes[k];
                        const YNode *item = vols && vols->type == YNODE_SEQUENCE && k < vols->n ? vols->items[k] : vgnode;
                        char vpath[128];

                        snprintf(vpath, sizeof vpath, "lvm[%zu].volumes[%zu]", i, k);
                        have_root = have_root || streq_ptr(vol->mount, "/");
                        check_mount_unique(c, seen, &n_seen, vol->mount, vpath,
                                           item && item->type == YNODE_MAPPING && ck_value(item, "mount") ?
                                                   ck_value(item, "mount") : item,
                                           vpath);
                        check_luks_unique(c, luks, &n_luks, vol->luks, item, vpath);
                }
        }

        if (!have_root && !bad && d->n_partitions > 0) {
                size_t mark = ck_push_key(c, "disk.partitions");
                if (p->n_raids == 0 && p->n_vgs == 0)
                        ck_error(c, parts ?: ck_value(root, "disk"), "no partition is mounted at '/'");
                else
                        ck_error(c, parts ?: ck_value(root, "disk"),
                                 "no partition, RAID array or logical volume is mounted at '/'");
                ck_pop(c, mark);
        }
        for (size_t i = 0; i < n_seen; i++)
                free(seen[i].where);
}

void profile_storage_done(Profile *p) {
        for (size_t i = 0; i < p->n_raids; i++) {
                ProfileRaid *r = &p->raids[i];
                free(r->name);
                free(r->mount);
                free(r->label);
                free(r->mount_options);
                free(r->lvm);
                profile_luks_free(r->luks);
        }
        free(p->raids);
        p->raids = NULL;
        p->n_raids = 0;
        for (size_t i = 0; i < p->n_vgs; i++) {
                ProfileVg *vg = &p->vgs[i];
                for (size_t k = 0; k < vg->n_volumes; k++) {
                        ProfileVolume *v = &vg->volumes[k];
                        free(v->name);
                        free(v->mount);
                        free(v->label);
                        free(v->mount_options);
                        profile_luks_free(v->luks);
                }
                free(vg->volumes);
                free(vg->name);
        }
        free(p->vgs);
        p->vgs = NULL;
        p->n_vgs = 0;
}
