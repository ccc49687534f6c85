/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Applying a validated plan, phase by phase. The order is the safety
 * argument: the target is re-checked right before the first write, only the
 * planned target disk is ever opened for writing, the image checksum is
 * verified before the target is configured, and the bootloader is written
 * last, so a failure at any point leaves a disk that does not boot.
 *
 * Power loss: the first write ("mark") puts the install-in-progress mark
 * into the MBR boot code area of the target (and the mirror): from then on
 * the disk boots nothing, and the next netboot recognises its own
 * unfinished install (plan.h, PLAN_WIPE_UNFINISHED). The wipe and the
 * partition steps keep it; the bootloader step writes everything but the
 * MBR boot code; the filesystems are unmounted and synced; then the last
 * step ("finish") replaces the mark: BIOS with the boot code, in one sector
 * write, UEFI with zeros. Only then INSTALL COMPLETE.
 *
 * Storage comes from the plan's volume list alone (plan.h, PlanVolume):
 * every partition, array, LUKS mapping, volume group and logical volume,
 * in an order in which each comes after what it sits on, with every limit
 * already checked. Apply keeps one record of what it made per volume
 * (ApplyVolume, allocated for the plan's size) and undoes it in reverse. The
 * profile is only passed on to the target's configuration (users, network,
 * files, packages) and the bootloader's kernel arguments. */
#include <inttypes.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/interrupt.h"
#include "basic/log.h"
#include "basic/strutil.h"
#include "boot/boot.h"
#include "disk/disk.h"
#include "fetch/fetch.h"
#include "image/image.h"
#include "image/manifest.h"
#include "install/install.h"
#include "plan/plan.h"
#include "report/report.h"
#include "target/target.h"
#include "target/target-fs.h"

#define TARGET_ROOT "/mnt/target"

/* The plan's limits are what the tools below can carry out. */
_Static_assert(PLAN_LVM_PV_MAX <= DISK_LVM_PV_MAX, "a planned volume group has more physical volumes than disk_lvm_create_vg() takes");
_Static_assert(sizeof(TARGET_ROOT) - 1 + PLAN_MOUNT_PATH_MAX < 4096, "a planned mount point does not fit PATH_MAX under the target root");

/* What apply made of one plan volume (the same index as plan->volumes). */
typedef struct ApplyVolume {
        char *devnode;          /* /dev/vda2, /dev/md0, /dev/mapper/NAME, /dev/mapper/VG-LV */
        char *fs_uuid;          /* of the filesystem made on it (or kept on it) */
        char *luks_uuid;        /* LUKS: of the header */
        bool active;            /* array created, mapping open, group created: undone at the end */
} ApplyVolume;

typedef struct Apply {
        const Plan *plan;
        const char *disk;
        const char *mirror;     /* RAID1: the second disk, or NULL */
        const InstallKeys *keys; /* per plan->luks[] */
        const Manifest *manifest; /* the image's, or NULL */
        ApplyVolume *vol;       /* plan->n_volumes */
        char **mounted;         /* mount points in mount order (plan->n_mount_order at most) */
        size_t n_mounted;
        bool marked;            /* the install-in-progress mark was written: the disks boot nothing */
} Apply;

static void apply_done(Apply *a) {
        for (size_t i = 0; a->vol && i < a->plan->n_volumes; i++) {
                free(a->vol[i].devnode);
                free(a->vol[i].fs_uuid);
                free(a->vol[i].luks_uuid);
        }
        free(a->vol);
        for (size_t i = 0; i < a->n_mounted; i++)
                free(a->mounted[i]);
        free(a->mounted);
}

static size_t count_kind(const Plan *plan, PlanVolumeKind kind) {
        size_t n = 0;
        for (size_t i = 0; i < plan->n_volumes; i++)
                n += plan->volumes[i].kind == kind;
        return n;
}

/* The volume mounted at `mount` (a filesystem of the new system), or NULL. */
static const PlanVolume *volume_at(const Plan *plan, const char *mount, size_t *ret_index) {
        for (size_t i = 0; i < plan->n_volumes; i++)
                if (plan->volumes[i].fs != FS_NONE && streq_ptr(plan->volumes[i].mount, mount)) {
                        if (ret_index)
                                *ret_index = i;
                        return &plan->volumes[i];
                }
        return NULL;
}

static int fail(Phase *ph, int r, const char *what, char *err) {
        log_error("%s: %s", what, err ? err : strerror(-r));
        free(err);
        return report_phase_end(ph, r, NULL);
}

/* disk_mkfs() takes a partition: a volume's filesystem as one, numbered
 * with the volume's fs_seed (its partition number for a partition or LUKS
 * mapping), for reproducible UUIDs. */
static int mkfs_volume(Apply *a, Phase *ph, size_t i) {
        const PlanVolume *v = &a->plan->volumes[i];
        PlanPartition fsp = { .number = v->fs_seed, .fs = v->fs, .mount = v->mount, .label = v->label };
        char *err = NULL;
        int r;

        r = disk_mkfs(&fsp, a->vol[i].devnode, &a->vol[i].fs_uuid, &err);
        if (r < 0)
                return fail(ph, r, a->vol[i].devnode, err);
        return 0;
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
                           plan->mirror_wipe_reason == PLAN_WIPE_UNFINISHED ? " (this installer's unfinished install: redone)" :
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
        for (size_t i = 0; i < a->plan->n_volumes; i++) {
                _cleanup_free_ char *line = NULL;
                if (a->vol[i].active && a->plan->volumes[i].kind == PLAN_VOLUME_RAID &&
                    disk_md_sync_status(a->plan->volumes[i].raid->name, &line) >= 0)
                        report_info("%s", line);
        }
}

/* RAID1 arrays over partition N of both disks, and their filesystems. */
static int step_raid(Apply *a) {
        const Plan *plan = a->plan;
        size_t n = count_kind(plan, PLAN_VOLUME_RAID);
        char *err = NULL;
        Phase ph;
        int r;

        if (n == 0)
                return 0;
        report_phase_begin(&ph, "raid", "%zu RAID1 array%s over %s and %s", n, n == 1 ? "" : "s", a->disk, a->mirror);
        char *modules[] = { (char *) "md_mod", (char *) "raid1", NULL };
        r = disk_load_modules(modules, &err);
        if (r < 0)
                return fail(&ph, r, "Loading the RAID modules", err);
        /* disk identity (issue 11): still the planned disk(s)? */
        r = disk_verify_plan(plan, &err);
        if (r < 0)
                return fail(&ph, r, "Refusing to write", err);
        for (size_t i = 0; i < plan->n_volumes; i++) {
                const PlanVolume *v = &plan->volumes[i];
                const PlanRaid *pr = v->raid;
                _cleanup_free_ char *m0 = NULL, *m1 = NULL;

                if (v->kind != PLAN_VOLUME_RAID)
                        continue;
                r = disk_partition_devnode(a->disk, pr->member, &m0);
                if (r >= 0)
                        r = disk_partition_devnode(a->mirror, pr->member, &m1);
                if (r < 0)
                        return fail(&ph, r, "Partition device", NULL);
                char *members[] = { m0, m1, NULL };
                r = disk_md_create(pr->name, pr->metadata, members, 2, pr->homehost, &err);
                if (r < 0)
                        return fail(&ph, r, "Creating the RAID1 array", err);
                a->vol[i].active = true;
                /* The initial resync copies the whole partition while the
                 * image is written to it: held to the minimum speed, it does
                 * not slow the install down; the installed system carries on
                 * from where it got to (at full speed when idle). */
                r = disk_md_set_sync_speed_max(pr->name, MD_INSTALL_SYNC_SPEED_KIB);
                if (r < 0)
                        log_warning_errno(r, "Cannot limit the resync speed of %s: %m", pr->name);
                a->vol[i].devnode = strprintf("/dev/%s", pr->name);
                if (!a->vol[i].devnode)
                        return fail(&ph, -ENOMEM, "Out of memory", NULL);
                if (v->fs == FS_NONE)
                        continue;
                r = mkfs_volume(a, &ph, i);
                if (r < 0)
                        return r;
                report_info("%s: RAID1 (metadata %s) of %s + %s, %s%s%s UUID %s", a->vol[i].devnode, pr->metadata, m0, m1,
                            fs_type_to_string(v->fs), v->mount ? " for " : "", v->mount ? v->mount : "",
                            a->vol[i].fs_uuid ? a->vol[i].fs_uuid : "?");
        }
        log_md_sync(a);
        return report_phase_end(&ph, 0, NULL);
}

/* ---- LVM ---------------------------------------------------------------------- */

/* Volume groups over partitions of the target or arrays, their logical
 * volumes (in the plan's extents), and the filesystems on them. */
static int step_lvm(Apply *a) {
        const Plan *plan = a->plan;
        size_t n_vgs = count_kind(plan, PLAN_VOLUME_VG), n_lvs = count_kind(plan, PLAN_VOLUME_LV);
        char *err = NULL;
        Phase ph;
        int r;

        if (n_vgs == 0)
                return 0;
        report_phase_begin(&ph, "lvm", "%zu volume group%s, %zu logical volume%s", n_vgs, n_vgs == 1 ? "" : "s", n_lvs,
                           n_lvs == 1 ? "" : "s");
        char *modules[] = { (char *) "dm_mod", NULL };
        r = disk_load_modules(modules, &err);
        if (r < 0)
                return fail(&ph, r, "Loading the device-mapper module", err);
        /* disk identity (issue 11): still the planned disk(s)? */
        r = disk_verify_plan(plan, &err);
        if (r < 0)
                return fail(&ph, r, "Refusing to write", err);
        for (size_t i = 0; i < plan->n_volumes; i++) {
                const PlanVolume *v = &plan->volumes[i];
                uint64_t extents = 0;

                if (v->kind != PLAN_VOLUME_VG)
                        continue;
                /* Its physical volumes: what it sits on, made before it. */
                _cleanup_free_ char **pvs = new0(char *, v->n_on + 1);
                if (!pvs)
                        return fail(&ph, -ENOMEM, "Out of memory", NULL);
                for (size_t k = 0; k < v->n_on; k++) {
                        pvs[k] = a->vol[v->on[k]].devnode;
                        if (!pvs[k])
                                return fail(&ph, -EINVAL, v->id, strprintf("physical volume %s was not made",
                                                                           plan->volumes[v->on[k]].id));
                }
                r = disk_lvm_create_vg(v->vg->name, pvs, v->n_on, &err);
                if (r < 0)
                        return fail(&ph, r, "Creating the volume group", err);
                report_info("volume group %s on %s%s (%zu physical volume%s)", v->vg->name, pvs[0], v->n_on > 1 ? " ..." : "",
                            v->n_on, v->n_on == 1 ? "" : "s");
                a->vol[i].active = true;
                /* The plan's sizes hold only if the group is as large as
                 * planned: check before any volume is made. */
                r = disk_lvm_vg_extents(v->vg->name, &extents, &err);
                if (r < 0)
                        return fail(&ph, r, "Reading the volume group's size", err);
                if (extents < v->vg->extents)
                        return fail(&ph, -ENOSPC, "Volume group",
                                    strprintf("volume group %s has %" PRIu64 " extents of 4 MiB, the plan expected %" PRIu64,
                                              v->vg->name, extents, v->vg->extents));
        }
        for (size_t i = 0; i < plan->n_volumes; i++) {
                const PlanVolume *v = &plan->volumes[i];
                const PlanLv *lv = v->lv;

                if (v->kind != PLAN_VOLUME_LV)
                        continue;
                /* disk_lvm_create_lv() reads 0 extents as "all that is
                 * free": only for rest (the plan never makes a volume of 0). */
                if (!lv->rest && lv->extents == 0)
                        return fail(&ph, -EINVAL, v->id, strdup("a logical volume of 0 extents"));
                r = disk_lvm_create_lv(v->vg->name, lv->name, lv->rest ? 0 : lv->extents, &err);
                if (r < 0)
                        return fail(&ph, r, "Creating a logical volume", err);
                a->vol[i].devnode = plan_lv_devnode(v->vg, lv);
                if (!a->vol[i].devnode)
                        return fail(&ph, -ENOMEM, "Out of memory", NULL);
                if (v->fs == FS_NONE) {
                        report_info("%s: %s, no filesystem", a->vol[i].devnode, format_bytes((char[32]) {}, 32, lv->size));
                        continue;
                }
                r = mkfs_volume(a, &ph, i);
                if (r < 0)
                        return r;
                report_info("%s: %s%s, %s%s%s UUID %s", a->vol[i].devnode, lv->rest ? "rest: " : "",
                            format_bytes((char[32]) {}, 32, lv->size), fs_type_to_string(v->fs), v->mount ? " for " : "",
                            v->mount ? v->mount : "", a->vol[i].fs_uuid ? a->vol[i].fs_uuid : "?");
        }
        return report_phase_end(&ph, 0, NULL);
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
        _cleanup_free_ char *out = NULL, *kernel = NULL, *initrd = NULL, *initrd_path = NULL;
        _cleanup_close_ int rootfd = -EBADF, list_fd = -EBADF, initrd_fd = -EBADF;
        struct stat st_initrd, st_list;
        Phase ph;
        int r;

        if (!plan_lvm_holds_system(a->plan))
                return 0;
        report_phase_begin(&ph, "storage-config", "the initramfs activates LVM (/ or /boot on a logical volume)");
        /* The image's files are read inside its root (target/target-fs.h):
         * a link in the image never leads to the installer's own files. */
        rootfd = target_root_open(TARGET_ROOT);
        if (rootfd < 0)
                return fail(&ph, rootfd, TARGET_ROOT, NULL);
        list_fd = target_open_file(rootfd, "/var/lib/dpkg/info/lvm2.list", 0, &st_list);
        if (list_fd < 0)
                return fail(&ph, -ENOENT, "LVM in the installed system",
                            strdup("the installed system has no lvm2 package: its initramfs could not activate the volume "
                                   "group holding / or /boot (add lvm2 to the image, or to packages: with an apt mirror)"));
        r = boot_find_kernel(TARGET_ROOT, &kernel, &initrd);
        if (r < 0)
                return fail(&ph, r, "No kernel in the installed system's /boot", NULL);
        initrd_path = strprintf("/boot/%s", initrd);
        if (!initrd_path)
                return fail(&ph, -ENOMEM, "Out of memory", NULL);
        initrd_fd = target_open_file(rootfd, initrd_path, 0, &st_initrd);
        if (initrd_fd >= 0 && st_initrd.st_mtime > st_list.st_mtime) {
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
        size_t n_raids = count_kind(plan, PLAN_VOLUME_RAID), n = 0;
        _cleanup_free_ char *out = NULL;
        char *err = NULL;
        Phase ph;
        int r;

        if (n_raids == 0)
                return step_lvm_config(a);
        report_phase_begin(&ph, "storage-config", "mdadm.conf (%zu array%s), update-initramfs", n_raids,
                           n_raids == 1 ? "" : "s");
        char **lines = new0(char *, n_raids + 1);
        if (!lines)
                return fail(&ph, -ENOMEM, "Out of memory", NULL);
        const char *what = "Describing the RAID arrays";
        r = 0;
        for (size_t i = 0; i < plan->n_volumes && r >= 0; i++) {
                if (plan->volumes[i].kind != PLAN_VOLUME_RAID)
                        continue;
                r = disk_md_conf_line(plan->volumes[i].raid->name, &lines[n], &err);
                if (r >= 0)
                        report_info("mdadm.conf: %s", lines[n++]);
        }
        if (r >= 0) {
                what = "Writing /etc/mdadm/mdadm.conf";
                r = target_write_mdadm_conf(TARGET_ROOT, lines, n);
        }
        for (size_t k = 0; k < n; k++)
                free(lines[k]);
        free(lines);
        if (r < 0)
                return fail(&ph, r, what, err);

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
        if (!a->keys || a->keys->n != plan->n_luks)
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
        for (size_t i = 0; i < plan->n_volumes; i++) {
                const PlanVolume *v = &plan->volumes[i];
                if (v->kind != PLAN_VOLUME_LUKS)
                        continue;
                const PlanLuks *pk = v->luks;
                const InstallKey *key = &a->keys->v[pk - plan->luks];
                const char *under = a->vol[v->on[0]].devnode; /* the partition */
                _cleanup_free_ char *key_file = NULL, *mapper = strprintf("/dev/mapper/%s", pk->name);

                /* The teardown closed what the target held: a mapping of
                 * that name now belongs to another disk. */
                if (!mapper)
                        return fail(&ph, -ENOMEM, "Out of memory", NULL);
                if (!under)
                        return fail(&ph, -EINVAL, pk->name, strdup("its partition was not made"));
                if (access(mapper, F_OK) == 0)
                        return fail(&ph, -EEXIST, pk->name,
                                    strprintf("%s already exists (a mapping on another disk): choose another luks.name",
                                              mapper));
                r = disk_luks_key_write(pk->name, key->data, key->size, &key_file);
                if (r < 0)
                        return fail(&ph, r, "Writing the key for cryptsetup", NULL);
                r = disk_luks_format(under, pk->name, key_file, &a->vol[i].luks_uuid, &err);
                if (r >= 0)
                        r = disk_luks_open(under, pk->name, key_file, &a->vol[i].devnode, &err);
                disk_luks_key_remove(key_file);
                if (r < 0)
                        return fail(&ph, r, under, err);
                a->vol[i].active = true;
                r = mkfs_volume(a, &ph, i);
                if (r < 0)
                        return r;
                report_info("%s: LUKS2 UUID %s -> %s: %s%s%s UUID %s", under, a->vol[i].luks_uuid, a->vol[i].devnode,
                            fs_type_to_string(v->fs), v->mount ? " for " : "", v->mount ? v->mount : "",
                            a->vol[i].fs_uuid ? a->vol[i].fs_uuid : "?");
        }
        return report_phase_end(&ph, 0, NULL);
}

/* The installed system unlocks the volumes at boot: the key files and
 * /etc/crypttab (systemd-cryptsetup, before the filesystems in fstab). */
static int step_luks_config(Apply *a) {
        const Plan *plan = a->plan;
        size_t n = 0;
        Phase ph;
        int r;

        if (plan->n_luks == 0)
                return 0;
        _cleanup_free_ TargetCrypt *v = new0(TargetCrypt, plan->n_luks);
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < plan->n_volumes; i++) {
                const PlanVolume *pv = &plan->volumes[i];
                if (pv->kind != PLAN_VOLUME_LUKS)
                        continue;
                const InstallKey *key = &a->keys->v[pv->luks - plan->luks];
                v[n++] = (TargetCrypt) { .name = pv->luks->name, .luks_uuid = a->vol[i].luks_uuid, .key = key->data,
                                         .key_size = key->size };
        }
        report_phase_begin(&ph, "luks-config", "/etc/crypttab, %zu key file%s in /etc/cryptsetup-keys.d", n,
                           n == 1 ? "" : "s");
        r = target_write_crypttab(TARGET_ROOT, v, n);
        if (r < 0)
                return fail(&ph, r, "Writing /etc/crypttab and the key files", NULL);
        for (size_t k = 0; k < n; k++)
                report_info("crypttab: %s UUID=%s /etc/cryptsetup-keys.d/%s.key luks", v[k].name, v[k].luks_uuid, v[k].name);
        return report_phase_end(&ph, 0, NULL);
}

/* What was made is undone in reverse: volume groups deactivated, LUKS
 * mappings closed, arrays stopped (before the reboot: nothing left open). */
static void storage_release(Apply *a) {
        const Plan *plan = a->plan;

        for (size_t i = plan->n_volumes; i > 0; i--) {
                const PlanVolume *v = &plan->volumes[i - 1];
                char *err = NULL;

                if (!a->vol[i - 1].active)
                        continue;
                switch (v->kind) {
                case PLAN_VOLUME_VG:
                        if (disk_lvm_deactivate(v->vg->name, &err) < 0)
                                log_warning("%s", err ? err : "lvm vgchange --activate n failed");
                        else
                                report_info("volume group %s deactivated", v->vg->name);
                        break;
                case PLAN_VOLUME_LUKS:
                        if (disk_luks_close(v->luks->name, &err) < 0)
                                log_warning("%s", err ? err : "cryptsetup close failed");
                        break;
                case PLAN_VOLUME_RAID:
                        /* Stopping records where the initial resync got to
                         * (the superblock's resync offset): the installed
                         * system carries on from there. */
                        (void) disk_md_set_sync_speed_max(v->raid->name, "system");
                        if (disk_md_stop(v->raid->name, &err) < 0)
                                log_warning("%s", err ? err : "mdadm --stop failed");
                        break;
                default:
                        break;
                }
                a->vol[i - 1].active = false;
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

        /* The first write: from here until "finish", the disks boot
         * nothing and say that an install is in progress on them. */
        report_phase_begin(&ph, "mark", "%s%s%s: install in progress", a->disk, a->mirror ? " and " : "",
                           a->mirror ? a->mirror : "");
        r = disk_mark_write(plan, a->disk, &err);
        if (r >= 0 && a->mirror)
                r = disk_mark_write(plan, a->mirror, &err);
        a->marked = true; /* even half done: the target may carry it */
        if (r < 0)
                return fail(&ph, r, "Marking the disk", err);
        report_phase_end(&ph, 0, NULL);

        if (plan->keep_table) {
                /* Reinstall: only the partitions that go are wiped. */
                report_phase_begin(&ph, "wipe", "%s: %s; kept: %s", a->disk,
                                   plan->wipe ? plan->wipe_summary : "nothing to replace", plan->keep_summary);
                r = plan->wipe ? disk_wipe_replaced(plan, a->disk, &err) : 0;
        } else {
                report_phase_begin(&ph, "wipe", "%s%s", a->disk,
                                   plan->wipe_reason == PLAN_WIPE_UNFINISHED ? " (this installer's unfinished install: redone)" :
                                   plan->wipe ? " (holds data; the profile allows wiping it)" : "");
                r = disk_wipe(plan, a->disk, &err);
        }
        if (r < 0)
                return fail(&ph, r, "Wiping failed", err);
        report_phase_end(&ph, 0, NULL);

        /* The partitions are the first plan->n_partitions volumes, in
         * table order (plan.h). */
        size_t n = plan->n_partitions;
        _cleanup_free_ unsigned *numbers = new0(unsigned, n ? n : 1);
        if (!numbers)
                return -ENOMEM;
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
                r = disk_partition_devnode(a->disk, p->number, &a->vol[i].devnode);
                if (r < 0)
                        return fail(&ph, r, "Partition device", NULL);
                if (p->preserve)
                        continue;
                r = disk_wipe_signatures(a->vol[i].devnode, &err);
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
                const PlanVolume *v = &plan->volumes[i];
                const PlanPartition *p = v->partition;
                if (v->preserve) {
                        /* Never formatted: fstab gets the UUID it has. */
                        if (v->fs_uuid && !(a->vol[i].fs_uuid = strdup(v->fs_uuid)))
                                return fail(&ph, -ENOMEM, "Out of memory", NULL);
                        report_info("%s: kept as it is (%s%s%s, UUID %s)", a->vol[i].devnode, p->fstype ? p->fstype : "no filesystem",
                                    v->mount ? ", mounted on " : "", v->mount ? v->mount : "", v->fs_uuid ? v->fs_uuid : "none");
                        continue;
                }
                if (v->fs == FS_NONE)
                        continue; /* raw, or it holds an array, a physical volume or LUKS (made on the mapping) */
                r = mkfs_volume(a, &ph, i);
                if (r < 0)
                        return r;
                report_info("%s: %s%s%s UUID %s", a->vol[i].devnode, fs_type_to_string(v->fs), v->mount ? " for " : "",
                            v->mount ? v->mount : "", a->vol[i].fs_uuid ? a->vol[i].fs_uuid : "?");
        }
        return report_phase_end(&ph, 0, NULL);
}

/* Parents before children, in the plan's mount order (any depth). A
 * preserved partition is not mounted during the install (not one byte of it
 * changes): only its mount point is made, and fstab names it. */
static int step_mount(Apply *a) {
        const Plan *plan = a->plan;
        Phase ph;
        int r;

        report_phase_begin(&ph, "mount", "%s", TARGET_ROOT);
        a->mounted = new0(char *, plan->n_mount_order ? plan->n_mount_order : 1);
        if (!a->mounted)
                return fail(&ph, -ENOMEM, "Out of memory", NULL);
        for (size_t m = 0; m < plan->n_mount_order; m++) {
                size_t i = plan->mount_order[m];
                const PlanVolume *v = &plan->volumes[i];
                const char *dev = a->vol[i].devnode;
                _cleanup_free_ char *where = path_join_root(TARGET_ROOT, v->mount);

                if (!where)
                        return fail(&ph, -ENOMEM, "Out of memory", NULL);
                r = mkdir_p(where, 0755);
                if (r < 0)
                        return fail(&ph, r, where, NULL);
                if (v->preserve)
                        continue;
                if (!dev)
                        return fail(&ph, -EINVAL, where, strprintf("%s was not made", v->id));
                if (mount(dev, where, fs_type_to_string(v->fs), 0, NULL) < 0) {
                        r = -errno;
                        return fail(&ph, r, where, strprintf("cannot mount %s (%s) there: %s", dev,
                                                             fs_type_to_string(v->fs), strerror(errno)));
                }
                a->mounted[a->n_mounted++] = TAKE_PTR(where);
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
                            .skip_checksum = img->insecure_no_checksum && !img->sha256 && !a->manifest,
                            .manifest = a->manifest };
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
                if (r == -EBADMSG && a->manifest)
                        log_error("The OS image does not match its manifest: the install stopped within one chunk "
                                  "of the damage and the disk will not boot.");
                else if (r == -EBADMSG)
                        log_error("The OS image does not match its sha256: the install stops here and the disk will not boot.");
                return fail(&ph, r, "Image", err);
        }
        /* Streaming keeps memory flat whatever the image size: show it. */
        struct rusage ru = {};
        (void) getrusage(RUSAGE_SELF, &ru);
        return report_phase_end(&ph, 0,
                                "%" PRIu64 " bytes streamed in %.1fs (%.1f MB/s), %" PRIu64 " bytes in %" PRIu64
                                " entries, sha256 %s %s%s, installer peak RSS %ld KiB",
                                res.bytes_downloaded, res.seconds,
                                res.seconds > 0 ? (double) res.bytes_downloaded / res.seconds / 1e6 : 0.0,
                                res.bytes_extracted, res.entries, res.sha256,
                                src.skip_checksum ? "NOT VERIFIED (insecure_no_checksum)" : "verified",
                                a->manifest ? " (each chunk against the manifest)" : "", ru.ru_maxrss);
}

/* The installed system's configuration (install_configure(), the same
 * path as `installer configure --root`): fstab from the plan's volumes, then
 * the profile's system settings, files, packages and post_install commands.
 * After the image, before the bootloader (a failure leaves a disk that does
 * not boot). Returns an InstallerExit. */
static int step_target(Apply *a, const BootParams *bp) {
        const Plan *plan = a->plan;
        size_t n = 0;
        _cleanup_free_ char *iid = NULL;

        /* fstab: every filesystem of the new system (and the kept ones),
         * in the plan's order. */
        _cleanup_free_ TargetMount *mounts = new0(TargetMount, plan->n_volumes ? plan->n_volumes : 1);
        if (!mounts)
                return EXIT_FAILURE_GENERIC;
        for (size_t i = 0; i < plan->n_volumes; i++) {
                const PlanVolume *v = &plan->volumes[i];
                if (v->fs == FS_NONE || !a->vol[i].fs_uuid)
                        continue;
                mounts[n++] = (TargetMount) { .mount = v->fs == FS_SWAP ? NULL : v->mount, .fs = v->fs,
                                              .fs_uuid = a->vol[i].fs_uuid, .options = v->mount_options };
        }
        iid = strprintf("iid-%s-%" PRIx64, plan->profile->hostname, report_now_usec());
        if (!iid)
                return EXIT_FAILURE_GENERIC;
        InstallTarget t = {
                .root = TARGET_ROOT,
                .profile = plan->profile,
                .mounts = mounts,
                .n_mounts = n,
                .boot_mac = bp->mac,
                .instance_id = iid,
                .chroot_steps = true,
        };
        return install_configure(&t);
}

/* UEFI with an ESP: systemd-boot; else extlinux and MBR boot code. */
static const PlanPartition *uefi_esp(const Plan *plan) {
        if (plan->firmware != FIRMWARE_UEFI)
                return NULL;
        for (size_t i = 0; i < plan->n_volumes; i++)
                if (plan->volumes[i].kind == PLAN_VOLUME_PARTITION && plan->volumes[i].partition->role == PART_ROLE_ESP)
                        return plan->volumes[i].partition;
        return NULL;
}

static int step_bootloader(Apply *a) {
        const Plan *plan = a->plan;
        const PlanPartition *esp = uefi_esp(plan);
        size_t root = SIZE_MAX;
        char *err = NULL;
        Phase ph;
        int r;

        (void) volume_at(plan, "/", &root);
        BootConfig c = {
                .root = TARGET_ROOT,
                .disk = a->disk,
                .mirror_disk = a->mirror,
                .table = plan->table,
                .root_fs_uuid = root != SIZE_MAX ? a->vol[root].fs_uuid : NULL,
                .separate_boot = volume_at(plan, "/boot", NULL) != NULL,
                .extra_args = plan->profile->kernel_append,
                .nvram_entry = true,
        };
        if (esp) {
                c.esp = esp->mount;
                c.esp_partition = esp->number;
        }
        _cleanup_free_ char *what = boot_describe(&c);
        report_phase_begin(&ph, "bootloader", "%s", what ? what : "bootloader");
        r = boot_install(&c, &err);
        if (r < 0)
                return fail(&ph, r, "Bootloader", err);
        return report_phase_end(&ph, 0, NULL);
}

/* The last write, after the filesystems are unmounted and synced: the
 * install-in-progress mark goes. BIOS: the MBR boot code replaces it in one
 * sector write (the disk is bootable exactly when the mark is gone); UEFI:
 * zeros (systemd-boot on the ESP boots). The mirror disk too. */
static int step_finish(Apply *a) {
        const Plan *plan = a->plan;
        bool uefi = uefi_esp(plan) != NULL;
        BootConfig c = { .table = plan->table };
        const char *disks[] = { a->disk, a->mirror };
        char *err = NULL;
        Phase ph;
        int r;

        report_phase_begin(&ph, "finish", "%s%s%s: %s", a->disk, a->mirror ? " and " : "", a->mirror ? a->mirror : "",
                           uefi ? "install-in-progress mark cleared" :
                           "MBR boot code replaces the install-in-progress mark");
        /* disk identity (issue 11): still the planned disk(s)? */
        r = disk_verify_plan(plan, &err);
        if (r < 0)
                return fail(&ph, r, "Refusing to write", err);
        for (size_t i = 0; i < ELEMENTSOF(disks) && disks[i]; i++) {
                r = uefi ? disk_mark_clear(plan, disks[i], &err) : boot_write_mbr_code(&c, disks[i], &err);
                if (r < 0)
                        return fail(&ph, r, uefi ? "Clearing the install-in-progress mark" : "Writing the MBR boot code", err);
        }
        return report_phase_end(&ph, 0, NULL);
}

int install_apply(const Plan *plan, const BootParams *bp, const InstallKeys *keys, const Manifest *manifest) {
        Apply a = { .plan = plan, .disk = plan_target_disk(plan)->devnode, .keys = keys, .manifest = manifest,
                    .mirror = plan_mirror_disk(plan) ? plan_mirror_disk(plan)->devnode : NULL };
        int r, ret = EXIT_INSTALL_FAILED;
        uint64_t t0 = report_now_usec();

        a.vol = new0(ApplyVolume, plan->n_volumes ? plan->n_volumes : 1);
        if (!a.vol) {
                log_error("Out of memory");
                return EXIT_INSTALL_FAILED;
        }

        /* A signal (basic/interrupt.h) stops the install between steps
         * (and fails the step whose child it killed): the same unwind as
         * any failure. */
        r = interrupt_check();
        if (r >= 0)
                r = step_prepare_disk(&a);
        if (r < 0)
                goto out;
        if ((r = interrupt_check()) < 0)
                goto out_stop;
        r = step_raid(&a);
        if (r < 0)
                goto out_stop;
        if ((r = interrupt_check()) < 0)
                goto out_stop;
        r = step_luks(&a);
        if (r < 0)
                goto out_stop;
        if ((r = interrupt_check()) < 0)
                goto out_stop;
        r = step_lvm(&a);
        if (r < 0)
                goto out_stop;
        if ((r = interrupt_check()) < 0)
                goto out_stop;
        r = mkdir_p(TARGET_ROOT, 0755);
        if (r < 0)
                goto out_stop;
        if ((r = interrupt_check()) < 0)
                goto out_unmount;
        r = step_mount(&a);
        if (r < 0)
                goto out_unmount;
        if ((r = interrupt_check()) < 0)
                goto out_unmount;
        r = step_image(&a);
        if (r < 0) {
                /* The download's errors (image.h): 4xx (-ENOENT, -EACCES), a
                 * refused redirect or TLS failure (-EPROTO), no route, the
                 * retries or the deadline used up, a changed file. */
                ret = r == -EBADMSG ? EXIT_CHECKSUM
                      : r == -ENOENT || r == -EACCES || r == -EPROTO || r == -ECONNREFUSED || r == -EHOSTUNREACH ||
                                r == -ETIMEDOUT || r == -ESTALE || r == -EIO
                        ? EXIT_FETCH_FAILED
                        : EXIT_INSTALL_FAILED;
                goto out_unmount;
        }
        if ((r = interrupt_check()) < 0)
                goto out_unmount;
        r = step_target(&a, bp);
        if (r != EXIT_OK) {
                ret = r;
                goto out_unmount;
        }
        if ((r = interrupt_check()) < 0)
                goto out_unmount;
        r = step_storage_config(&a);
        if (r < 0)
                goto out_unmount;
        if ((r = interrupt_check()) < 0)
                goto out_unmount;
        r = step_luks_config(&a);
        if (r < 0)
                goto out_unmount;
        if ((r = interrupt_check()) < 0)
                goto out_unmount;
        r = step_bootloader(&a);
        if (r < 0)
                goto out_unmount;
        ret = EXIT_OK;
out_unmount:
        unmount_all(&a);
out_stop:
        storage_release(&a);
        /* Everything is on the disks and nothing holds them: the last write. */
        if (ret == EXIT_OK) {
                r = interrupt_check();
                if (r >= 0)
                        r = step_finish(&a);
                if (r < 0)
                        ret = EXIT_INSTALL_FAILED;
        }
out:
        if (ret == EXIT_OK)
                report_info("INSTALL COMPLETE: %s installed on %s in %.1fs", plan->profile->hostname, a.disk,
                            (double) (report_now_usec() - t0) / 1e6);
        else
                report_info("INSTALL FAILED (exit status %d%s): %s", interrupt_exit_status(ret),
                            interrupt_signal() ? ", after a signal" : "",
                            a.marked ? "no boot code was written; the install-in-progress mark stays, the disk will not "
                                       "boot and the next netboot redoes the install" :
                                       "nothing was written to the disk");
        apply_done(&a);
        return ret;
}
