/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The disk module: checking, wiping, partitioning and making filesystems on
 * sparse image files; as root also on loop devices (skipped otherwise).
 *
 * Expected partition tables are the .sfdisk files in tests/data/disk (`sfdisk -d`
 * output with the random identifiers and the image path removed). To
 * regenerate them after an intended change: UPDATE_EXPECTED=1 build/tests/test_disk */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/wait.h>
#include <time.h>

#include "basic/fileio.h"
#include "basic/strutil.h"
#include "disk/disk.h"
#include "plan/plan.h"
#include "unit-tmpdir.h"

#define EXPECTED_DIR "tests/data/disk"

extern char **environ;


/* ---- helpers ---------------------------------------------------------------- */

static char *tmp_path(const char *name) {
        char *p = strprintf("%s/%s", tmpdir, name);
        assert_non_null(p);
        return p;
}

static void make_image(const char *path, uint64_t size) {
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, (off_t) size), 0);
        close(fd);
}

/* Run argv (argv[0] a full path), stdout captured into *ret_out (if
 * non-NULL, else discarded), stderr inherited. Returns the exit status. */
static int run(char **ret_out, const char *arg0, ...) {
        const char *argv[32];
        posix_spawn_file_actions_t fa;
        int pipefd[2], status;
        StrBuf out = {};
        size_t n = 0;
        va_list ap;
        pid_t pid;

        argv[n++] = arg0;
        va_start(ap, arg0);
        while ((argv[n] = va_arg(ap, const char *)))
                n++;
        va_end(ap);

        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
        assert_int_equal(posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO), 0);
        assert_int_equal(posix_spawn(&pid, arg0, &fa, NULL, (char *const *) argv, environ), 0);
        posix_spawn_file_actions_destroy(&fa);
        close(pipefd[1]);
        for (;;) {
                char buf[4096];
                ssize_t k = read(pipefd[0], buf, sizeof buf);
                if (k <= 0)
                        break;
                assert_int_equal(strbuf_append_n(&out, buf, (size_t) k), 0);
        }
        close(pipefd[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (ret_out)
                *ret_out = strbuf_steal(&out);
        else
                strbuf_done(&out);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* A plan for a single disk of the given size, built by plan_build() from a
 * hand-made inventory and profile. Must not move after layout_build(): the
 * plan borrows from it. */
typedef struct Layout {
        HwDisk disk;
        Inventory inv;
        ProfilePartition parts[8];
        Profile profile;
        Plan *plan;
} Layout;

static void layout_build(Layout *l, Firmware fw, PartitionTable table, uint64_t size, const ProfilePartition *parts,
                         size_t n) {
        ProfileErrors errors = {};
        int r;

        assert_true(n <= ELEMENTSOF(l->parts));
        *l = (Layout) {
                .disk = {
                        .name = (char *) "vda",
                        .devnode = (char *) "/dev/vda",
                        .size = size,
                        .logical_sector_size = 512,
                        .physical_sector_size = 512,
                        .transport = (char *) "virtio",
                },
        };
        l->inv = (Inventory) { .firmware = fw, .disks = &l->disk, .n_disks = 1 };
        memcpy(l->parts, parts, n * sizeof *parts);
        l->profile = (Profile) {
                .filename = (char *) "test.yaml",
                .hostname = (char *) "test",
                .disk = {
                        .select = { .rotational = -1 },
                        .table = table,
                        .partitions = l->parts,
                        .n_partitions = n,
                },
        };
        r = plan_build(&l->inv, &l->profile, &l->plan, &errors);
        if (r < 0)
                profile_errors_print(stderr, &errors);
        profile_errors_done(&errors);
        assert_int_equal(r, 0);
}

static void layout_done(Layout *l) {
        plan_free(l->plan);
        l->plan = NULL;
}

#define PART(unit_, value_, fs_, mount_, label_, name_)                                                        \
        ((ProfilePartition) { .size = { .unit = (unit_), .value = (value_) }, .fs = (fs_), .mount = (char *) (mount_), \
                              .label = (char *) (label_), .name = (char *) (name_) })

/* The three layouts of the tests. */
static void layout_gpt_bios(Layout *l, uint64_t size) {
        const ProfilePartition parts[] = {
                PART(SIZE_BYTES, 512 * MiB, FS_SWAP, NULL, NULL, NULL),
                PART(SIZE_REST, 0, FS_EXT4, "/", "root", NULL),
        };
        layout_build(l, FIRMWARE_BIOS, PARTITION_TABLE_GPT, size, parts, ELEMENTSOF(parts));
}

static void layout_msdos(Layout *l, uint64_t size, uint64_t boot) {
        const ProfilePartition parts[] = {
                PART(SIZE_BYTES, boot, FS_EXT4, "/boot", "boot", NULL),
                PART(SIZE_PERCENT, 50, FS_EXT4, "/", "root", NULL),
                PART(SIZE_REST, 0, FS_SWAP, NULL, NULL, NULL),
        };
        layout_build(l, FIRMWARE_BIOS, PARTITION_TABLE_MSDOS, size, parts, ELEMENTSOF(parts));
}

static void layout_gpt_uefi(Layout *l, uint64_t size, uint64_t esp, uint64_t swap) {
        const ProfilePartition parts[] = {
                PART(SIZE_BYTES, esp, FS_VFAT, "/boot/efi", "efi", NULL),
                PART(SIZE_BYTES, swap, FS_SWAP, NULL, "swap", NULL),
                PART(SIZE_REST, 0, FS_EXT4, "/", "root", "system"),
        };
        layout_build(l, FIRMWARE_UEFI, PARTITION_TABLE_GPT, size, parts, ELEMENTSOF(parts));
}

/* `sfdisk -d` without what is random (label-id, uuid=) or depends on where
 * the image is (device:, the partition device names). */
static char *sfdisk_dump_normalized(const char *image) {
        _cleanup_free_ char *out = NULL;
        char *save = NULL;
        StrBuf b = {};
        size_t ilen = strlen(image);

        assert_int_equal(run(&out, "/sbin/sfdisk", "-d", image, NULL), 0);
        for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *u;

                if (startswith(line, "label-id:") || startswith(line, "device:"))
                        continue;
                if (strncmp(line, image, ilen) == 0) {
                        assert_int_equal(strbuf_append(&b, "IMAGE"), 0);
                        line += ilen;
                }
                u = strstr(line, ", uuid=");
                if (u) {
                        char *end = strchr(u + 2, ',');
                        assert_int_equal(strbuf_append_n(&b, line, (size_t) (u - line)), 0);
                        line = end ? end : u + strlen(u);
                }
                assert_int_equal(strbuf_appendf(&b, "%s\n", line), 0);
        }
        return strbuf_steal(&b);
}

static void check_sfdisk(const char *image, const char *expected_name) {
        _cleanup_free_ char *got = sfdisk_dump_normalized(image);
        _cleanup_free_ char *path = strprintf(EXPECTED_DIR "/%s", expected_name);
        _cleanup_free_ char *want = NULL;

        assert_non_null(path);
        if (getenv("UPDATE_EXPECTED")) {
                assert_int_equal(write_file_atomic(path, got, strlen(got), 0644), 0);
                return;
        }
        assert_int_equal(read_full_file(path, &want, NULL), 0);
        if (!streq(got, want))
                fprintf(stderr, "sfdisk -d %s (normalized):\n%s\nexpected (%s):\n%s\n", image, got, path, want);
        assert_string_equal(got, want);
}

/* TYPE or PTTYPE that `blkid -p` finds in [offset, offset + size) of path (size
 * 0: whole), or NULL. */
static char *blkid_type_at(const char *path, uint64_t offset, uint64_t size) {
        char off[32], sz[32];
        char *out = NULL;
        int rc;

        snprintf(off, sizeof off, "%" PRIu64, offset);
        snprintf(sz, sizeof sz, "%" PRIu64, size);
        if (size)
                rc = run(&out, "/sbin/blkid", "-p", "-o", "export", "-O", off, "-S", sz, path, NULL);
        else
                rc = run(&out, "/sbin/blkid", "-p", "-o", "export", path, NULL);
        if (rc == 2) { /* nothing found */
                free(out);
                return NULL;
        }
        assert_int_equal(rc, 0);
        for (char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                const char *v = startswith(l, "TYPE=");
                if (!v)
                        v = startswith(l, "PTTYPE=");
                if (v) {
                        char *t = strndup(v, strcspn(v, "\n"));
                        free(out);
                        return t;
                }
        }
        free(out);
        return strdup("unknown");
}

static char *blkid_value(const char *path, const char *tag) {
        char *out = NULL;
        assert_int_equal(run(&out, "/sbin/blkid", "-p", "-s", tag, "-o", "value", path, NULL), 0);
        strstrip(out);
        return out;
}

/* Copy the first `len` bytes of src into dst at offset. */
static void copy_into(const char *src, const char *dst, uint64_t offset, size_t len) {
        _cleanup_free_ char *buf = malloc(len);
        int in, out;

        assert_non_null(buf);
        in = open(src, O_RDONLY | O_CLOEXEC);
        out = open(dst, O_WRONLY | O_CLOEXEC);
        assert_true(in >= 0 && out >= 0);
        assert_int_equal(pread(in, buf, len, 0), (ssize_t) len);
        assert_int_equal(pwrite(out, buf, len, (off_t) offset), (ssize_t) len);
        close(in);
        close(out);
}

/* Make a filesystem of the given kind on a scratch file and copy its start
 * into image at offset: a signature where a partition is. */
static void plant_signature(const char *image, uint64_t offset, FsType fs) {
        _cleanup_free_ char *scratch = tmp_path("scratch.img");
        PlanPartition p = { .number = 9, .fs = fs };
        char *uuid = NULL, *err = NULL;

        make_image(scratch, 64 * MiB);
        assert_int_equal(disk_mkfs(&p, scratch, &uuid, &err), 0);
        free(uuid);
        copy_into(scratch, image, offset, 4 * MiB);
        unlink(scratch);
}

static bool range_is_zero(const char *path, uint64_t offset, uint64_t size) {
        _cleanup_free_ uint8_t *buf = malloc(size);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        bool zero = true;

        assert_non_null(buf);
        assert_true(fd >= 0);
        assert_int_equal(pread(fd, buf, size, (off_t) offset), (ssize_t) size);
        close(fd);
        for (uint64_t i = 0; i < size; i++)
                if (buf[i]) {
                        zero = false;
                        break;
                }
        return zero;
}

static void assert_contains(const char *haystack, const char *needle) {
        if (!haystack || !strstr(haystack, needle))
                fail_msg("\"%s\" does not contain \"%s\"", haystack ? haystack : "(null)", needle);
}

/* ---- partition device names -------------------------------------------------- */

static void test_partition_devnode(void **state) {
        static const struct {
                const char *disk;
                unsigned n;
                const char *want;
        } cases[] = {
                { "/dev/vda", 2, "/dev/vda2" },       { "/dev/sda", 1, "/dev/sda1" },
                { "/dev/sdaa", 15, "/dev/sdaa15" },   { "/dev/nvme0n1", 2, "/dev/nvme0n1p2" },
                { "/dev/loop0", 2, "/dev/loop0p2" },  { "/dev/mmcblk0", 1, "/dev/mmcblk0p1" },
                { "/dev/md127", 3, "/dev/md127p3" },  { "/dev/xvda", 10, "/dev/xvda10" },
        };
        char *s = NULL;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                assert_int_equal(disk_partition_devnode(cases[i].disk, cases[i].n, &s), 0);
                assert_string_equal(s, cases[i].want);
                free(s);
        }
        assert_int_equal(disk_partition_devnode("/dev/vda", 0, &s), -EINVAL);
        assert_int_equal(disk_partition_devnode("", 1, &s), -EINVAL);
}

static void test_wait_partitions_not_blockdev(void **state) {
        _cleanup_free_ char *image = tmp_path("plain.img");

        make_image(image, 8 * MiB);
        assert_int_equal(disk_wait_partitions(image, 1, 10), -ENOTBLK);
        assert_int_equal(disk_wait_partitions("/nonexistent/disk", 1, 10), -ENOENT);
        unlink(image);
}

/* ---- partitioning image files -------------------------------------------------- */

static void test_partition_gpt_bios(void **state) {
        _cleanup_free_ char *image = tmp_path("gpt-bios.img");
        char *err = NULL;
        Layout l;

        layout_gpt_bios(&l, 4 * GiB);
        make_image(image, 4 * GiB);
        assert_int_equal(disk_check_target(l.plan, image, &err), 0);
        assert_int_equal(disk_partition(l.plan, image, &err), 0);
        assert_null(err);
        check_sfdisk(image, "gpt-bios.sfdisk");
        layout_done(&l);
        unlink(image);
}

static void test_partition_msdos(void **state) {
        _cleanup_free_ char *image = tmp_path("msdos.img");
        char *err = NULL;
        Layout l;

        layout_msdos(&l, 4 * GiB, 512 * MiB);
        make_image(image, 4 * GiB);
        assert_int_equal(disk_partition(l.plan, image, &err), 0);
        assert_null(err);
        check_sfdisk(image, "msdos.sfdisk");
        layout_done(&l);
        unlink(image);
}

static void test_partition_gpt_uefi(void **state) {
        _cleanup_free_ char *image = tmp_path("gpt-uefi.img");
        char *err = NULL;
        Layout l;

        layout_gpt_uefi(&l, 4 * GiB, 512 * MiB, 1 * GiB);
        make_image(image, 4 * GiB);
        assert_int_equal(disk_partition(l.plan, image, &err), 0);
        assert_null(err);
        check_sfdisk(image, "gpt-uefi.sfdisk");
        layout_done(&l);
        unlink(image);
}

/* msdos type ids from the filesystem types: 0xef ESP, 0x0c FAT32, 0x83. */
static void test_partition_msdos_fat(void **state) {
        _cleanup_free_ char *image = tmp_path("msdos-fat.img");
        const ProfilePartition parts[] = {
                PART(SIZE_BYTES, 64 * MiB, FS_VFAT, "/boot/efi", NULL, NULL),
                PART(SIZE_BYTES, 64 * MiB, FS_VFAT, "/srv/share", NULL, NULL),
                PART(SIZE_REST, 0, FS_EXT4, "/", NULL, NULL),
        };
        char *err = NULL;
        Layout l;

        /* An ESP on msdos (type 0xef): for a BIOS machine, as UEFI with
         * msdos is refused by the planner. */
        layout_build(&l, FIRMWARE_BIOS, PARTITION_TABLE_MSDOS, 512 * MiB, parts, ELEMENTSOF(parts));
        make_image(image, 512 * MiB);
        assert_int_equal(disk_partition(l.plan, image, &err), 0);
        assert_null(err);
        check_sfdisk(image, "msdos-fat.sfdisk");
        layout_done(&l);
        unlink(image);
}

/* An LVM physical volume gets the LVM partition type: GPT E6D6D379-...,
 * msdos 0x8e. */
static void test_partition_lvm_type(void **state) {
        _cleanup_free_ char *image = tmp_path("lvm-type.img");
        ProfilePartition parts[] = {
                PART(SIZE_BYTES, 64 * MiB, FS_EXT4, "/boot", NULL, NULL),
                PART(SIZE_REST, 0, FS_NONE, NULL, NULL, NULL),
        };
        char *err = NULL;
        Layout l;

        parts[1].lvm = (char *) "vg0";
        for (int gpt = 0; gpt <= 1; gpt++) {
                layout_build(&l, FIRMWARE_BIOS, gpt ? PARTITION_TABLE_GPT : PARTITION_TABLE_MSDOS, 512 * MiB, parts,
                             ELEMENTSOF(parts));
                make_image(image, 512 * MiB);
                assert_int_equal(disk_partition(l.plan, image, &err), 0);
                assert_null(err);
                _cleanup_free_ char *dump = sfdisk_dump_normalized(image);
                assert_contains(dump, gpt ? "type=E6D6D379-F507-44C2-A23C-238F2A3DF928" : "type=8e");
                layout_done(&l);
                unlink(image);
        }
}

static void test_partition_errors(void **state) {
        _cleanup_free_ char *image = tmp_path("errors.img");
        char *err = NULL;
        Layout l;

        /* The image is smaller than the planned disk. */
        layout_gpt_bios(&l, 4 * GiB);
        make_image(image, 1 * GiB);
        assert_int_equal(disk_partition(l.plan, image, &err), -ENOSPC);
        assert_contains(err, image);
        assert_contains(err, "beyond the end");
        free(err);
        err = NULL;

        /* Overlapping partitions: libparted refuses, and its message is
         * captured instead of printed. */
        make_image(image, 4 * GiB);
        l.plan->partitions[2].start = l.plan->partitions[1].start;
        assert_int_equal(disk_partition(l.plan, image, &err), -EINVAL);
        assert_contains(err, "partition 3");
        assert_contains(err, "overlap");
        free(err);
        err = NULL;

        /* No such file; not a disk. */
        assert_int_equal(disk_partition(l.plan, "/nonexistent/disk.img", &err), -ENOENT);
        assert_contains(err, "/nonexistent/disk.img");
        free(err);
        err = NULL;
        assert_int_equal(disk_partition(l.plan, "/dev/null", &err), -ENOTBLK);
        assert_contains(err, "/dev/null");
        free(err);
        layout_done(&l);
        unlink(image);
}

/* ---- wiping ---------------------------------------------------------------------- */

static void test_wipe_whole_disk_filesystem(void **state) {
        _cleanup_free_ char *image = tmp_path("wipe-fs.img");
        _cleanup_free_ char *listed = NULL;
        char *err = NULL, *t;
        Layout l;

        layout_gpt_bios(&l, 1 * GiB); /* a disk image has no identity to check */
        make_image(image, 64 * MiB);
        assert_int_equal(run(NULL, "/sbin/mke2fs", "-q", "-F", "-t", "ext4", image, NULL), 0);
        t = blkid_type_at(image, 0, 0);
        assert_string_equal(t, "ext4");
        free(t);

        assert_int_equal(disk_wipe(l.plan, image, &err), 0);
        assert_null(err);
        assert_null(blkid_type_at(image, 0, 0));
        assert_int_equal(run(&listed, "/sbin/wipefs", image, NULL), 0);
        assert_string_equal(listed, "");
        assert_true(range_is_zero(image, 0, MiB));
        assert_true(range_is_zero(image, 63 * MiB, MiB));
        layout_done(&l);
        unlink(image);
}

static void test_wipe_partitions(void **state) {
        _cleanup_free_ char *image = tmp_path("wipe-parts.img");
        char *err = NULL, *t;
        Layout l;

        /* msdos: 1 MiB.. /boot 64 MiB ext4, / 50% ext4, swap rest */
        layout_msdos(&l, 256 * MiB, 64 * MiB);
        make_image(image, 256 * MiB);
        assert_int_equal(disk_partition(l.plan, image, &err), 0);
        plant_signature(image, l.plan->partitions[0].start, FS_VFAT);
        plant_signature(image, l.plan->partitions[1].start, FS_EXT4);
        plant_signature(image, l.plan->partitions[2].start, FS_SWAP);

        t = blkid_type_at(image, 0, 0);
        assert_string_equal(t, "dos");
        free(t);
        static const char *const planted[] = { "vfat", "ext4", "swap" };
        for (size_t i = 0; i < 3; i++) {
                t = blkid_type_at(image, l.plan->partitions[i].start, l.plan->partitions[i].size);
                assert_string_equal(t, planted[i]);
                free(t);
        }
        /* The whole disk is refused before the wipe... */
        assert_int_equal(disk_check_target(l.plan, image, &err), -ENOTEMPTY);
        free(err);
        err = NULL;

        assert_int_equal(disk_wipe(l.plan, image, &err), 0);
        assert_null(err);

        /* ...and accepted after it. Nothing anywhere, not even where the
         * partitions were (the signatures there were not in the zeroed
         * first and last MiB), and nothing comes back when the same
         * partitions are created again. */
        assert_int_equal(disk_check_target(l.plan, image, &err), 0);
        assert_null(blkid_type_at(image, 0, 0));
        for (size_t i = 0; i < 3; i++)
                assert_null(blkid_type_at(image, l.plan->partitions[i].start, l.plan->partitions[i].size));
        assert_true(range_is_zero(image, 0, MiB));
        assert_true(range_is_zero(image, 255 * MiB, MiB));
        assert_int_equal(disk_partition(l.plan, image, &err), 0);
        for (size_t i = 0; i < 3; i++)
                assert_null(blkid_type_at(image, l.plan->partitions[i].start, l.plan->partitions[i].size));

        layout_done(&l);
        unlink(image);
}

static void test_wipe_gpt(void **state) {
        _cleanup_free_ char *image = tmp_path("wipe-gpt.img");
        _cleanup_free_ char *listed = NULL;
        char *err = NULL;
        Layout l;

        layout_gpt_bios(&l, 1 * GiB);
        make_image(image, 1 * GiB);
        assert_int_equal(disk_partition(l.plan, image, &err), 0);
        assert_int_equal(disk_wipe(l.plan, image, &err), 0);
        assert_null(err);
        assert_int_equal(run(&listed, "/sbin/wipefs", image, NULL), 0);
        assert_string_equal(listed, "");
        assert_true(range_is_zero(image, 0, MiB));
        assert_true(range_is_zero(image, GiB - MiB, MiB));

        assert_int_equal(disk_wipe(l.plan, "/nonexistent/disk.img", &err), -ENOENT);
        assert_contains(err, "/nonexistent/disk.img");
        free(err);
        layout_done(&l);
        unlink(image);
}

/* ---- reinstall: the existing table edited, a preserved partition untouched ------------ */

static char *sha256_range(const char *path, uint64_t offset, uint64_t size) {
        char skip[64], count[64], cmd[1024];
        char *out = NULL;

        snprintf(skip, sizeof skip, "skip=%" PRIu64, offset / MiB);
        snprintf(count, sizeof count, "count=%" PRIu64, size / MiB);
        snprintf(cmd, sizeof cmd, "dd if=%s bs=1M %s %s status=none | sha256sum", path, skip, count);
        assert_int_equal(run(&out, "/bin/sh", "-c", cmd, NULL), 0);
        strstrip(out);
        return out;
}

static void test_reinstall_keeps_partition(void **state) {
        _cleanup_free_ char *image = tmp_path("reinstall.img"), *before = NULL, *after = NULL, *dump = NULL;
        char *err = NULL, *t;
        ProfileErrors errors = {};
        Layout l;

        /* The old install: gpt, 1 ext4 at 1 MiB, 2 ext4 "srv" at 100 MiB
         * with data, 3 swap at 300 MiB. */
        make_image(image, 1 * GiB);
        assert_int_equal(setenv("REINSTALL_IMAGE", image, 1), 0);
        FILE *f = popen("/sbin/sfdisk -q --no-reread --no-tell-kernel \"$REINSTALL_IMAGE\" >/dev/null", "w");
        assert_non_null(f);
        fputs("label: gpt\nstart=1MiB, size=99MiB\nstart=100MiB, size=200MiB\nstart=300MiB, size=100MiB\n", f);
        assert_int_equal(pclose(f), 0);
        plant_signature(image, 1 * MiB, FS_EXT4);
        plant_signature(image, 100 * MiB, FS_EXT4);
        plant_signature(image, 300 * MiB, FS_SWAP);
        {       /* data beyond the planted superblock */
                int fd = open(image, O_WRONLY | O_CLOEXEC);
                assert_true(fd >= 0);
                for (uint64_t off = 110 * MiB; off < 300 * MiB; off += 7 * MiB)
                        assert_int_equal(pwrite(fd, "precious", 8, (off_t) off), 8);
                close(fd);
        }
        before = sha256_range(image, 100 * MiB, 200 * MiB);

        /* Plan: keep partition 2, a new layout around it. */
        const ProfilePartition parts[] = {
                PART(SIZE_BYTES, 64 * MiB, FS_SWAP, NULL, NULL, NULL),
                PART(SIZE_REST, 0, FS_EXT4, "/", "root", NULL),
                { .preserve = { .by = PRESERVE_NUMBER, .number = 2 }, .mount = (char *) "/srv", .fs = FS_NONE },
                PART(SIZE_BYTES, 100 * MiB, FS_EXT4, "/var", "var", NULL),
        };
        l = (Layout) {
                .disk = { .name = (char *) "vda", .devnode = (char *) "/dev/vda", .size = 1 * GiB,
                          .logical_sector_size = 512, .physical_sector_size = 512, .transport = (char *) "virtio" },
        };
        assert_int_equal(hw_disk_probe_signatures(&l.disk, image), 0);
        assert_int_equal(l.disk.n_partitions, 3);
        l.inv = (Inventory) { .firmware = FIRMWARE_BIOS, .disks = &l.disk, .n_disks = 1 };
        memcpy(l.parts, parts, sizeof parts);
        l.profile = (Profile) {
                .filename = (char *) "test.yaml",
                .hostname = (char *) "test",
                .disk = { .select = { .rotational = -1 }, .wipe = true, .table = PARTITION_TABLE_GPT,
                          .partitions = l.parts, .n_partitions = ELEMENTSOF(parts) },
        };
        assert_int_equal(plan_build(&l.inv, &l.profile, &l.plan, &errors), 0);
        profile_errors_done(&errors);
        assert_true(l.plan->keep_table);

        assert_int_equal(disk_check_target(l.plan, image, &err), 0);
        assert_int_equal(disk_wipe_replaced(l.plan, image, &err), 0);
        assert_null(blkid_type_at(image, 1 * MiB, 99 * MiB));
        assert_null(blkid_type_at(image, 300 * MiB, 100 * MiB));
        t = blkid_type_at(image, 100 * MiB, 200 * MiB);
        assert_string_equal(t, "ext4");
        free(t);
        assert_int_equal(disk_partition(l.plan, image, &err), 0);

        /* The new table: bios-boot 1, swap 3, root 4 up to the kept
         * partition 2, /var 5 after it. */
        dump = sfdisk_dump_normalized(image);
        assert_contains(dump, "IMAGE1 : start=        2048, size=        2048");
        assert_contains(dump, "IMAGE2 : start=      204800, size=      409600");
        assert_contains(dump, "IMAGE3 : start=        4096, size=      131072");
        assert_contains(dump, "IMAGE4 : start=      135168, size=       69632");
        assert_contains(dump, "IMAGE5 : start=      614400, size=      204800");
        after = sha256_range(image, 100 * MiB, 200 * MiB);
        assert_string_equal(before, after);

        /* The last look refuses a preserved partition that changed. */
        plant_signature(image, 100 * MiB, FS_EXT4); /* a new filesystem UUID */
        assert_int_equal(disk_check_target(l.plan, image, &err), -ESTALE);
        assert_contains(err, "partition 2 (vda2), which the plan preserves, now holds ext4");
        free(err);
        err = NULL;
        /* ...and one that moved. */
        f = popen("/sbin/sfdisk -q --no-reread --no-tell-kernel -N 2 \"$REINSTALL_IMAGE\" >/dev/null", "w");
        assert_non_null(f);
        fputs("start=101MiB, size=199MiB\n", f);
        assert_int_equal(pclose(f), 0);
        assert_int_equal(disk_check_target(l.plan, image, &err), -ESTALE);
        assert_contains(err, "moved");
        free(err);
        err = NULL;
        assert_int_equal(disk_wipe_replaced(l.plan, image, &err), -ESTALE);
        free(err);
        err = NULL;
        assert_int_equal(disk_partition(l.plan, image, &err), -ESTALE);
        free(err);

        layout_done(&l);
        for (size_t i = 0; i < l.disk.n_partitions; i++) {
                free(l.disk.partitions[i].name);
                free(l.disk.partitions[i].fstype);
                free(l.disk.partitions[i].label);
                free(l.disk.partitions[i].uuid);
        }
        free(l.disk.partitions);
        free(l.disk.pttype);
        free(l.disk.ptuuid);
        free(l.disk.fstype);
        unlink(image);
}


/* ---- reinstall: unbootable from the first write ---------------------------------- */

static void read_at(const char *path, uint64_t offset, void *buf, size_t n) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(pread(fd, buf, n, (off_t) offset), (ssize_t) n);
        close(fd);
}

static void write_at(const char *path, uint64_t offset, const void *buf, size_t n) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(pwrite(fd, buf, n, (off_t) offset), (ssize_t) n);
        close(fd);
}

static uint64_t gpt_entry_attrs(const char *image, uint64_t entries_lba, unsigned number) {
        uint8_t a[8];
        uint64_t v = 0;
        read_at(image, entries_lba * 512 + (uint64_t) (number - 1) * 128 + 48, a, sizeof a);
        for (int i = 7; i >= 0; i--)
                v = v << 8 | a[i];
        return v;
}

/* An old install (partitions 1, 2 with data, 3) with boot code and a
 * bootable flag on partition 1, and a plan that keeps partition 2. */
static void reinstall_setup(Layout *l, const char *image, PartitionTable table) {
        static const ProfilePartition parts[] = {
                PART(SIZE_BYTES, 64 * MiB, FS_SWAP, NULL, NULL, NULL),
                PART(SIZE_REST, 0, FS_EXT4, "/", "root", NULL),
                { .preserve = { .by = PRESERVE_NUMBER, .number = 2 }, .mount = (char *) "/srv", .fs = FS_NONE },
                PART(SIZE_BYTES, 100 * MiB, FS_EXT4, "/var", "var", NULL),
        };
        bool gpt = table == PARTITION_TABLE_GPT;
        ProfileErrors errors = {};
        uint8_t code[440];

        make_image(image, 1 * GiB);
        assert_int_equal(setenv("REINSTALL_IMAGE", image, 1), 0);
        FILE *f = popen("/sbin/sfdisk -q --no-reread --no-tell-kernel \"$REINSTALL_IMAGE\" >/dev/null", "w");
        assert_non_null(f);
        fputs(gpt ? "label: gpt\nstart=1MiB, size=99MiB, attrs=LegacyBIOSBootable\nstart=100MiB, size=200MiB\n"
                    "start=300MiB, size=100MiB, attrs=LegacyBIOSBootable\n"
                  : "label: dos\nstart=1MiB, size=99MiB, bootable\nstart=100MiB, size=200MiB\nstart=300MiB, size=100MiB\n",
              f);
        assert_int_equal(pclose(f), 0);
        memset(code, 0xeb, sizeof code); /* "the old boot loader" */
        write_at(image, 0, code, sizeof code);
        plant_signature(image, 1 * MiB, FS_EXT4);
        plant_signature(image, 100 * MiB, FS_EXT4);
        plant_signature(image, 300 * MiB, FS_SWAP);

        *l = (Layout) {
                .disk = { .name = (char *) "vda", .devnode = (char *) "/dev/vda", .size = 1 * GiB,
                          .logical_sector_size = 512, .physical_sector_size = 512, .transport = (char *) "virtio" },
        };
        assert_int_equal(hw_disk_probe_signatures(&l->disk, image), 0);
        l->inv = (Inventory) { .firmware = FIRMWARE_BIOS, .disks = &l->disk, .n_disks = 1 };
        memcpy(l->parts, parts, sizeof parts);
        l->profile = (Profile) {
                .filename = (char *) "test.yaml",
                .hostname = (char *) "test",
                .disk = { .select = { .rotational = -1 }, .wipe = true, .table = table,
                          .partitions = l->parts, .n_partitions = ELEMENTSOF(parts) },
        };
        assert_int_equal(plan_build(&l->inv, &l->profile, &l->plan, &errors), 0);
        profile_errors_done(&errors);
        assert_true(l->plan->keep_table);
}

static void reinstall_done(Layout *l) {
        layout_done(l);
        for (size_t i = 0; i < l->disk.n_partitions; i++) {
                free(l->disk.partitions[i].name);
                free(l->disk.partitions[i].fstype);
                free(l->disk.partitions[i].label);
                free(l->disk.partitions[i].uuid);
        }
        free(l->disk.partitions);
        free(l->disk.pttype);
        free(l->disk.ptuuid);
        free(l->disk.fstype);
}

static void test_reinstall_unbootable_gpt(void **state) {
        _cleanup_free_ char *image = tmp_path("unbootable-gpt.img"), *before = NULL, *after = NULL, *out = NULL;
        uint8_t mbr0[512], mbr1[512];
        char *err = NULL;
        Layout l;

        reinstall_setup(&l, image, PARTITION_TABLE_GPT);
        before = sha256_range(image, 100 * MiB, 200 * MiB);
        read_at(image, 0, mbr0, sizeof mbr0);
        /* sfdisk put the attribute into both tables (backup entries at
         * the last 33 sectors of 1 GiB: LBA 2097119). */
        assert_true(gpt_entry_attrs(image, 2, 1) & 4);
        assert_true(gpt_entry_attrs(image, 2097119, 1) & 4);
        assert_true(gpt_entry_attrs(image, 2, 3) & 4);

        assert_int_equal(disk_check_target(l.plan, image, &err), 0);
        assert_int_equal(disk_wipe_replaced(l.plan, image, &err), 0);
        assert_null(err);

        /* No boot code, no legacy-bootable partition, in either table... */
        read_at(image, 0, mbr1, sizeof mbr1);
        assert_true(range_is_zero(image, 0, 440));
        assert_memory_equal(mbr0 + 440, mbr1 + 440, 512 - 440); /* disk signature, protective entry */
        for (unsigned n = 1; n <= 3; n++) {
                assert_int_equal(gpt_entry_attrs(image, 2, n) & 4, 0);
                assert_int_equal(gpt_entry_attrs(image, 2097119, n) & 4, 0);
        }
        /* ...the checksums still verify (sfdisk would complain and fall
         * back to the backup), the preserved partition is untouched. */
        assert_int_equal(run(&out, "/sbin/sfdisk", "--verify", image, NULL), 0);
        assert_null(strstr(out, "corrupt"));
        assert_null(strstr(out, "CRC"));
        free(out);
        out = sfdisk_dump_normalized(image);
        assert_null(strstr(out, "attrs"));
        assert_contains(out, "IMAGE2 : start=      204800, size=      409600");
        after = sha256_range(image, 100 * MiB, 200 * MiB);
        assert_string_equal(before, after);

        /* The new table: libparted keeps the boot code area blank, the new
         * root gets its legacy-boot attribute only from the plan (the
         * bootloader step writes gptmbr.bin later). */
        assert_int_equal(disk_partition(l.plan, image, &err), 0);
        assert_true(range_is_zero(image, 0, 440));
        after = (free(after), sha256_range(image, 100 * MiB, 200 * MiB));
        assert_string_equal(before, after);

        reinstall_done(&l);
        unlink(image);
}

static void test_reinstall_unbootable_msdos(void **state) {
        _cleanup_free_ char *image = tmp_path("unbootable-dos.img"), *before = NULL, *after = NULL, *out = NULL;
        uint8_t mbr0[512], mbr1[512];
        char *err = NULL;
        Layout l;

        reinstall_setup(&l, image, PARTITION_TABLE_MSDOS);
        before = sha256_range(image, 100 * MiB, 200 * MiB);
        read_at(image, 0, mbr0, sizeof mbr0);
        assert_int_equal(mbr0[446], 0x80);

        assert_int_equal(disk_check_target(l.plan, image, &err), 0);
        assert_int_equal(disk_wipe_replaced(l.plan, image, &err), 0);
        read_at(image, 0, mbr1, sizeof mbr1);
        assert_true(range_is_zero(image, 0, 440));
        assert_memory_equal(mbr0 + 440, mbr1 + 440, 6); /* disk signature */
        for (unsigned i = 0; i < 4; i++)
                assert_int_equal(mbr1[446 + 16 * i], 0);
        /* Only the active flags changed in the table. */
        mbr0[446] = 0;
        assert_memory_equal(mbr0 + 446, mbr1 + 446, 66);
        out = sfdisk_dump_normalized(image);
        assert_null(strstr(out, "bootable"));
        after = sha256_range(image, 100 * MiB, 200 * MiB);
        assert_string_equal(before, after);

        /* libparted writes its own MBR code into a blank boot code area;
         * disk_partition() takes it out again. */
        assert_int_equal(disk_partition(l.plan, image, &err), 0);
        assert_null(err);
        assert_true(range_is_zero(image, 0, 440));
        after = (free(after), sha256_range(image, 100 * MiB, 200 * MiB));
        assert_string_equal(before, after);

        reinstall_done(&l);
        unlink(image);
}

/* ---- identity: the disk written is the disk planned ------------------------------ */

static void test_identity_compare(void **state) {
        const HwDisk planned = { .name = (char *) "vda", .devnode = (char *) "/dev/vda", .major = 253, .minor = 0,
                                 .size = 4 * GiB, .logical_sector_size = 512, .serial = (char *) "disk0",
                                 .wwn = (char *) "0x5000c500a1b2c3d4", .by_path = (char *) "pci-0000:00:04.0" };
        static const struct {
                const char *name;
                HwDisk found;
                const char *expect; /* NULL: the same disk */
        } cases[] = {
                { "same", {}, NULL },
                { "other serial", { .serial = (char *) "disk1" }, "serial: planned \"disk0\", found \"disk1\"" },
                { "no serial", { .serial = NULL }, "serial: planned \"disk0\", found none" },
                { "other WWN", { .wwn = (char *) "0x5000c500ffffffff" }, "WWN: planned" },
                { "other device number", { .minor = 16 }, "device number: planned 253:0, found 253:16" },
                { "other size", { .size = 8 * GiB }, "size: planned 4.0 GiB" },
                { "other sector size", { .logical_sector_size = 4096 }, "logical sector size: planned 512, found 4096" },
                { "other slot", { .by_path = (char *) "pci-0000:00:05.0" }, "by-path: planned" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                HwDisk found = planned;
                char *err = NULL;

                /* Apply the case's difference to a copy of the planned disk. */
                if (streq(cases[i].name, "other serial") || streq(cases[i].name, "no serial"))
                        found.serial = cases[i].found.serial;
                found.wwn = cases[i].found.wwn ? cases[i].found.wwn : found.wwn;
                found.minor = cases[i].found.minor ? cases[i].found.minor : found.minor;
                found.size = cases[i].found.size ? cases[i].found.size : found.size;
                found.logical_sector_size = cases[i].found.logical_sector_size ?: found.logical_sector_size;
                found.by_path = cases[i].found.by_path ? cases[i].found.by_path : found.by_path;

                int r = disk_identity_compare(&planned, &found, "/dev/vda", &err);
                if (!cases[i].expect) {
                        assert_int_equal(r, 0);
                        assert_null(err);
                        continue;
                }
                assert_int_equal(r, -ESTALE);
                assert_contains(err, "Refusing to write /dev/vda: it is not the disk the plan was made for");
                assert_contains(err, cases[i].expect);
                free(err);
        }

        /* An inventory loaded from JSON has no device number: not compared. */
        HwDisk loaded = planned, found = planned;
        loaded.major = loaded.minor = 0;
        found.minor = 16;
        assert_int_equal(disk_identity_compare(&loaded, &found, "/dev/vda", NULL), 0);
}

/* ---- the check before the first write ------------------------------------------- */

static void test_check_target(void **state) {
        _cleanup_free_ char *image = tmp_path("check.img");
        _cleanup_free_ char *scratch = tmp_path("check-scratch.img");
        char *err = NULL;
        Layout l;

        layout_gpt_bios(&l, 1 * GiB);
        assert_false(l.plan->wipe);

        /* Blank: fine. */
        make_image(image, 1 * GiB);
        assert_int_equal(disk_check_target(l.plan, image, &err), 0);
        assert_null(err);

        /* Another size: not the planned disk. */
        make_image(image, 1 * GiB + MiB);
        assert_int_equal(disk_check_target(l.plan, image, &err), -ESTALE);
        assert_contains(err, image);
        assert_contains(err, "/dev/vda");
        free(err);
        err = NULL;

        /* A filesystem appeared since the plan. */
        make_image(image, 1 * GiB);
        assert_int_equal(run(NULL, "/sbin/mke2fs", "-q", "-F", "-t", "ext4", image, NULL), 0);
        assert_int_equal(disk_check_target(l.plan, image, &err), -ENOTEMPTY);
        assert_contains(err, image);
        assert_contains(err, "ext4 filesystem");
        free(err);
        err = NULL;

        /* ... which is fine when the plan wipes the disk anyway. */
        l.plan->wipe = true;
        assert_int_equal(disk_check_target(l.plan, image, &err), 0);
        l.plan->wipe = false;

        /* A partition table. */
        make_image(image, 1 * GiB);
        assert_int_equal(disk_partition(l.plan, image, &err), 0);
        assert_int_equal(disk_check_target(l.plan, image, &err), -ENOTEMPTY);
        assert_contains(err, "gpt partition table");
        free(err);
        err = NULL;

        /* Ambiguous: a FAT boot sector on top of a swap area. Refused even
         * when wiping. */
        make_image(image, 1 * GiB);
        assert_int_equal(run(NULL, "/sbin/mkswap", "-q", image, NULL), 0);
        make_image(scratch, 64 * MiB);
        assert_int_equal(run(NULL, "/sbin/mkfs.fat", "-F", "32", "--mbr=n", scratch, NULL), 0);
        copy_into(scratch, image, 0, 512);
        l.plan->wipe = true;
        assert_int_equal(disk_check_target(l.plan, image, &err), -ENOTUNIQ);
        assert_contains(err, "ambiguous");
        free(err);
        err = NULL;
        l.plan->wipe = false;

        /* Neither a disk nor a file; missing. */
        assert_int_equal(disk_check_target(l.plan, "/dev/null", &err), -ENOTBLK);
        free(err);
        err = NULL;
        assert_int_equal(disk_check_target(l.plan, "/nonexistent/disk.img", &err), -ENOENT);
        assert_contains(err, "/nonexistent/disk.img");
        free(err);

        layout_done(&l);
        unlink(image);
        unlink(scratch);
}

/* ---- making filesystems on files ------------------------------------------------ */

static void test_mkfs_files(void **state) {
        _cleanup_free_ char *image = tmp_path("mkfs.img");
        static const struct {
                FsType fs;
                const char *label, *want_type, *want_label;
        } cases[] = {
                { FS_EXT4, "root", "ext4", "root" },
                { FS_SWAP, "swap", "swap", "swap" },
                { FS_VFAT, "efi", "vfat", "EFI" },
                { FS_EXT4, NULL, "ext4", "" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                PlanPartition p = { .number = (unsigned) i + 1, .fs = cases[i].fs, .label = cases[i].label };
                char *uuid = NULL, *err = NULL, *v;

                make_image(image, 64 * MiB);
                assert_int_equal(disk_mkfs(&p, image, &uuid, &err), 0);
                assert_null(err);
                assert_non_null(uuid);
                v = blkid_value(image, "UUID");
                assert_string_equal(uuid, v);
                free(v);
                v = blkid_value(image, "TYPE");
                assert_string_equal(v, cases[i].want_type);
                free(v);
                v = blkid_value(image, "LABEL");
                assert_string_equal(v, cases[i].want_label);
                free(v);
                free(uuid);
        }
        unlink(image);
}

static void test_mkfs_errors(void **state) {
        PlanPartition p = { .number = 1, .fs = FS_EXT4 };
        char *uuid = (char *) "untouched", *err = NULL;

        /* The tool's own message becomes the error. */
        assert_int_equal(disk_mkfs(&p, "/nonexistent/part", &uuid, &err), -EPROTO);
        assert_contains(err, "/sbin/mke2fs failed on /nonexistent/part");
        assert_contains(err, "does not exist");
        free(err);
        err = NULL;

        /* No filesystem: nothing to do. */
        p.fs = FS_NONE;
        assert_int_equal(disk_mkfs(&p, "/nonexistent/part", &uuid, &err), 0);
        assert_null(uuid);

        /* A tool that is not installed. */
        if (access("/sbin/mkfs.xfs", X_OK) < 0) {
                p.fs = FS_XFS;
                assert_int_equal(disk_mkfs(&p, "/nonexistent/part", &uuid, &err), -ENOENT);
                assert_contains(err, "mkfs.xfs");
                free(err);
        }
}

static void test_mkfs_deterministic(void **state) {
        _cleanup_free_ char *image = tmp_path("det.img");
        static const FsType types[] = { FS_EXT4, FS_SWAP, FS_VFAT };

        setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                PlanPartition p = { .number = 2, .fs = types[i] };
                char *a = NULL, *b = NULL, *c = NULL, *err = NULL;

                make_image(image, 64 * MiB);
                assert_int_equal(disk_mkfs(&p, image, &a, &err), 0);
                make_image(image, 64 * MiB);
                assert_int_equal(disk_mkfs(&p, image, &b, &err), 0);
                p.number = 3;
                make_image(image, 64 * MiB);
                assert_int_equal(disk_mkfs(&p, image, &c, &err), 0);
                assert_null(err);
                assert_string_equal(a, b);
                assert_string_not_equal(a, c);
                free(a);
                free(b);
                free(c);
        }
        unsetenv("SOURCE_DATE_EPOCH");
        unlink(image);
}

/* ---- loop devices (root) --------------------------------------------------------- */

typedef struct LoopState {
        char *image, *loop, *mnt;
        char *swap_part;
        bool mounted;
} LoopState;

static int loop_setup(void **state) {
        LoopState *s = calloc(1, sizeof *s);
        assert_non_null(s);
        *state = s;
        return 0;
}

static int loop_teardown(void **state) {
        LoopState *s = *state;

        if (s->mounted)
                (void) umount2(s->mnt, MNT_DETACH);
        if (s->swap_part)
                (void) swapoff(s->swap_part);
        if (s->loop)
                (void) run(NULL, "/sbin/losetup", "-d", s->loop, NULL);
        if (s->image)
                unlink(s->image);
        if (s->mnt)
                rmdir(s->mnt);
        free(s->image);
        free(s->loop);
        free(s->mnt);
        free(s->swap_part);
        free(s);
        return 0;
}

/* Attach image to a free loop device with partition scanning; skip the test
 * when that is not possible (not root, no loop devices). */
static void loop_attach(LoopState *s) {
        char *out = NULL;

        if (geteuid() != 0)
                skip();
        if (run(&out, "/sbin/losetup", "-P", "--find", "--show", s->image, NULL) != 0) {
                free(out);
                skip();
        }
        s->loop = strstrip(out);
}

static void wait_gone(const char *node) {
        for (unsigned i = 0; i < 250 && access(node, F_OK) == 0; i++)
                nanosleep(&(struct timespec) { .tv_nsec = 20 * 1000 * 1000 }, NULL);
        assert_int_not_equal(access(node, F_OK), 0);
}

static void test_loop_mkfs_and_in_use(void **state) {
        LoopState *s = *state;
        char *err = NULL;
        Layout l;

        layout_gpt_uefi(&l, 256 * MiB, 64 * MiB, 64 * MiB);
        s->image = tmp_path("loop.img");
        make_image(s->image, 256 * MiB);
        loop_attach(s);

        /* Partition the block device: libparted tells the kernel about the
         * partitions (BLKPG; this works even where the kernel cannot parse
         * partition tables itself, like the build host's). */
        assert_int_equal(disk_check_target(l.plan, s->loop, &err), 0);
        assert_int_equal(disk_wipe(l.plan, s->loop, &err), 0);
        assert_int_equal(disk_partition(l.plan, s->loop, &err), 0);
        assert_null(err);
        assert_int_equal(disk_wait_partitions(s->loop, 3, 10000), 0);
        check_sfdisk(s->loop, "gpt-uefi-loop.sfdisk");

        /* mkfs on each partition; the UUID is the one blkid sees. */
        for (size_t i = 0; i < l.plan->n_partitions; i++) {
                _cleanup_free_ char *node = NULL, *uuid = NULL, *want = NULL;
                assert_int_equal(disk_partition_devnode(s->loop, l.plan->partitions[i].number, &node), 0);
                assert_int_equal(disk_mkfs(&l.plan->partitions[i], node, &uuid, &err), 0);
                assert_null(err);
                want = blkid_value(node, "UUID");
                assert_string_equal(uuid, want);
        }

        /* A mounted partition. */
        s->mnt = tmp_path("mnt");
        assert_int_equal(mkdir(s->mnt, 0700), 0);
        _cleanup_free_ char *root = NULL;
        assert_int_equal(disk_partition_devnode(s->loop, 3, &root), 0);
        assert_int_equal(mount(root, s->mnt, "ext4", 0, NULL), 0);
        s->mounted = true;
        assert_int_equal(disk_check_target(l.plan, s->loop, &err), -EBUSY);
        assert_contains(err, root);
        assert_contains(err, "mounted on");
        free(err);
        err = NULL;
        assert_int_equal(disk_wipe(l.plan, s->loop, &err), -EBUSY);
        free(err);
        err = NULL;
        assert_int_equal(umount2(s->mnt, 0), 0);
        s->mounted = false;

        /* Swap (when this kernel lets us). */
        assert_int_equal(disk_partition_devnode(s->loop, 2, &s->swap_part), 0);
        if (swapon(s->swap_part, 0) == 0) {
                assert_int_equal(disk_check_target(l.plan, s->loop, &err), -EBUSY);
                assert_contains(err, "used as swap");
                free(err);
                err = NULL;
                assert_int_equal(swapoff(s->swap_part), 0);
        }
        free(s->swap_part);
        s->swap_part = NULL;

        /* Not in use, but not blank. */
        assert_int_equal(disk_check_target(l.plan, s->loop, &err), -ENOTEMPTY);
        assert_contains(err, s->loop);
        free(err);
        err = NULL;

        /* Wipe the block device: the kernel forgets the partitions. */
        _cleanup_free_ char *p1 = NULL;
        assert_int_equal(disk_partition_devnode(s->loop, 1, &p1), 0);
        assert_int_equal(disk_wipe(l.plan, s->loop, &err), 0);
        assert_null(err);
        wait_gone(p1);
        assert_int_equal(disk_check_target(l.plan, s->loop, &err), 0);
        assert_int_equal(disk_wait_partitions(s->loop, 1, 100), -ETIMEDOUT);

        layout_done(&l);
}


/* A block device that is not the planned disk (another serial, another
 * device number) is refused by every writing step before it writes. */
static void test_loop_identity(void **state) {
        LoopState *s = *state;
        _cleanup_free_ char *before = NULL, *after = NULL;
        HwDisk real = {};
        char *err = NULL;
        Layout l;

        layout_gpt_uefi(&l, 256 * MiB, 64 * MiB, 64 * MiB);
        s->image = tmp_path("loop-identity.img");
        make_image(s->image, 256 * MiB);
        write_at(s->image, 0, "old boot code", 13);
        write_at(s->image, 128 * MiB, "data", 4);
        loop_attach(s);
        before = sha256_range(s->image, 0, 256 * MiB);

        /* The plan was made for a disk with a serial number; the block
         * device now under that name has none. */
        l.disk.serial = (char *) "PLANNED-0001";
        assert_int_equal(disk_check_target(l.plan, s->loop, &err), -ESTALE);
        assert_contains(err, s->loop);
        assert_contains(err, "serial: planned \"PLANNED-0001\", found none");
        free(err);
        err = NULL;
        assert_int_equal(disk_wipe(l.plan, s->loop, &err), -ESTALE);
        free(err);
        err = NULL;
        assert_int_equal(disk_partition(l.plan, s->loop, &err), -ESTALE);
        free(err);
        err = NULL;

        /* Another device number. */
        l.disk.serial = NULL;
        const char *name = strrchr(s->loop, '/') + 1;
        assert_int_equal(hw_disk_identify(NULL, name, &real), 0);
        l.disk.major = real.major;
        l.disk.minor = real.minor + 1;
        assert_int_equal(disk_wipe(l.plan, s->loop, &err), -ESTALE);
        assert_contains(err, "device number");
        free(err);
        err = NULL;

        after = sha256_range(s->image, 0, 256 * MiB);
        assert_string_equal(before, after);

        /* The disk as it is: accepted. */
        l.disk.minor = real.minor;
        assert_int_equal(disk_identity_compare(&l.disk, &real, s->loop, NULL), 0);
        assert_int_equal(disk_verify_identity(&l.disk, s->loop, &err), 0);
        assert_int_equal(disk_check_target(l.plan, s->loop, &err), 0);
        assert_int_equal(disk_wipe(l.plan, s->loop, &err), 0);
        assert_null(err);

        hw_disk_free_contents(&real);
        layout_done(&l);
}

/* ---- main ------------------------------------------------------------------------- */

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_partition_devnode),
                cmocka_unit_test(test_wait_partitions_not_blockdev),
                cmocka_unit_test(test_partition_gpt_bios),
                cmocka_unit_test(test_partition_msdos),
                cmocka_unit_test(test_partition_gpt_uefi),
                cmocka_unit_test(test_partition_msdos_fat),
                cmocka_unit_test(test_partition_lvm_type),
                cmocka_unit_test(test_partition_errors),
                cmocka_unit_test(test_wipe_whole_disk_filesystem),
                cmocka_unit_test(test_wipe_partitions),
                cmocka_unit_test(test_wipe_gpt),
                cmocka_unit_test(test_check_target),
                cmocka_unit_test(test_reinstall_keeps_partition),
                cmocka_unit_test(test_reinstall_unbootable_gpt),
                cmocka_unit_test(test_reinstall_unbootable_msdos),
                cmocka_unit_test(test_identity_compare),
                cmocka_unit_test(test_mkfs_files),
                cmocka_unit_test(test_mkfs_errors),
                cmocka_unit_test(test_mkfs_deterministic),
                cmocka_unit_test_setup_teardown(test_loop_mkfs_and_in_use, loop_setup, loop_teardown),
                cmocka_unit_test_setup_teardown(test_loop_identity, loop_setup, loop_teardown),
        };
        return cmocka_run_group_tests(tests, tmpdir_group_setup, tmpdir_group_teardown);
}
