/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: the inventory JSON loader (installer/hw/json.c), what
 * `installer plan --inventory FILE` reads.
 *
 * An input is one inventory file. It is written to a memfd (no disk I/O) and
 * loaded through hw_inventory_load_json() with the file's /proc/self/fd/N
 * name, exactly as the command line loads a path. A failure must come with a
 * message ("FILE:LINE:COL: ..."); a success is written back as JSON
 * (hw_inventory_to_json), loaded again, and must load (the round trip the
 * `inventory` and `plan --inventory` commands rely on).
 *
 * Built and run by `make fuzz` (see docs/testing.md). Replay one input:
 *   build/fuzz/fuzz_inventory FILE */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/strutil.h"
#include "hw/hw.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1, memfd2 = -1;
static char path[64], path2[64];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        if (!getenv("FUZZ_VERBOSE"))
                log_set_max_level((LogLevel) (LOG_ERR - 1));
        memfd = memfd_create("fuzz-inventory.json", MFD_CLOEXEC);
        memfd2 = memfd_create("fuzz-inventory-again.json", MFD_CLOEXEC);
        if (memfd < 0 || memfd2 < 0) {
                perror("fuzz_inventory: memfd_create");
                exit(1);
        }
        snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
        snprintf(path2, sizeof(path2), "/proc/self/fd/%d", memfd2);
        return 0;
}

static void fill(int fd, const void *data, size_t size) {
        if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t) size)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_inventory_ Inventory *inv = NULL, *again = NULL;
        _cleanup_free_ char *error = NULL, *error2 = NULL, *text = NULL;
        size_t text_size = 0;
        FILE *f;
        int r;

        fill(memfd, data, size);
        r = hw_inventory_load_json(path, &inv, &error);
        if (r < 0) {
                if (r == -EINVAL && !error)
                        abort(); /* refused without saying where */
                return 0;
        }

        /* Written back and loaded again. */
        f = open_memstream(&text, &text_size);
        if (!f)
                return 0;
        hw_inventory_to_json(inv, f);
        if (fclose(f) != 0)
                return 0;
        fill(memfd2, text, text_size);
        r = hw_inventory_load_json(path2, &again, &error2);
        if (r < 0) {
                if (r == -ENOMEM)
                        return 0;
                fprintf(stderr, "fuzz_inventory: the inventory written back does not load: %s\n%s\n",
                        error2 ?: strerror(-r), text);
                abort();
        }
        if (again->n_disks != inv->n_disks || again->n_nics != inv->n_nics || again->firmware != inv->firmware)
                abort();
        for (size_t i = 0; i < inv->n_disks; i++)
                if (again->disks[i].size != inv->disks[i].size ||
                    again->disks[i].n_partitions != inv->disks[i].n_partitions)
                        abort();
        return 0;
}
