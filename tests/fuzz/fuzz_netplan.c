/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: the netplan renderer (installer/target/target-network.c)
 * and the netplan checker in front of it (profile-network.c).
 *
 * An input is one netplan file (the document `installer render-network FILE`
 * takes: a mapping whose only key is network:). It is loaded from a memfd with
 * profile_load_network_file(), as render-network loads a netplan file. Every
 * input that validates is rendered with target_write_network() into two
 * target roots under /dev/shm (tmpfs: no disk I/O), made once per process:
 *   - networkd/: no netplan in the target: the systemd-networkd .network,
 *     .netdev and .link files, and resolv.conf;
 *   - netplan/: /usr/sbin/netplan in the target: the section written back as
 *     /etc/netplan/50-installer.yaml, which is then loaded again and must
 *     validate (what we write, our own checker accepts).
 * A section that validates must render: a failure there would stop an
 * installation after the disk was written. Files of the previous input are
 * removed by the renderer itself (stale files) or overwritten. The roots are
 * removed at exit (FUZZ_KEEP_ROOT=1 keeps them, to look at the files).
 *
 * Built and run by `make fuzz` (see docs/testing.md). Replay one input:
 *   build/fuzz/fuzz_netplan FILE   (FUZZ_VERBOSE=1 shows the errors) */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/strutil.h"
#include "profile/profile.h"
#include "target/target.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;
static char path[64];
static char base[128], root_networkd[160], root_netplan[160], written_yaml[256];
static FILE *devnull;

static void remove_roots(void) {
        char cmd[256];

        if (getenv("FUZZ_KEEP_ROOT") || !base[0])
                return;
        /* base is our own mkdtemp() directory under /dev/shm. */
        snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", base);
        if (system(cmd) != 0)
                fprintf(stderr, "fuzz_netplan: cannot remove %s\n", base);
}

static void mkdir_or_die(const char *p) {
        if (mkdir(p, 0755) < 0 && errno != EEXIST) {
                fprintf(stderr, "fuzz_netplan: mkdir %s: %s\n", p, strerror(errno));
                exit(1);
        }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        char p[256];
        FILE *f;

        if (getenv("FUZZ_VERBOSE"))
                devnull = stderr;
        else {
                log_set_max_level((LogLevel) (LOG_ERR - 1));
                devnull = fopen("/dev/null", "we");
        }
        memfd = memfd_create("fuzz-netplan.yaml", MFD_CLOEXEC);
        if (!devnull || memfd < 0) {
                perror("fuzz_netplan: setup");
                exit(1);
        }
        snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);

        snprintf(base, sizeof(base), "%s/fuzz-netplan.XXXXXX", getenv("FUZZ_SHM") ?: "/dev/shm");
        if (!mkdtemp(base)) {
                fprintf(stderr, "fuzz_netplan: mkdtemp %s: %s\n", base, strerror(errno));
                exit(1);
        }
        atexit(remove_roots);
        snprintf(root_networkd, sizeof(root_networkd), "%s/networkd", base);
        snprintf(root_netplan, sizeof(root_netplan), "%s/netplan", base);
        snprintf(written_yaml, sizeof(written_yaml), "%s/etc/netplan/50-installer.yaml", root_netplan);
        mkdir_or_die(root_networkd);
        mkdir_or_die(root_netplan);
        snprintf(p, sizeof(p), "%s/usr", root_netplan);
        mkdir_or_die(p);
        snprintf(p, sizeof(p), "%s/usr/sbin", root_netplan);
        mkdir_or_die(p);
        snprintf(p, sizeof(p), "%s/usr/sbin/netplan", root_netplan);
        f = fopen(p, "we");
        if (!f || fclose(f) != 0 || chmod(p, 0755) < 0) {
                fprintf(stderr, "fuzz_netplan: cannot create %s\n", p);
                exit(1);
        }
        return 0;
}

static void render(const char *root, const Profile *p, const char *boot_mac) {
        int r = target_write_network(root, p, boot_mac);

        if (r == -ENOMEM)
                return;
        if (r < 0) {
                fprintf(stderr, "fuzz_netplan: a section that validates does not render into %s: %s\n", root,
                        strerror(-r));
                abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_profile_ Profile *p = NULL, *again = NULL;
        ProfileErrors errors = {}, errors2 = {};
        int r;

        if (ftruncate(memfd, 0) < 0 || pwrite(memfd, data, size, 0) != (ssize_t) size)
                abort();
        r = profile_load_network_file(path, &p, &errors);
        profile_errors_print(devnull, &errors);
        profile_errors_done(&errors);
        if (r < 0)
                return 0;

        /* The boot MAC matters only without interfaces (the DHCP fallback). */
        render(root_networkd, p, size % 2 ? "52:54:00:12:34:56" : NULL);
        render(root_netplan, p, size % 2 ? "52:54:00:12:34:56" : NULL);

        r = profile_load_network_file(written_yaml, &again, &errors2);
        if (r < 0 && r != -ENOMEM) {
                fprintf(stderr, "fuzz_netplan: the netplan file written (%s) does not validate:\n", written_yaml);
                profile_errors_print(stderr, &errors2);
                abort();
        }
        profile_errors_done(&errors2);
        if (again && p->network.source && again->network.n_interfaces != p->network.n_interfaces)
                abort();
        return 0;
}
