/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: the profile parser and validator, and for every profile
 * that loads, its match: block checked and the plan built from it against a
 * few recorded machines, printed as text and as JSON.
 *
 * An input is one profile, passed as it is to profile_load_string(). An input
 * that holds a line starting with "#@ " is a profile followed by fragments for
 * include: each "#@ NAME" line starts the fragment NAME, and the profile is
 * loaded with profile_load_string_full() and a loader that serves those
 * fragments from memory (so includes, their merging, nesting and cycles are
 * fuzzed without touching the file system). For a YAML parser the marker is
 * a comment.
 *
 * Built and run by `make fuzz` (see docs/testing.md). To replay one input:
 *   PARTED_GPT_APPLE=0 build/fuzz/fuzz_profile tests/fuzz/crashes/crash-...
 * (PARTED_GPT_APPLE=0 keeps Debian's libparted from reading uninitialised
 * memory in its constructor, which ASan would report before main()).
 *
 * The inventories are read once, at start-up, relative to the repository
 * root; set FUZZ_DATA_DIR to run the binary from somewhere else. Nothing is
 * printed for an input: the installer's logging is silenced and the errors
 * and plans are written to /dev/null (FUZZ_VERBOSE=1: to stderr, to see what
 * a seed does). */
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

/* A BIOS machine with NVMe, SATA and USB disks,
 * a UEFI one (EFI system partition, four NICs), and one whose disk holds data
 * (the wipe checks). */
static const char *const inventory_files[] = {
        "tests/data/inventory/nvme-sata-usb.json",
        "tests/data/sysroot/four-nics-uefi.json",
        "tests/data/inventory/disk-with-data.json",
};

static Inventory *inventories[ELEMENTSOF(inventory_files)];
static FILE *devnull; /* or stderr with FUZZ_VERBOSE=1 */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        const char *dir = getenv("FUZZ_DATA_DIR") ?: ".";

        /* LOG_ERR is the most severe level; one below it, nothing is printed. */
        log_set_max_level((LogLevel) (LOG_ERR - 1));

        for (size_t i = 0; i < ELEMENTSOF(inventory_files); i++) {
                _cleanup_free_ char *path = strprintf("%s/%s", dir, inventory_files[i]);
                _cleanup_free_ char *error = NULL;
                int r;

                if (!path)
                        abort();
                r = hw_inventory_load_json(path, &inventories[i], &error);
                if (r < 0) {
                        /* Without the machines the plan would never be fuzzed: stop. */
                        fprintf(stderr, "fuzz_profile: cannot load %s: %s (run from the repository "
                                "root or set FUZZ_DATA_DIR)\n", path, error ?: strerror(-r));
                        exit(1);
                }
        }

        if (getenv("FUZZ_VERBOSE")) {
                log_set_max_level(LOG_DEBUG);
                devnull = stderr;
                return 0;
        }
        devnull = fopen("/dev/null", "we");
        if (!devnull) {
                perror("fuzz_profile: /dev/null");
                exit(1);
        }
        return 0;
}

/* ---- fragments for include: ------------------------------------------------------ */

#define FRAGMENT_MARK "\n#@ "
#define FRAGMENTS_MAX 16

typedef struct Fragment {
        const char *name, *data;
        size_t name_len, size;
} Fragment;

typedef struct Fragments {
        Fragment v[FRAGMENTS_MAX];
        size_t n;
} Fragments;

/* Split input into the profile (returned size) and its fragments. */
static size_t split_fragments(const char *data, size_t size, Fragments *f) {
        const char *end = data + size;
        const char *m = memmem(data, size, FRAGMENT_MARK, strlen(FRAGMENT_MARK));
        size_t main_size;

        f->n = 0;
        if (!m)
                return size;
        main_size = (size_t) (m - data) + 1; /* with its newline */
        while (m && f->n < FRAGMENTS_MAX) {
                Fragment *x = &f->v[f->n++];
                const char *nl;

                x->name = m + strlen(FRAGMENT_MARK);
                nl = memchr(x->name, '\n', (size_t) (end - x->name));
                x->name_len = (size_t) ((nl ?: end) - x->name);
                x->data = nl ? nl + 1 : end;
                /* From the newline that ends the name line: a fragment may be empty. */
                m = nl ? memmem(nl, (size_t) (end - nl), FRAGMENT_MARK, strlen(FRAGMENT_MARK)) : NULL;
                /* The last fragment takes the rest, markers and all. */
                x->size = (size_t) ((m && f->n < FRAGMENTS_MAX ? m + 1 : end) - x->data);
        }
        return main_size;
}

/* A ProfileIncludeFn: the fragment called ref, wherever it is included from. */
static int fragment_load(const char *base, const char *ref, char **ret_name, char **ret_data,
                         size_t *ret_size, void *userdata) {
        const Fragments *f = userdata;

        for (size_t i = 0; i < f->n; i++) {
                const Fragment *x = &f->v[i];

                if (strlen(ref) != x->name_len || memcmp(ref, x->name, x->name_len) != 0)
                        continue;
                /* Exactly size bytes, no terminating NUL: the loader's contract. */
                _cleanup_free_ char *name = strndup(x->name, x->name_len);
                _cleanup_free_ char *copy = malloc(x->size ?: 1);
                if (!name || !copy)
                        return -ENOMEM;
                memcpy(copy, x->data, x->size);
                *ret_name = TAKE_PTR(name);
                *ret_data = TAKE_PTR(copy);
                *ret_size = x->size;
                return 0;
        }
        return -ENOENT;
}

/* ---- the target -------------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_profile_ Profile *profile = NULL;
        ProfileErrors errors = {};
        Fragments fragments;
        size_t main_size;
        int r;

        main_size = split_fragments((const char *) data, size, &fragments);
        if (fragments.n == 0)
                r = profile_load_string("fuzz.yaml", (const char *) data, size, &profile, &errors);
        else
                r = profile_load_string_full("fuzz.yaml", (const char *) data, main_size, fragment_load,
                                             &fragments, &profile, &errors);
        /* The error list is part of what is fuzzed: format it too. */
        profile_errors_print(devnull, &errors);
        profile_errors_done(&errors);
        if (r < 0)
                return 0;

        for (size_t i = 0; i < ELEMENTSOF(inventories); i++) {
                _cleanup_plan_ Plan *plan = NULL;
                ProfileErrors match_errors = {}, plan_errors = {};

                /* Whether the profile is for this machine; the plan is built
                 * either way (it does not depend on the answer). */
                (void) profile_match_check(profile, inventories[i], &match_errors);
                profile_errors_print(devnull, &match_errors);
                profile_errors_done(&match_errors);

                r = plan_build(inventories[i], profile, &plan, &plan_errors);
                profile_errors_print(devnull, &plan_errors);
                profile_errors_done(&plan_errors);
                if (r < 0)
                        continue;
                plan_print_text(plan, devnull);
                plan_print_json(plan, devnull);
        }
        return 0;
}
