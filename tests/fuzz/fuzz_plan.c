/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: the plan's layout arithmetic (installer/plan/) with
 * random machines and random disk layouts.
 *
 * The input is not a file format: its bytes are consumed one decision at a
 * time (which size, which sector size, how many partitions ...), see Bytes
 * below. From them the target builds
 *   - an Inventory directly: 1-4 disks of random size (from 0 and a few MiB
 *     up to 2^64 - 1, with extra weight near the limits and near 1 MiB
 *     multiples), 512 or 4096-byte sectors, transports, serials A-D, the
 *     read-only/removable/boot-medium flags, and existing partitions (random
 *     start and size, some labelled "srv" or "data" for preserve:);
 *   - a Profile, through the YAML loader, from a generated document: table,
 *     firmware, wipe, select, mirror, 1-12 partitions with sizes in bytes,
 *     units (K..T, KB..TB), percentages and rest, numbers near 2^64, fs and
 *     mount, preserve:, raid: members and lvm: physical volumes, luks:, and
 *     raid: and lvm: sections with volumes sized the same ways.
 * Then plan_build(), and on success plan_print_text/json into /dev/null and
 * the plan's invariants, any violation an abort():
 *   - every partition: size > 0, start >= usable_start, start + size without
 *     wrapping and <= usable_end (preserved ones: inside the disk), new
 *     ones 1 MiB aligned; all in order of start and not overlapping;
 *     usable_start < usable_end <= the disk's size;
 *   - RAID1: member size > 0; LVM: every volume has extents > 0 (or is the
 *     rest), size = extents * 4 MiB without wrapping, and the volumes of a
 *     group fit in its extents.
 *
 * Built and run by `make fuzz` (see docs/testing.md). Replay one input:
 *   PARTED_GPT_APPLE=0 build/fuzz/fuzz_plan FILE
 * FUZZ_VERBOSE=1 prints the generated profile, the errors and the plan. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/log.h"
#include "basic/strutil.h"
#include "hw/hw.h"
#include "plan/plan.h"
#include "profile/profile.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull; /* or stderr with FUZZ_VERBOSE=1 */
static bool verbose;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        verbose = getenv("FUZZ_VERBOSE") != NULL;
        if (verbose) {
                devnull = stderr;
                return 0;
        }
        log_set_max_level((LogLevel) (LOG_ERR - 1));
        devnull = fopen("/dev/null", "we");
        if (!devnull) {
                perror("fuzz_plan: /dev/null");
                exit(1);
        }
        return 0;
}

/* ---- the input as a stream of decisions (zeros when it runs out) ------------------ */

typedef struct Bytes {
        const uint8_t *p;
        size_t n;
} Bytes;

static uint8_t u8(Bytes *b) {
        if (b->n == 0)
                return 0;
        b->n--;
        return *b->p++;
}

static uint64_t u64(Bytes *b) {
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
                v = v << 8 | u8(b);
        return v;
}

static unsigned pick(Bytes *b, unsigned n) {
        return u8(b) % n;
}


/* A byte count with weight on the interesting places. */
static uint64_t size_value(Bytes *b) {
        switch (pick(b, 10)) {
        case 0: return u64(b);                          /* anything */
        case 1: return UINT64_MAX - u8(b) * (uint64_t) u8(b) * MiB - u8(b); /* near 2^64 */
        case 2: return (uint64_t) u8(b) * MiB + (u8(b) % 3) - 1; /* a few MiB, off by one */
        case 3: return (uint64_t) (u8(b) % 64 + 1) * GiB;     /* typical disks */
        case 4: return ((uint64_t) 1 << (u8(b) % 64)) + (u8(b) % 3) - 1; /* powers of two */
        case 5: return (uint64_t) u8(b) << 8 | u8(b);   /* tiny */
        case 6: return (u64(b) % (8 * 1024 * GiB)) & ~(MiB - 1); /* MiB aligned, up to 8 TiB */
        case 7: return UINT64_MAX / (u8(b) % 16 + 1);
        case 8: return (uint64_t) (u8(b) % 16 + 1) * 1000 * 1000 * 1000; /* decimal GB */
        default: return (uint64_t) u8(b) * 4096 * 1024 + u8(b) * 512;
        }
}

/* ---- the machine --------------------------------------------------------------------- */

static char *xstrdup(const char *s) {
        char *r = s ? strdup(s) : NULL;
        if (s && !r)
                abort();
        return r;
}

static const char *const transports[] = { "virtio", "sata", "sas", "nvme", "usb", "scsi", "mmc", "unknown", NULL };

static Inventory *make_inventory(Bytes *b) {
        Inventory *inv = calloc(1, sizeof(*inv));
        if (!inv)
                abort();
        inv->firmware = pick(b, 2) ? FIRMWARE_UEFI : FIRMWARE_BIOS;
        inv->cpus = 2;
        inv->memory = 2 * GiB;
        inv->n_disks = 1 + pick(b, 4);
        inv->disks = calloc(inv->n_disks, sizeof(HwDisk));
        if (!inv->disks)
                abort();
        for (size_t i = 0; i < inv->n_disks; i++) {
                HwDisk *d = &inv->disks[i];
                uint8_t flags = u8(b);
                char name[16], serial[2] = { (char) ('A' + i), 0 };

                snprintf(name, sizeof(name), "vd%c", (char) ('a' + i));
                d->name = xstrdup(name);
                d->devnode = strprintf("/dev/%s", name);
                d->size = size_value(b);
                d->logical_sector_size = flags & 1 ? 4096 : 512;
                d->physical_sector_size = flags & 2 ? 4096 : d->logical_sector_size;
                d->serial = flags & 4 ? NULL : xstrdup(serial);
                d->transport = xstrdup(transports[pick(b, ELEMENTSOF(transports))]);
                /* Rarely: a disk that can never be the target. */
                d->readonly = (flags & 0x38) == 0x08;
                d->removable = (flags & 0x38) == 0x10;
                d->boot_medium = (flags & 0x38) == 0x18;
                d->rotational = flags & 0x40;
                if (!d->devnode)
                        abort();

                size_t n = pick(b, 6);
                if (n == 0)
                        continue;
                d->pttype = xstrdup(flags & 0x80 ? "dos" : "gpt");
                d->partitions = calloc(n, sizeof(HwPartition));
                if (!d->partitions)
                        abort();
                uint64_t at = MiB;
                for (size_t k = 0; k < n; k++) {
                        HwPartition *p = &d->partitions[d->n_partitions++];
                        uint8_t pf = u8(b);

                        p->number = pf & 0x80 ? u8(b) : (unsigned) k + 1;
                        p->name = strprintf("%s%u", name, p->number);
                        if (!p->name)
                                abort();
                        if (pf & 1) { /* anywhere */
                                p->start = size_value(b);
                                p->size = size_value(b);
                        } else {      /* after the previous one, as a real table */
                                p->start = at;
                                p->size = (uint64_t) (u8(b) + 1) * (pf & 2 ? GiB : MiB);
                                at += p->size;
                        }
                        switch ((pf >> 2) & 3) {
                        case 1: p->fstype = xstrdup("ext4"); p->label = xstrdup("srv"); break;
                        case 2: p->fstype = xstrdup("xfs"); p->label = xstrdup("data"); break;
                        case 3: p->fstype = xstrdup("swap"); break;
                        }
                        if (pf & 0x10)
                                p->uuid = strprintf("0b6a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c%02x", (unsigned) k);
                }
        }
        return inv;
}

/* ---- the profile ----------------------------------------------------------------------- */

static void put_size(Bytes *b, FILE *f, bool allow_rest) {
        static const char *const units[] = { "", "B", "K", "KiB", "M", "MiB", "G", "GiB", "T", "TiB",
                                             "KB", "MB", "GB", "TB" };
        switch (pick(b, 8)) {
        case 0:
                fprintf(f, "%" PRIu64, size_value(b));
                break;
        case 1: /* a number with a unit, possibly too large for it */
                fprintf(f, "%" PRIu64 "%s", pick(b, 2) ? (uint64_t) u8(b) : size_value(b),
                        units[pick(b, ELEMENTSOF(units))]);
                break;
        case 2:
                fprintf(f, "%u%%", pick(b, 4) ? pick(b, 101) : u8(b));
                break;
        case 3:
                fputs(allow_rest ? "rest" : "1GiB", f);
                break;
        case 4: { /* the cases from the issue */
                static const char *const edge[] = { "18446744073709551615", "17592186044415M", "17592186044416M",
                                                    "16777215T", "16777216T", "18014398509481983K",
                                                    "18446744073709551616", "9223372036854775808", "0", "1",
                                                    "1048575", "1048576", "1048577", "4194303", "4194304",
                                                    "0%", "100%", "101%", "99%", "0.5G", "-1", "1e9" };
                fputs(edge[pick(b, ELEMENTSOF(edge))], f);
                break;
        }
        default:
                fprintf(f, "%uMiB", (unsigned) u8(b) << (pick(b, 4) * 4));
        }
}

static const char *const vg_names[] = { "vg0", "vg1" };
static const char *const md_names[] = { "md0", "md1", "md2" };

static void put_fs_mount(Bytes *b, FILE *f, unsigned idx, bool *have_root) {
        switch (pick(b, 8)) {
        case 0: fputs(", fs: swap", f); break;
        case 1: fputs(", fs: none", f); break;
        case 2: fputs(", fs: vfat, mount: /boot/efi", f); break;
        case 3: fputs(", fs: ext4, mount: /boot", f); break;
        case 4: fprintf(f, ", fs: xfs, mount: /srv%u", idx); break;
        default:
                if (!*have_root) {
                        fputs(", fs: ext4, mount: /", f);
                        *have_root = true;
                } else
                        fprintf(f, ", mount: /d%u", idx);
        }
}

/* A profile document from the bytes; NULL on allocation failure. */
static char *make_profile(Bytes *b, size_t *ret_size) {
        char *text = NULL;
        size_t size = 0;
        bool have_root = false, raid = false, lvm = false;
        FILE *f = open_memstream(&text, &size);

        if (!f)
                return NULL;
        uint8_t flags = u8(b);
        fputs("version: 1\nhostname: fz\ndisk:\n", f);
        if (flags & 1)
                fputs("  wipe: true\n", f);
        switch ((flags >> 1) & 3) {
        case 1: fputs("  table: msdos\n", f); break;
        case 2: fputs("  table: gpt\n", f); break;
        }
        switch ((flags >> 3) & 3) {
        case 1: fputs("  firmware: bios\n", f); break;
        case 2: fputs("  firmware: uefi\n", f); break;
        case 3: fputs("  firmware: auto\n", f); break;
        }
        switch ((flags >> 5) & 3) {
        case 0: fputs("  select: { serial: A }\n", f); break;
        case 1: fputs("  select: { prefer: largest }\n", f); break;
        case 2: fputs("  select: { prefer: smallest, min_size: ", f); put_size(b, f, false); fputs(" }\n", f); break;
        case 3: fputs("  select: { prefer: first }\n", f); break;
        }
        if (flags & 0x80) {
                fputs("  mirror: { select: { serial: B } }\n", f);
                raid = true;
        }

        fputs("  partitions:\n", f);
        size_t n = 1 + pick(b, 12);
        for (size_t i = 0; i < n; i++) {
                uint8_t kind = u8(b);

                fputs("    - { size: ", f);
                put_size(b, f, true);
                switch (kind % 10) {
                case 0:
                        if (raid) {
                                fprintf(f, ", raid: %s", md_names[pick(b, ELEMENTSOF(md_names))]);
                                break;
                        }
                        __attribute__((fallthrough));
                case 1:
                        fprintf(f, ", lvm: %s", vg_names[pick(b, ELEMENTSOF(vg_names))]);
                        lvm = true;
                        break;
                case 2:
                        /* A preserved partition: no size of its own is fine too. */
                        switch (pick(b, 3)) {
                        case 0: fputs(", preserve: { label: srv }, mount: /srv", f); break;
                        case 1: fprintf(f, ", preserve: { number: %u }, mount: /keep%zu", pick(b, 8), i); break;
                        default: fputs(", preserve: { label: data }, fs: xfs, mount: /data", f); break;
                        }
                        break;
                case 3:
                        fprintf(f, ", fs: ext4, mount: /secure%zu, luks: { name: c%zu, key_url: \"file:///k\" }", i, i);
                        break;
                default:
                        put_fs_mount(b, f, (unsigned) i, &have_root);
                }
                if (kind & 0x80)
                        fprintf(f, ", name: p%zu", i);
                fputs(" }\n", f);
        }

        if (raid) {
                fputs("raid:\n", f);
                for (size_t i = 0; i < ELEMENTSOF(md_names); i++) {
                        fprintf(f, "  - { name: %s", md_names[i]);
                        if (pick(b, 3) == 0) {
                                fprintf(f, ", lvm: %s", vg_names[pick(b, ELEMENTSOF(vg_names))]);
                                lvm = true;
                        } else
                                put_fs_mount(b, f, (unsigned) (100 + i), &have_root);
                        fputs(" }\n", f);
                }
        }
        if (lvm) {
                fputs("lvm:\n", f);
                for (size_t g = 0; g < ELEMENTSOF(vg_names); g++) {
                        fprintf(f, "  - name: %s\n    volumes:\n", vg_names[g]);
                        size_t nv = 1 + pick(b, 5);
                        for (size_t v = 0; v < nv; v++) {
                                fprintf(f, "      - { name: lv%zu, size: ", v);
                                put_size(b, f, true);
                                put_fs_mount(b, f, (unsigned) (200 + 10 * g + v), &have_root);
                                fputs(" }\n", f);
                        }
                }
        }
        fputs("image: { url: http://h/i.tar.zst, sha256: "
              "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef }\n", f);
        if (fclose(f) != 0) {
                free(text);
                return NULL;
        }
        *ret_size = size;
        return text;
}

/* ---- invariants ------------------------------------------------------------------------ */

#define CHECK(cond)                                                                                       \
        do {                                                                                              \
                if (!(cond)) {                                                                            \
                        fprintf(stderr, "fuzz_plan: plan invariant violated: %s\n", #cond);               \
                        plan_print_text(plan, stderr);                                                    \
                        abort();                                                                          \
                }                                                                                         \
        } while (0)

static void check_plan(const Plan *plan) {
        const HwDisk *disk = plan_target_disk(plan);
        uint64_t prev_end = 0;

        CHECK(disk);
        CHECK(plan->usable_start < plan->usable_end);
        CHECK(plan->usable_end <= disk->size);
        if (plan->has_mirror)
                CHECK(plan->usable_end <= plan_mirror_disk(plan)->size);
        for (size_t i = 0; i < plan->n_partitions; i++) {
                const PlanPartition *p = &plan->partitions[i];
                uint64_t end;

                CHECK(p->size > 0);
                CHECK(!__builtin_add_overflow(p->start, p->size, &end));
                CHECK(end <= disk->size);
                if (!p->preserve) {
                        CHECK(p->start >= plan->usable_start);
                        CHECK(end <= plan->usable_end);
                        CHECK(p->start % PLAN_ALIGN == 0);
                        CHECK(p->size % PLAN_ALIGN == 0);
                }
                CHECK(p->start >= prev_end); /* in order, no overlap */
                prev_end = end;
        }
        for (size_t i = 0; i < plan->n_raids; i++)
                CHECK(plan->raids[i].size > 0);
        for (size_t g = 0; g < plan->n_vgs; g++) {
                const PlanVg *vg = &plan->vgs[g];
                uint64_t sum = 0, bytes;

                for (size_t v = 0; v < vg->n_lvs; v++) {
                        const PlanLv *lv = &vg->lvs[v];

                        if (lv->rest)
                                continue;
                        CHECK(lv->extents > 0);
                        CHECK(!__builtin_mul_overflow(lv->extents, PLAN_LVM_EXTENT, &bytes));
                        CHECK(lv->size == bytes);
                        CHECK(!__builtin_add_overflow(sum, lv->extents, &sum));
                }
                CHECK(sum <= vg->extents);
        }
}

/* ---- the target -------------------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_inventory_ Inventory *inv = NULL;
        _cleanup_profile_ Profile *profile = NULL;
        _cleanup_plan_ Plan *plan = NULL;
        _cleanup_free_ char *text = NULL;
        ProfileErrors errors = {};
        Bytes b = { data, size };
        size_t text_size = 0;
        int r;

        inv = make_inventory(&b);
        text = make_profile(&b, &text_size);
        if (!text)
                return 0;
        if (verbose)
                fprintf(stderr, "---- profile\n%s", text);
        r = profile_load_string("fuzz.yaml", text, text_size, &profile, &errors);
        profile_errors_print(devnull, &errors);
        profile_errors_done(&errors);
        if (r < 0)
                return 0;

        r = plan_build(inv, profile, &plan, &errors);
        profile_errors_print(devnull, &errors);
        profile_errors_done(&errors);
        if (r < 0)
                return 0;
        plan_print_text(plan, devnull);
        plan_print_json(plan, devnull);
        check_plan(plan);
        return 0;
}
