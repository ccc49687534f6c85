/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Applying a validated plan, phase by phase. The order is the safety
 * argument: the target is re-checked right before the first write, only the
 * planned target disk is ever opened for writing, the image checksum is
 * verified before the target is configured, and the bootloader is written
 * last, so a failure at any point leaves a disk that does not boot. */
#include <inttypes.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/strutil.h"
#include "boot/boot.h"
#include "disk/disk.h"
#include "fetch/fetch.h"
#include "image/image.h"
#include "install/install.h"
#include "plan/plan.h"
#include "report/report.h"
#include "target/target.h"

#define TARGET_ROOT "/mnt/target"
#define APPLY_LV_MAX 32

typedef struct Apply {
        const Plan *plan;
        const char *disk;
        char *devnodes[64];     /* per plan partition */
        char *uuids[64];        /* filesystem UUID per plan partition */
        char *mounted[64];      /* mount points, in mount order */
        size_t n_mounted;
        const char *mirror;     /* RAID1: the second disk, or NULL */
        char *md_devnodes[16];  /* per plan array: /dev/md0 */
        char *md_uuids[16];     /* filesystem UUID per plan array */
        size_t n_md_created;    /* arrays created (stopped at the end) */
        const InstallKeys *keys; /* per plan->luks[] */
        char *luks_mappers[16]; /* per plan->luks[]: /dev/mapper/NAME while open */
        char *luks_uuids[16];   /* per plan->luks[]: of the LUKS2 header */
        const char *fs_devs[64]; /* per plan partition: where its filesystem is, when not on it (LUKS) */
        char *lv_devnodes[APPLY_LV_MAX]; /* per logical volume, volume groups in plan order */
        char *lv_uuids[APPLY_LV_MAX];    /* filesystem UUID per logical volume */
        size_t n_vg_created;    /* volume groups created (deactivated at the end) */
} Apply;

static void apply_done(Apply *a) {
        for (size_t i = 0; i < 64; i++) {
                free(a->devnodes[i]);
                free(a->uuids[i]);
        }
        for (size_t i = 0; i < 16; i++) {
                free(a->md_devnodes[i]);
                free(a->md_uuids[i]);
                free(a->luks_mappers[i]);
                free(a->luks_uuids[i]);
        }
        for (size_t i = 0; i < a->n_mounted; i++)
                free(a->mounted[i]);
        for (size_t i = 0; i < APPLY_LV_MAX; i++) {
                free(a->lv_devnodes[i]);
                free(a->lv_uuids[i]);
        }
}

static int fail(Phase *ph, int r, const char *what, char *err) {
        log_error("%s: %s", what, err ? err : strerror(-r));
        free(err);
        return report_phase_end(ph, r, NULL);
}

/* RAID1: the second disk gets the same teardown and checks as the target,
 * before anything is written to either disk. */
static int step_check_mirror(Apply *a) {
        const Plan *plan = a->plan;
        char *err = NULL;
        Phase ph;
        int r;

        _cleanup_free_ char *released = NULL;
        report_phase_begin(&ph, "teardown-mirror", "%s", a->mirror);
        /* disk identity (issue 11): stopping an array writes its superblocks */
        r = disk_verify_identity(plan_mirror_disk(plan), a->mirror, &err);
        if (r < 0)
                return fail(&ph, r, "Refusing the mirror disk", err);
        r = disk_teardown(a->mirror, &released, &err);
        if (r < 0)
                return fail(&ph, r, "Cannot release the mirror disk", err);
        report_phase_end(&ph, 0, "%s", released ? released : "nothing held it");

        report_phase_begin(&ph, "check-mirror", "%s", a->mirror);
        r = disk_check_mirror(plan, a->mirror, &err);
        if (r < 0)
                return fail(&ph, r, "Refusing the mirror disk", err);
        return report_phase_end(&ph, 0, NULL);
}

/* RAID1: the second disk gets the same wipe and partition table. */
static int step_prepare_mirror(Apply *a) {
        const Plan *plan = a->plan;
        char *err = NULL;
        Phase ph;
        int r;

        report_phase_begin(&ph, "wipe-mirror", "%s%s", a->mirror,
                           plan->mirror_wipe ? " (holds data; the profile allows wiping it)" : "");
        r = disk_wipe(plan, a->mirror, &err);
        if (r < 0)
                return fail(&ph, r, "Wiping failed", err);
        report_phase_end(&ph, 0, NULL);

        report_phase_begin(&ph, "partition-mirror", "%s, %s, %zu partitions (as %s)", a->mirror,
                           partition_table_to_string(plan->table), plan->n_partitions, a->disk);
        r = disk_partition(plan, a->mirror, &err);
        if (r < 0)
                return fail(&ph, r, "Partitioning failed", err);
        r = disk_wait_partitions(a->mirror, (unsigned) plan->n_partitions, 10000);
        if (r < 0)
                return fail(&ph, r, "Partition device nodes did not appear", NULL);
        /* An old array's superblock on a member must not reassemble. */
        for (size_t i = 0; i < plan->n_partitions; i++) {
                _cleanup_free_ char *node = NULL;
                r = disk_partition_devnode(a->mirror, plan->partitions[i].number, &node);
                if (r >= 0)
                        r = disk_wipe_signatures(node, &err);
                if (r < 0)
                        return fail(&ph, r, "Wiping a new partition failed", err);
        }
        return report_phase_end(&ph, 0, NULL);
}

/* KiB/s for the arrays' initial resync during the install: the kernel's
 * default speed_limit_min. */
#define MD_INSTALL_SYNC_SPEED_KIB "1000"

/* Where the arrays' initial resync stands, for the log. */
static void log_md_sync(const Apply *a) {
        for (size_t i = 0; i < a->n_md_created; i++) {
                _cleanup_free_ char *line = NULL;
                if (disk_md_sync_status(a->plan->raids[i].name, &line) >= 0)
                        report_info("%s", line);
        }
}

/* RAID1 arrays over partition N of both disks, and their filesystems. */
static int step_raid(Apply *a) {
        const Plan *plan = a->plan;
        char *err = NULL;
        Phase ph;
        int r;

        if (plan->n_raids == 0)
                return 0;
        if (plan->n_raids > 16)
                return -E2BIG;
        report_phase_begin(&ph, "raid", "%zu RAID1 array%s over %s and %s", plan->n_raids, plan->n_raids == 1 ? "" : "s",
                           a->disk, a->mirror);
        char *modules[] = { (char *) "md_mod", (char *) "raid1", NULL };
        r = disk_load_modules(modules, &err);
        if (r < 0)
                return fail(&ph, r, "Loading the RAID modules", err);
        /* disk identity (issue 11): still the planned disk(s)? */
        r = disk_verify_plan(plan, &err);
        if (r < 0)
                return fail(&ph, r, "Refusing to write", err);
        for (size_t i = 0; i < plan->n_raids; i++) {
                const PlanRaid *pr = &plan->raids[i];
                _cleanup_free_ char *m0 = NULL, *m1 = NULL;

                r = disk_partition_devnode(a->disk, pr->member, &m0);
                if (r >= 0)
                        r = disk_partition_devnode(a->mirror, pr->member, &m1);
                if (r < 0)
                        return fail(&ph, r, "Partition device", NULL);
                char *members[] = { m0, m1, NULL };
                r = disk_md_create(pr->name, pr->metadata, members, 2, plan->profile->hostname, &err);
                if (r < 0)
                        return fail(&ph, r, "Creating the RAID1 array", err);
                a->n_md_created = i + 1;
                /* The initial resync copies the whole partition while the
                 * image is written to it: held to the minimum speed, it does
                 * not slow the install down; the installed system carries on
                 * from where it got to (at full speed when idle). */
                r = disk_md_set_sync_speed_max(pr->name, MD_INSTALL_SYNC_SPEED_KIB);
                if (r < 0)
                        log_warning_errno(r, "Cannot limit the resync speed of %s: %m", pr->name);
                a->md_devnodes[i] = strprintf("/dev/%s", pr->name);
                if (!a->md_devnodes[i])
                        return -ENOMEM;
                if (pr->source->fs == FS_NONE)
                        continue;
                /* disk_mkfs() takes a partition: the array's filesystem as one
                 * (numbered after the partitions, for reproducible UUIDs). */
                PlanPartition fsp = { .number = 100 + (unsigned) i, .fs = pr->source->fs, .mount = pr->source->mount,
                                      .label = pr->source->label };
                r = disk_mkfs(&fsp, a->md_devnodes[i], &a->md_uuids[i], &err);
                if (r < 0)
                        return fail(&ph, r, a->md_devnodes[i], err);
                report_info("%s: RAID1 (metadata %s) of %s + %s, %s%s%s UUID %s", a->md_devnodes[i], pr->metadata, m0, m1,
                            fs_type_to_string(pr->source->fs), pr->source->mount ? " for " : "",
                            pr->source->mount ? pr->source->mount : "", a->md_uuids[i] ? a->md_uuids[i] : "?");
        }
        log_md_sync(a);
        return report_phase_end(&ph, 0, NULL);
}

/* ---- LVM ---------------------------------------------------------------------- */

static size_t depth(const char *path);

/* Call fn for every logical volume of the plan with its flat index (the
 * index into lv_devnodes/lv_uuids); stops at the first negative return. */
#define FOREACH_LV(plan, vg, lv, idx)                                                                       \
        for (size_t _i = 0, idx = 0; _i < (plan)->n_vgs; _i++)                                                \
                for (const PlanVg *vg = &(plan)->vgs[_i]; vg; vg = NULL)                                      \
                        for (size_t _k = 0; _k < vg->n_lvs && idx < APPLY_LV_MAX; _k++, idx++)                \
                                for (const PlanLv *lv = &vg->lvs[_k]; lv; lv = NULL)

/* Volume groups over partitions of the target or arrays, their logical
 * volumes (in the plan's extents), and the filesystems on them. */
static int step_lvm(Apply *a) {
        const Plan *plan = a->plan;
        size_t n_lvs = 0;
        char *err = NULL;
        Phase ph;
        int r;

        if (plan->n_vgs == 0)
                return 0;
        for (size_t i = 0; i < plan->n_vgs; i++)
                n_lvs += plan->vgs[i].n_lvs;
        if (n_lvs > APPLY_LV_MAX)
                return -E2BIG;
        report_phase_begin(&ph, "lvm", "%zu volume group%s, %zu logical volume%s", plan->n_vgs, plan->n_vgs == 1 ? "" : "s",
                           n_lvs, n_lvs == 1 ? "" : "s");
        char *modules[] = { (char *) "dm_mod", NULL };
        r = disk_load_modules(modules, &err);
        if (r < 0)
                return fail(&ph, r, "Loading the device-mapper module", err);
        /* disk identity (issue 11): still the planned disk(s)? */
        r = disk_verify_plan(plan, &err);
        if (r < 0)
                return fail(&ph, r, "Refusing to write", err);
        for (size_t i = 0; i < plan->n_vgs; i++) {
                const PlanVg *vg = &plan->vgs[i];
                char *pvs[DISK_LVM_PV_MAX + 1] = {};
                size_t n = 0;
                uint64_t extents = 0;

                for (size_t k = 0; k < vg->n_pv_partitions && n < DISK_LVM_PV_MAX; k++)
                        r = disk_partition_devnode(a->disk, vg->pv_partitions[k], &pvs[n++]);
                for (size_t k = 0; k < vg->n_pv_raids && n < DISK_LVM_PV_MAX; k++)
                        if (!(pvs[n++] = strprintf("/dev/%s", vg->pv_raids[k])))
                                r = -ENOMEM;
                if (r >= 0)
                        r = disk_lvm_create_vg(vg->name, pvs, n, &err);
                if (r >= 0)
                        report_info("volume group %s on %s%s (%zu physical volume%s)", vg->name, pvs[0], n > 1 ? " ..." : "",
                                    n, n == 1 ? "" : "s");
                for (size_t k = 0; k < n; k++)
                        free(pvs[k]);
                if (r < 0)
                        return fail(&ph, r, "Creating the volume group", err);
                a->n_vg_created = i + 1;
                /* The plan's sizes hold only if the group is as large as
                 * planned: check before any volume is made. */
                r = disk_lvm_vg_extents(vg->name, &extents, &err);
                if (r < 0)
                        return fail(&ph, r, "Reading the volume group's size", err);
                if (extents < vg->extents)
                        return fail(&ph, -ENOSPC, "Volume group",
                                    strprintf("volume group %s has %" PRIu64 " extents of 4 MiB, the plan expected %" PRIu64,
                                              vg->name, extents, vg->extents));
        }
        FOREACH_LV(plan, vg, lv, idx) {
                const ProfileVolume *v = lv->source;

                r = disk_lvm_create_lv(vg->name, lv->name, lv->rest ? 0 : lv->extents, &err);
                if (r < 0)
                        return fail(&ph, r, "Creating a logical volume", err);
                a->lv_devnodes[idx] = plan_lv_devnode(vg, lv);
                if (!a->lv_devnodes[idx])
                        return fail(&ph, -ENOMEM, "Out of memory", NULL);
                if (v->fs == FS_NONE) {
                        report_info("%s: %s, no filesystem", a->lv_devnodes[idx], format_bytes((char[32]) {}, 32, lv->size));
                        continue;
                }
                /* disk_mkfs() takes a partition: the volume's filesystem as
                 * one (numbered after partitions and arrays, for
                 * reproducible UUIDs). */
                PlanPartition fsp = { .number = 200 + (unsigned) idx, .fs = v->fs, .mount = v->mount, .label = v->label };
                r = disk_mkfs(&fsp, a->lv_devnodes[idx], &a->lv_uuids[idx], &err);
                if (r < 0)
                        return fail(&ph, r, a->lv_devnodes[idx], err);
                report_info("%s: %s%s, %s%s%s UUID %s", a->lv_devnodes[idx], lv->rest ? "rest: " : "",
                            format_bytes((char[32]) {}, 32, lv->size), fs_type_to_string(v->fs), v->mount ? " for " : "",
                            v->mount ? v->mount : "", a->lv_uuids[idx] ? a->lv_uuids[idx] : "?");
        }
        return report_phase_end(&ph, 0, NULL);
}

/* Before the reboot: the groups deactivated, nothing left open (and the
 * arrays under them can stop). */
static void lvm_deactivate(Apply *a) {
        for (size_t i = a->n_vg_created; i > 0; i--) {
                char *err = NULL;
                if (disk_lvm_deactivate(a->plan->vgs[i - 1].name, &err) < 0)
                        log_warning("%s", err ? err : "lvm vgchange --activate n failed");
                else
                        report_info("volume group %s deactivated", a->plan->vgs[i - 1].name);
                free(err);
        }
}

/* The logical volumes mounted at depth d (see step_mount()). */
static int mount_lvs(Apply *a, Phase *ph, size_t d) {
        FOREACH_LV(a->plan, vg, lv, idx) {
                const ProfileVolume *v = lv->source;
                int r;

                if (!v->mount || v->fs == FS_SWAP || v->fs == FS_NONE || !a->lv_devnodes[idx])
                        continue;
                if ((streq(v->mount, "/") ? 0 : depth(v->mount)) != d)
                        continue;
                _cleanup_free_ char *where = path_join_root(TARGET_ROOT, v->mount);
                if (!where)
                        return -ENOMEM;
                r = mkdir_p(where, 0755);
                if (r < 0)
                        return fail(ph, r, where, NULL);
                if (mount(a->lv_devnodes[idx], where, fs_type_to_string(v->fs), 0, NULL) < 0) {
                        r = -errno;
                        return fail(ph, r, where, strprintf("cannot mount %s (%s) there: %s", a->lv_devnodes[idx],
                                                            fs_type_to_string(v->fs), strerror(errno)));
                }
                a->mounted[a->n_mounted++] = TAKE_PTR(where);
        }
        return 0;
}

/* fstab entries for the logical volumes (by filesystem UUID). */
static void lv_mounts(Apply *a, TargetMount *mounts, size_t *n, size_t max) {
        FOREACH_LV(a->plan, vg, lv, idx) {
                const ProfileVolume *v = lv->source;
                if (v->fs == FS_NONE || !a->lv_uuids[idx] || *n >= max)
                        continue;
                mounts[(*n)++] = (TargetMount) { .mount = v->fs == FS_SWAP ? NULL : v->mount, .fs = v->fs,
                                                 .fs_uuid = a->lv_uuids[idx], .options = v->mount_options };
        }
}

/* The UUID of the filesystem a logical volume mounts at `mount`, or NULL. */
static const char *lv_uuid_at(Apply *a, const char *mount) {
        FOREACH_LV(a->plan, vg, lv, idx)
                if (streq_ptr(lv->source->mount, mount))
                        return a->lv_uuids[idx];
        return NULL;
}

/* / or /boot on a logical volume: the installed system's initramfs must
 * activate the group at boot. lvm2's initramfs hook (the lvm binary, its
 * udev rules, dm_mod) does that for any group and holds nothing about this
 * machine's volumes, so an initramfs built after lvm2 was installed is
 * rebuilt for nothing (update-initramfs takes many minutes under emulation).
 * It is rebuilt in a chroot when lvm2 was installed after it (dpkg's file
 * list of lvm2 is newer than the initrd); without lvm2 the installed system
 * could not mount its root: refused. */
static int step_lvm_config(Apply *a) {
        _cleanup_free_ char *out = NULL, *kernel = NULL, *initrd = NULL, *initrd_path = NULL, *list = NULL;
        struct stat st_initrd, st_list;
        Phase ph;
        int r;

        if (!plan_lvm_holds_system(a->plan))
                return 0;
        report_phase_begin(&ph, "storage-config", "the initramfs activates LVM (/ or /boot on a logical volume)");
        list = path_join_root(TARGET_ROOT, "/var/lib/dpkg/info/lvm2.list");
        if (!list)
                return fail(&ph, -ENOMEM, "Out of memory", NULL);
        if (stat(list, &st_list) < 0)
                return fail(&ph, -ENOENT, "LVM in the installed system",
                            strdup("the installed system has no lvm2 package: its initramfs could not activate the volume "
                                   "group holding / or /boot (add lvm2 to the image, or to packages: with an apt mirror)"));
        r = boot_find_kernel(TARGET_ROOT, &kernel, &initrd);
        if (r < 0)
                return fail(&ph, r, "No kernel in the installed system's /boot", NULL);
        initrd_path = strprintf("%s/boot/%s", TARGET_ROOT, initrd);
        if (!initrd_path)
                return fail(&ph, -ENOMEM, "Out of memory", NULL);
        if (stat(initrd_path, &st_initrd) >= 0 && st_initrd.st_mtime > st_list.st_mtime) {
                report_info("%s was built after lvm2 was installed: it activates volume groups already, not rebuilt", initrd);
                return report_phase_end(&ph, 0, NULL);
        }
        report_info("update-initramfs: the initrd is missing or older than lvm2's installation");
        r = target_update_initramfs(TARGET_ROOT, kernel + strlen("vmlinuz-"), &out);
        if (r < 0)
                return fail(&ph, r, "update-initramfs in the installed system", out ? strdup(out) : NULL);
        return report_phase_end(&ph, 0, NULL);
}

/* The installed system must assemble the arrays at boot: mdadm.conf, and
 * an initramfs built with it. */
static int step_storage_config(Apply *a) {
        const Plan *plan = a->plan;
        char *lines[16] = {};
        _cleanup_free_ char *out = NULL;
        char *err = NULL;
        Phase ph;
        int r;

        if (plan->n_raids == 0)
                return step_lvm_config(a);
        report_phase_begin(&ph, "storage-config", "mdadm.conf (%zu array%s), update-initramfs", plan->n_raids,
                           plan->n_raids == 1 ? "" : "s");
        for (size_t i = 0; i < plan->n_raids; i++) {
                r = disk_md_conf_line(plan->raids[i].name, &lines[i], &err);
                if (r < 0) {
                        for (size_t k = 0; k < i; k++)
                                free(lines[k]);
                        return fail(&ph, r, "Describing the RAID arrays", err);
                }
                report_info("mdadm.conf: %s", lines[i]);
        }
        r = target_write_mdadm_conf(TARGET_ROOT, lines, plan->n_raids);
        for (size_t k = 0; k < plan->n_raids; k++)
                free(lines[k]);
        if (r < 0)
                return fail(&ph, r, "Writing /etc/mdadm/mdadm.conf", NULL);

        _cleanup_free_ char *kernel = NULL, *initrd = NULL;
        r = boot_find_kernel(TARGET_ROOT, &kernel, &initrd);
        if (r < 0)
                return fail(&ph, r, "No kernel with an initrd in the installed system's /boot", NULL);
        const char *version = kernel + strlen("vmlinuz-");
        log_md_sync(a);
        uint64_t t = report_now_usec();
        r = target_update_initramfs(TARGET_ROOT, version, &out);
        if (r < 0)
                return fail(&ph, r, "update-initramfs in the installed system", out ? strdup(out) : NULL);
        report_info("initramfs for %s rebuilt in %.1fs", version, (double) (report_now_usec() - t) / 1e6);
        log_md_sync(a);
        return report_phase_end(&ph, 0, NULL);
}

/* LUKS2: each volume formatted with its key file, opened as
 * /dev/mapper/NAME, and its filesystem made there. The key is on the
 * installer's /run only while cryptsetup runs. */
static int step_luks(Apply *a) {
        const Plan *plan = a->plan;
        char *err = NULL;
        Phase ph;
        int r;

        if (plan->n_luks == 0)
                return 0;
        if (plan->n_luks > 16 || !a->keys || a->keys->n != plan->n_luks)
                return -EINVAL;
        report_phase_begin(&ph, "luks", "%zu LUKS2 volume%s", plan->n_luks, plan->n_luks == 1 ? "" : "s");
        char *modules[] = { (char *) "dm_crypt", NULL };
        r = disk_load_modules(modules, &err);
        if (r < 0)
                return fail(&ph, r, "Loading dm_crypt", err);
        /* disk identity (issue 11): still the planned disk(s)? */
        r = disk_verify_plan(plan, &err);
        if (r < 0)
                return fail(&ph, r, "Refusing to write", err);
        for (size_t k = 0; k < plan->n_luks; k++) {
                const PlanLuks *pk = &plan->luks[k];
                size_t i = SIZE_MAX;
                for (size_t n = 0; n < plan->n_partitions && n < 64; n++)
                        if (plan->partitions[n].number == pk->partition)
                                i = n;
                if (i == SIZE_MAX)
                        return fail(&ph, -EINVAL, pk->name, strdup("no such partition in the plan"));
                const PlanPartition *p = &plan->partitions[i];
                _cleanup_free_ char *key_file = NULL, *mapper = strprintf("/dev/mapper/%s", pk->name);

                /* The teardown closed what the target held: a mapping of
                 * that name now belongs to another disk. */
                if (!mapper)
                        return fail(&ph, -ENOMEM, "Out of memory", NULL);
                if (access(mapper, F_OK) == 0)
                        return fail(&ph, -EEXIST, pk->name,
                                    strprintf("%s already exists (a mapping on another disk): choose another luks.name",
                                              mapper));
                r = disk_luks_key_write(pk->name, a->keys->v[k].data, a->keys->v[k].size, &key_file);
                if (r < 0)
                        return fail(&ph, r, "Writing the key for cryptsetup", NULL);
                r = disk_luks_format(a->devnodes[i], pk->name, key_file, &a->luks_uuids[k], &err);
                if (r >= 0)
                        r = disk_luks_open(a->devnodes[i], pk->name, key_file, &a->luks_mappers[k], &err);
                disk_luks_key_remove(key_file);
                if (r < 0)
                        return fail(&ph, r, a->devnodes[i], err);
                a->fs_devs[i] = a->luks_mappers[k];
                r = disk_mkfs(p, a->luks_mappers[k], &a->uuids[i], &err);
                if (r < 0)
                        return fail(&ph, r, a->luks_mappers[k], err);
                report_info("%s: LUKS2 UUID %s -> %s: %s%s%s UUID %s", a->devnodes[i], a->luks_uuids[k],
                            a->luks_mappers[k], fs_type_to_string(p->fs), p->mount ? " for " : "",
                            p->mount ? p->mount : "", a->uuids[i] ? a->uuids[i] : "?");
        }
        return report_phase_end(&ph, 0, NULL);
}

/* The installed system unlocks the volumes at boot: the key files and
 * /etc/crypttab (systemd-cryptsetup, before the filesystems in fstab). */
static int step_luks_config(Apply *a) {
        const Plan *plan = a->plan;
        TargetCrypt v[16];
        Phase ph;
        int r;

        if (plan->n_luks == 0)
                return 0;
        for (size_t k = 0; k < plan->n_luks && k < 16; k++)
                v[k] = (TargetCrypt) { .name = plan->luks[k].name, .luks_uuid = a->luks_uuids[k],
                                       .key = a->keys->v[k].data, .key_size = a->keys->v[k].size };
        report_phase_begin(&ph, "luks-config", "/etc/crypttab, %zu key file%s in /etc/cryptsetup-keys.d", plan->n_luks,
                           plan->n_luks == 1 ? "" : "s");
        r = target_write_crypttab(TARGET_ROOT, v, MIN(plan->n_luks, (size_t) 16));
        if (r < 0)
                return fail(&ph, r, "Writing /etc/crypttab and the key files", NULL);
        for (size_t k = 0; k < plan->n_luks && k < 16; k++)
                report_info("crypttab: %s UUID=%s /etc/cryptsetup-keys.d/%s.key luks", plan->luks[k].name,
                            a->luks_uuids[k], plan->luks[k].name);
        return report_phase_end(&ph, 0, NULL);
}

static void luks_close_all(Apply *a) {
        for (size_t k = MIN(a->plan->n_luks, (size_t) 16); k > 0; k--) {
                char *err = NULL;
                if (!a->luks_mappers[k - 1])
                        continue;
                if (disk_luks_close(a->plan->luks[k - 1].name, &err) < 0)
                        log_warning("%s", err ? err : "cryptsetup close failed");
                free(err);
        }
}

static int step_prepare_disk(Apply *a) {
        const Plan *plan = a->plan;
        char *err = NULL;
        Phase ph;
        int r;

        /* Dirty disks: what the running system holds on the target (an
         * old install's md arrays, volume groups, LUKS mappings, swap) is
         * released first, or nothing could be written. */
        _cleanup_free_ char *released = NULL;
        report_phase_begin(&ph, "teardown", "%s", a->disk);
        /* disk identity (issue 11): stopping an array writes its superblocks */
        r = disk_verify_identity(plan_target_disk(plan), a->disk, &err);
        if (r < 0)
                return fail(&ph, r, "Refusing the target disk", err);
        r = disk_teardown(a->disk, &released, &err);
        if (r < 0)
                return fail(&ph, r, "Cannot release the target disk", err);
        report_phase_end(&ph, 0, "%s", released ? released : "nothing held it");

        report_phase_begin(&ph, "check-target", "%s", a->disk);
        r = disk_check_target(plan, a->disk, &err);
        if (r < 0)
                return fail(&ph, r, "Refusing the target disk", err);
        report_phase_end(&ph, 0, NULL);

        if (a->mirror) {
                r = step_check_mirror(a);
                if (r < 0)
                        return r;
        }

        if (plan->keep_table) {
                /* Reinstall: only the partitions that go are wiped. */
                report_phase_begin(&ph, "wipe", "%s: %s; kept: %s", a->disk,
                                   plan->wipe ? plan->wipe_summary : "nothing to replace", plan->keep_summary);
                r = plan->wipe ? disk_wipe_replaced(plan, a->disk, &err) : 0;
        } else {
                report_phase_begin(&ph, "wipe", "%s%s", a->disk,
                                   plan->wipe ? " (holds data; the profile allows wiping it)" : "");
                r = disk_wipe(plan, a->disk, &err);
        }
        if (r < 0)
                return fail(&ph, r, "Wiping failed", err);
        report_phase_end(&ph, 0, NULL);

        unsigned numbers[64];
        size_t n = MIN(plan->n_partitions, ELEMENTSOF(numbers));
        for (size_t i = 0; i < n; i++)
                numbers[i] = plan->partitions[i].number;
        report_phase_begin(&ph, "partition", "%s, %s, %zu partitions%s", a->disk, partition_table_to_string(plan->table),
                           plan->n_partitions, plan->keep_table ? " (existing table edited, preserved partitions kept)" : "");
        r = disk_partition(plan, a->disk, &err);
        if (r < 0)
                return fail(&ph, r, "Partitioning failed", err);
        r = disk_wait_partition_numbers(a->disk, numbers, n, 10000);
        if (r < 0)
                return fail(&ph, r, "Partition device nodes did not appear", NULL);
        /* Old metadata where the new partitions now are (in what was free
         * space or the middle of an old partition) must not reappear. */
        for (size_t i = 0; i < n; i++) {
                const PlanPartition *p = &plan->partitions[i];
                r = disk_partition_devnode(a->disk, p->number, &a->devnodes[i]);
                if (r < 0)
                        return fail(&ph, r, "Partition device", NULL);
                if (p->preserve)
                        continue;
                r = disk_wipe_signatures(a->devnodes[i], &err);
                if (r < 0)
                        return fail(&ph, r, "Wiping a new partition failed", err);
        }
        report_phase_end(&ph, 0, NULL);

        if (a->mirror) {
                r = step_prepare_mirror(a);
                if (r < 0)
                        return r;
        }

        report_phase_begin(&ph, "mkfs", NULL);
        /* disk identity (issue 11): still the planned disk(s)? */
        r = disk_verify_plan(plan, &err);
        if (r < 0)
                return fail(&ph, r, "Refusing to write", err);
        for (size_t i = 0; i < n; i++) {
                const PlanPartition *p = &plan->partitions[i];
                if (p->preserve) {
                        /* Never formatted: fstab gets the UUID it has. */
                        if (p->fs_uuid && !(a->uuids[i] = strdup(p->fs_uuid)))
                                return fail(&ph, -ENOMEM, "Out of memory", NULL);
                        report_info("%s: kept as it is (%s%s%s, UUID %s)", a->devnodes[i], p->fstype ? p->fstype : "no filesystem",
                                    p->mount ? ", mounted on " : "", p->mount ? p->mount : "", p->fs_uuid ? p->fs_uuid : "none");
                        continue;
                }
                if (p->fs == FS_NONE || plan_partition_luks(plan, p))
                        continue; /* LUKS: step_luks() makes it on the mapping */
                r = disk_mkfs(p, a->devnodes[i], &a->uuids[i], &err);
                if (r < 0)
                        return fail(&ph, r, a->devnodes[i], err);
                report_info("%s: %s%s%s UUID %s", a->devnodes[i], fs_type_to_string(p->fs), p->mount ? " for " : "",
                            p->mount ? p->mount : "", a->uuids[i] ? a->uuids[i] : "?");
        }
        return report_phase_end(&ph, 0, NULL);
}

static size_t depth(const char *path) {
        size_t n = 0;
        for (; *path; path++)
                n += *path == '/';
        return streq(path, "/") ? 0 : n;
}

static int step_mount(Apply *a) {
        const Plan *plan = a->plan;
        Phase ph;
        int r;

        report_phase_begin(&ph, "mount", "%s", TARGET_ROOT);
        /* Parents before children: "/" then "/boot" then "/boot/efi". */
        for (size_t d = 0; d < 16; d++) {
                for (size_t i = 0; i < plan->n_partitions; i++) {
                        const PlanPartition *p = &plan->partitions[i];
                        if (!p->mount || p->fs == FS_SWAP || p->fs == FS_NONE)
                                continue;
                        if ((streq(p->mount, "/") ? 0 : depth(p->mount)) != d)
                                continue;
                        _cleanup_free_ char *where = path_join_root(TARGET_ROOT, p->mount);
                        if (!where)
                                return -ENOMEM;
                        r = mkdir_p(where, 0755);
                        if (r < 0)
                                return fail(&ph, r, where, NULL);
                        /* A preserved partition is not mounted during the
                         * install (not one byte of it changes): only its
                         * mount point is made, and fstab names it. */
                        if (p->preserve)
                                continue;
                        const char *dev = a->fs_devs[i] ? a->fs_devs[i] : a->devnodes[i];
                        if (mount(dev, where, fs_type_to_string(p->fs), 0, NULL) < 0) {
                                r = -errno;
                                return fail(&ph, r, where, strprintf("cannot mount %s (%s) there: %s", dev,
                                                                     fs_type_to_string(p->fs), strerror(errno)));
                        }
                        a->mounted[a->n_mounted++] = TAKE_PTR(where);
                }
                for (size_t i = 0; i < plan->n_raids && i < 16; i++) {
                        const ProfileRaid *pr = plan->raids[i].source;
                        if (!pr->mount || pr->fs == FS_SWAP || pr->fs == FS_NONE)
                                continue;
                        if ((streq(pr->mount, "/") ? 0 : depth(pr->mount)) != d)
                                continue;
                        _cleanup_free_ char *where = path_join_root(TARGET_ROOT, pr->mount);
                        if (!where)
                                return -ENOMEM;
                        r = mkdir_p(where, 0755);
                        if (r < 0)
                                return fail(&ph, r, where, NULL);
                        if (mount(a->md_devnodes[i], where, fs_type_to_string(pr->fs), 0, NULL) < 0) {
                                r = -errno;
                                return fail(&ph, r, where, strprintf("cannot mount %s (%s) there: %s", a->md_devnodes[i],
                                                                     fs_type_to_string(pr->fs), strerror(errno)));
                        }
                        a->mounted[a->n_mounted++] = TAKE_PTR(where);
                }
                r = mount_lvs(a, &ph, d);
                if (r < 0)
                        return r;
        }
        return report_phase_end(&ph, 0, NULL);
}

static void unmount_all(Apply *a) {
        sync();
        while (a->n_mounted > 0) {
                char *m = a->mounted[--a->n_mounted];
                if (umount(m) < 0)
                        log_warning_errno(errno, "Cannot unmount %s: %m", m);
                free(m);
        }
}

static int step_image(Apply *a) {
        const ProfileImage *img = &a->plan->profile->image;
        ImageSource src = { .url = img->url, .sha256 = img->sha256, .format = img->format,
                            .skip_checksum = img->insecure_no_checksum && !img->sha256 };
        ImageResult res = {};
        _cleanup_free_ char *safe = fetch_url_redact(img->url);
        char *err = NULL;
        Phase ph;
        int r;

        report_phase_begin(&ph, "image", "%s", safe ? safe : "?");
        if (src.skip_checksum)
                log_warning("WARNING: image checksum not verified (insecure_no_checksum): %s is installed as it arrives",
                            safe ? safe : "?");
        r = image_install(&src, TARGET_ROOT, &res, &err);
        if (r < 0) {
                if (r == -EBADMSG)
                        log_error("The OS image does not match its sha256: the install stops here and the disk will not boot.");
                return fail(&ph, r, "Image", err);
        }
        /* Streaming keeps memory flat whatever the image size: show it. */
        struct rusage ru = {};
        (void) getrusage(RUSAGE_SELF, &ru);
        return report_phase_end(&ph, 0,
                                "%" PRIu64 " bytes streamed in %.1fs (%.1f MB/s), %" PRIu64 " bytes in %" PRIu64
                                " entries, sha256 %s %s, installer peak RSS %ld KiB",
                                res.bytes_downloaded, res.seconds,
                                res.seconds > 0 ? (double) res.bytes_downloaded / res.seconds / 1e6 : 0.0,
                                res.bytes_extracted, res.entries, res.sha256,
                                src.skip_checksum ? "NOT VERIFIED (insecure_no_checksum)" : "verified", ru.ru_maxrss);
}

static int step_configure(Apply *a, const BootParams *bp) {
        const Plan *plan = a->plan;
        TargetMount mounts[64];
        size_t n = 0;
        _cleanup_free_ char *iid = NULL;
        Phase ph;
        int r;

        for (size_t i = 0; i < plan->n_partitions && i < 64; i++) {
                const PlanPartition *p = &plan->partitions[i];
                if (p->fs == FS_NONE || !a->uuids[i])
                        continue;
                mounts[n++] = (TargetMount) { .mount = p->fs == FS_SWAP ? NULL : p->mount, .fs = p->fs,
                                              .fs_uuid = a->uuids[i], .options = p->mount_options };
        }
        for (size_t i = 0; i < plan->n_raids && i < 16 && n < 64; i++) {
                const ProfileRaid *pr = plan->raids[i].source;
                if (pr->fs == FS_NONE || !a->md_uuids[i])
                        continue;
                mounts[n++] = (TargetMount) { .mount = pr->fs == FS_SWAP ? NULL : pr->mount, .fs = pr->fs,
                                              .fs_uuid = a->md_uuids[i], .options = pr->mount_options };
        }
        lv_mounts(a, mounts, &n, ELEMENTSOF(mounts));
        iid = strprintf("iid-%s-%" PRIx64, plan->profile->hostname, report_now_usec());
        if (!iid)
                return -ENOMEM;
        TargetConfig cfg = {
                .profile = plan->profile,
                .mounts = mounts,
                .n_mounts = n,
                .boot_mac = bp->mac,
                .instance_id = iid,
        };
        report_phase_begin(&ph, "configure", "hostname %s, %zu user%s", plan->profile->hostname, plan->profile->n_users,
                           plan->profile->n_users == 1 ? "" : "s");
        r = target_configure(TARGET_ROOT, &cfg);
        if (r < 0)
                return fail(&ph, r, "Configuring the installed system failed", NULL);
        return report_phase_end(&ph, 0, "fstab, hostname, network, groups and users, machine-id, time zone/locale/keyboard/NTP/sshd policy, first boot written");
}

/* The profile's files, packages and post_install commands: after the
 * configuration (the accounts the files belong to exist), before the
 * bootloader (a failure leaves a disk that does not boot). */
static int step_files(Apply *a) {
        const Profile *p = a->plan->profile;
        Phase ph;
        int r;

        if (p->n_files == 0)
                return 0;
        report_phase_begin(&ph, "files", "%zu file%s", p->n_files, p->n_files == 1 ? "" : "s");
        r = target_write_files(TARGET_ROOT, p);
        if (r < 0)
                return fail(&ph, r, "Writing the profile's files failed", NULL);
        return report_phase_end(&ph, 0, NULL);
}

static int step_packages(Apply *a) {
        const Profile *p = a->plan->profile;
        size_t n = strv_length(p->packages);
        Phase ph;
        int r;

        if (n > 0 && !p->apt_mirror) {
                report_info("packages: %zu package%s left to the first boot (no apt mirror in the profile)", n,
                            n == 1 ? "" : "s");
                n = 0;
        }
        if (n > 0) {
                _cleanup_free_ char *safe = fetch_url_redact(p->apt_mirror);
                report_phase_begin(&ph, "packages", "%zu package%s from %s", n, n == 1 ? "" : "s", safe ?: "?");
                r = target_install_packages(TARGET_ROOT, p);
                if (r < 0)
                        return fail(&ph, r, "Installing packages in the target failed", NULL);
                report_phase_end(&ph, 0, NULL);
        }
        if (p->locale) {
                report_phase_begin(&ph, "locale", "%s", p->locale);
                r = target_generate_locale(TARGET_ROOT, p);
                if (r < 0)
                        return fail(&ph, r, "Generating the locale failed", NULL);
                report_phase_end(&ph, 0, NULL);
        }
        return 0;
}

static int step_post_install(Apply *a) {
        const Profile *p = a->plan->profile;
        size_t failed = 0;
        Phase ph;
        int r;

        if (p->n_post_install == 0)
                return 0;
        report_phase_begin(&ph, "post-install", "%zu command%s in the target", p->n_post_install,
                           p->n_post_install == 1 ? "" : "s");
        r = target_run_post_install(TARGET_ROOT, p, &failed);
        if (r < 0)
                return fail(&ph, r, "A post_install command failed", NULL);
        if (failed > 0)
                return report_phase_end(&ph, 0, "%zu optional command%s failed", failed, failed == 1 ? "" : "s");
        return report_phase_end(&ph, 0, NULL);
}

/* UEFI: the NVRAM entry, after systemd-boot is on the ESP. Failing to write
 * it is a warning: the firmware boots \EFI\BOOT\BOOTX64.EFI anyway. */
static void nvram_entry(const BootConfig *c) {
        _cleanup_free_ char *entry = NULL, *err = NULL;
        int r;

        r = boot_efi_nvram_entry(c, &entry, &err);
        if (r < 0)
                log_warning("WARNING: no NVRAM boot entry: %s; the machine boots from %s through the removable-media "
                            "path \\EFI\\BOOT\\BOOTX64.EFI", err ? err : strerror(-r), c->disk);
        else
                report_info("NVRAM boot entry %s '%s' -> %s partition %u %s, first in BootOrder", entry,
                            BOOT_EFI_LABEL, c->disk, c->esp_partition, BOOT_EFI_LOADER);
}

static int step_bootloader(Apply *a) {
        const Plan *plan = a->plan;
        const char *root_uuid = NULL;
        const PlanPartition *esp = NULL;
        bool separate_boot = false;
        char *err = NULL;
        Phase ph;
        int r;

        for (size_t i = 0; i < plan->n_partitions; i++) {
                const PlanPartition *p = &plan->partitions[i];
                if (p->role == PART_ROLE_ROOT)
                        root_uuid = a->uuids[i];
                if (p->mount && streq(p->mount, "/boot"))
                        separate_boot = true;
                if (p->role == PART_ROLE_ESP && !esp)
                        esp = p;
        }
        for (size_t i = 0; i < plan->n_raids && i < 16; i++) {
                const ProfileRaid *pr = plan->raids[i].source;
                if (streq_ptr(pr->mount, "/"))
                        root_uuid = a->md_uuids[i];
                if (streq_ptr(pr->mount, "/boot"))
                        separate_boot = true;
        }
        if (lv_uuid_at(a, "/"))
                root_uuid = lv_uuid_at(a, "/");
        separate_boot = separate_boot || lv_uuid_at(a, "/boot");
        BootConfig c = {
                .root = TARGET_ROOT,
                .disk = a->disk,
                .mirror_disk = a->mirror,
                .table = plan->table,
                .root_fs_uuid = root_uuid,
                .separate_boot = separate_boot,
                .extra_args = plan->profile->kernel_append,
        };
        if (plan->firmware == FIRMWARE_UEFI && esp) {
                c.esp = esp->mount;
                c.esp_partition = esp->number;
                report_phase_begin(&ph, "bootloader", "systemd-boot on %s partition %u (EFI system partition, %s)",
                                   a->disk, esp->number, esp->mount);
        } else
                report_phase_begin(&ph, "bootloader", "extlinux, %s boot code on %s%s%s",
                                   plan->table == PARTITION_TABLE_GPT ? "gptmbr.bin" : "mbr.bin", a->disk,
                                   a->mirror ? " and " : "", a->mirror ? a->mirror : "");
        r = boot_install(&c, &err);
        if (r < 0)
                return fail(&ph, r, "Bootloader", err);
        if (c.esp)
                nvram_entry(&c);
        return report_phase_end(&ph, 0, NULL);
}

int install_apply(const Plan *plan, const BootParams *bp, const InstallKeys *keys) {
        Apply a = { .plan = plan, .disk = plan_target_disk(plan)->devnode, .keys = keys,
                    .mirror = plan_mirror_disk(plan) ? plan_mirror_disk(plan)->devnode : NULL };
        int r, ret = EXIT_INSTALL_FAILED;
        uint64_t t0 = report_now_usec();


        r = step_prepare_disk(&a);
        if (r < 0)
                goto out;
        r = step_raid(&a);
        if (r < 0)
                goto out_stop;
        r = step_luks(&a);
        if (r < 0)
                goto out_stop;
        r = step_lvm(&a);
        if (r < 0)
                goto out_stop;
        r = mkdir_p(TARGET_ROOT, 0755);
        if (r < 0)
                goto out_stop;
        r = step_mount(&a);
        if (r < 0)
                goto out_unmount;
        r = step_image(&a);
        if (r < 0) {
                ret = r == -EBADMSG ? EXIT_CHECKSUM : r == -ENOENT || r == -ECONNREFUSED || r == -ETIMEDOUT ? EXIT_FETCH_FAILED : EXIT_INSTALL_FAILED;
                goto out_unmount;
        }
        r = step_configure(&a, bp);
        if (r < 0)
                goto out_unmount;
        r = step_files(&a);
        if (r < 0) {
                ret = r == -EBADMSG ? EXIT_CHECKSUM : EXIT_INSTALL_FAILED;
                goto out_unmount;
        }
        r = step_packages(&a);
        if (r < 0)
                goto out_unmount;
        r = step_post_install(&a);
        if (r < 0)
                goto out_unmount;
        r = step_storage_config(&a);
        if (r < 0)
                goto out_unmount;
        r = step_luks_config(&a);
        if (r < 0)
                goto out_unmount;
        r = step_bootloader(&a);
        if (r < 0)
                goto out_unmount;
        ret = EXIT_OK;
out_unmount:
        unmount_all(&a);
out_stop:
        lvm_deactivate(&a);
        luks_close_all(&a);
        /* Stopping records where the initial resync got to (the superblock's
         * resync offset): the installed system carries on from there. */
        for (size_t i = a.n_md_created; i > 0; i--) {
                char *err = NULL;
                (void) disk_md_set_sync_speed_max(plan->raids[i - 1].name, "system");
                if (disk_md_stop(plan->raids[i - 1].name, &err) < 0)
                        log_warning("%s", err ? err : "mdadm --stop failed");
                free(err);
        }
out:
        if (ret == EXIT_OK)
                report_info("INSTALL COMPLETE: %s installed on %s in %.1fs", plan->profile->hostname, a.disk,
                            (double) (report_now_usec() - t0) / 1e6);
        else
                report_info("INSTALL FAILED (exit status %d): no bootloader was written; %s will not boot", ret, a.disk);
        apply_done(&a);
        return ret;
}
