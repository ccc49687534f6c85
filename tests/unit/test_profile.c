/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for installer/profile: the shipped profiles load with every
 * field as written, and each kind of mistake is reported at its exact
 * line:column and key path, all of them in one run.
 *
 * The YAML is inline (line numbers in the comments) where a test is about
 * one problem; tests/data/profiles/NAME.yaml with NAME.expected (the
 * profile_errors_print() output) hold the larger documents. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <crypt.h>
#include <libgen.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/strutil.h"
#include "hw/hw.h"
#include "profile/profile-internal.h"
#include "profile/profile.h"
#include "basic/url.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ED25519 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPVVA5UNvU/qw2HM7XVHWCkA3o89ZV6uQKgFJ/VdRaBu"
#define RSA "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDB7yfcKCNmhfCvGcQd/EgWIBDdL9lj+MYeqGgTjSnNiBj2X7wcF253nuaItL4UXYOkzof3qbKc9c8pDdbaWLuYlpbvYbbDGfji6vX4LrNET+DIsac5NFmbEku+yq76HK5zrsqgVmBE4Kt6Uk0ZGlI/27jCvQripMApBznTnaYGVa3bDGrM45nn2321mCh04ys511KRSsK5b0S6lt6Yj0dPB8LGq+T46IbuNuFvpdSLFv9iP0KIoxb3jOJ1ur0/1wfUKYzFKE+tazV4WOGN0LNtT7o45b6tDNnmd2W1QPZgcAeC276bq3X8dLmabRtfx4krsLqdWeEjl9PIR1NwxK+/"
#define ECDSA256 "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBFrvaBnaN2/tthSH+Ui1YuWaQ2SSv4HcmKWGy38VtGOEpKN0FS6RWTRyqBmk/ka1gEcbg+PTjuqNwo574WMn6vg="
#define ECDSA521 "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAGswNZWvodVSqtZL15G54x0COqIVyV/Qmh+SA/++LknUSfvzRQ1M6VxjS6m2gk0rKZuEAQbKgTYfrofk+CokviLwwC+Ykg7AwiNZUwv5K0C/8/jSSuSi8WxE9a8ffT3GScscCL0y3pyk4WwQLn9+LPk6ZJfth40yCw+cv04f9nJQYnjng=="
#define DSA "ssh-dss AAAAB3NzaC1kc3MAAACBAKplrDWJaUvjwanSUfJf2hPJXaIudAGg"

/* The tail every inline document ends with (3 lines). */
#define IMAGE                                       \
        "image:\n"                                  \
        "  url: http://10.0.2.100/images/t.tar\n"   \
        "  sha256: " SHA "\n"

/* ---- helpers --------------------------------------------------------------- */

static char *srcdir; /* the repository: holds profiles/ and tests/data/ */

static bool is_srcdir(const char *d) {
        _cleanup_free_ char *p = strprintf("%s/profiles/default.yaml", d);
        return p && access(p, R_OK) == 0;
}

/* SRCDIR from the environment, the current directory, or two levels above
 * the test binary (build/tests/test_profile). */
static int find_srcdir(void **state) {
        char exe[4096];
        ssize_t n;

        if (getenv("SRCDIR") && is_srcdir(getenv("SRCDIR")))
                srcdir = strdup(getenv("SRCDIR"));
        else if (is_srcdir("."))
                srcdir = strdup(".");
        else if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
                exe[n] = 0;
                char *up = strprintf("%s/../..", dirname(exe));
                if (up && is_srcdir(up))
                        srcdir = up;
                else
                        free(up);
        }
        if (!srcdir) {
                fprintf(stderr, "test_profile: cannot find the source tree; set SRCDIR\n");
                return -1;
        }
        return 0;
}

static int free_srcdir(void **state) {
        free(srcdir);
        return 0;
}

static char *src_path(const char *rel) {
        char *p = strprintf("%s/%s", srcdir, rel);
        assert_non_null(p);
        return p;
}

static Profile *load_ok(const char *yaml) {
        ProfileErrors e = {};
        Profile *p = NULL;
        int r = profile_load_string("test.yaml", yaml, strlen(yaml), &p, &e);

        if (r < 0)
                profile_errors_print(stderr, &e);
        assert_int_equal(r, 0);
        assert_int_equal(e.n, 0);
        assert_non_null(p);
        profile_errors_done(&e);
        return p;
}

typedef struct Expect {
        unsigned line, column;
        const char *key;      /* NULL: no key path */
        const char *message;  /* a substring of the message */
} Expect;

static void expect_errors_(const char *yaml, const Expect *x, size_t n) {
        ProfileErrors e = {};
        Profile *p = NULL;
        int r = profile_load_string("test.yaml", yaml, strlen(yaml), &p, &e);

        if (e.n != n)
                profile_errors_print(stderr, &e);
        assert_int_equal(r, -EINVAL);
        assert_null(p);
        assert_int_equal(e.n, n);
        for (size_t i = 0; i < n; i++) {
                const ProfileError *got = &e.v[i];
                if (got->line != x[i].line || got->column != x[i].column || !streq_ptr(got->key, x[i].key) ||
                    !strstr(got->message, x[i].message)) {
                        fprintf(stderr, "error %zu: got %u:%u %s: %s\n   expected %u:%u %s: ...%s...\n", i,
                                got->line, got->column, got->key ?: "(none)", got->message, x[i].line,
                                x[i].column, x[i].key ?: "(none)", x[i].message);
                        fail();
                }
                assert_string_equal(got->file, "test.yaml");
        }
        profile_errors_done(&e);
}
#define expect_errors(yaml, ...)                                         \
        do {                                                             \
                const Expect _x[] = { __VA_ARGS__ };                     \
                expect_errors_((yaml), _x, ELEMENTSOF(_x));              \
        } while (0)

/* All messages, as profile_errors_print() writes them. */
static char *errors_text(const char *yaml) {
        ProfileErrors e = {};
        Profile *p = NULL;
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        assert_int_equal(profile_load_string("test.yaml", yaml, strlen(yaml), &p, &e), -EINVAL);
        f = open_memstream(&buf, &size);
        assert_non_null(f);
        profile_errors_print(f, &e);
        fclose(f);
        profile_errors_done(&e);
        return buf;
}

static void read_src(const char *rel, char **ret) {
        _cleanup_free_ char *path = src_path(rel);

        assert_int_equal(read_full_file(path, ret, NULL), 0);
}

/* profiles/default.yaml with every @IMAGE_SHA256@ filled in, as ipxe/mkwww.sh does. */
static char *default_profile_filled(void) {
        static const char placeholder[] = "@IMAGE_SHA256@";
        _cleanup_free_ char *t = NULL;
        StrBuf b = {};
        const char *s, *at;
        size_t n = 0;

        read_src("profiles/default.yaml", &t);
        for (s = t; (at = strstr(s, placeholder)); s = at + strlen(placeholder), n++) {
                assert_int_equal(strbuf_append_n(&b, s, (size_t) (at - s)), 0);
                assert_int_equal(strbuf_append(&b, "ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789"), 0);
        }
        assert_int_equal(strbuf_append(&b, s), 0);
        assert_true(n >= 1);
        return strbuf_steal(&b);
}

/* ---- the shipped profiles ------------------------------------------------------ */

static void test_default_profile(void **state) {
        _cleanup_free_ char *yaml = default_profile_filled();
        _cleanup_free_ char *pub = NULL;
        _cleanup_profile_ Profile *p = load_ok(yaml);

        read_src("tests/data/keys/demo_ed25519.pub", &pub);

        assert_int_equal(p->version, 1);
        assert_string_equal(p->hostname, "demo01");
        assert_string_equal(p->filename, "test.yaml");

        /* disk */
        assert_string_equal(p->disk.select.transport, "virtio");
        assert_string_equal(p->disk.select.prefer, "first");
        assert_null(p->disk.select.path);
        assert_null(p->disk.select.model);
        assert_int_equal(p->disk.select.rotational, -1);
        assert_int_equal(p->disk.select.min_size, 0);
        assert_int_equal(p->disk.select.max_size, 0);
        assert_int_equal(p->disk.select.line, 13);
        assert_int_equal(p->disk.select.column, 5);
        assert_false(p->disk.wipe);
        assert_int_equal(p->disk.table, PARTITION_TABLE_GPT);
        assert_int_equal(p->disk.n_partitions, 2);

        const ProfilePartition *swap = &p->disk.partitions[0], *root = &p->disk.partitions[1];
        assert_int_equal(swap->size.unit, SIZE_BYTES);
        assert_int_equal(swap->size.value, 512 * MiB);
        assert_int_equal(swap->fs, FS_SWAP);
        assert_null(swap->mount);
        assert_string_equal(swap->label, "swap");
        assert_null(swap->name);
        assert_null(swap->mount_options);
        assert_int_equal(swap->line, 19);
        assert_int_equal(swap->column, 7);
        assert_int_equal(root->size.unit, SIZE_REST);
        assert_int_equal(root->fs, FS_EXT4);
        assert_string_equal(root->mount, "/");
        assert_string_equal(root->label, "root");
        assert_null(root->mount_options);

        /* image: the digest is normalised to lower case */
        assert_string_equal(p->image.url, "http://10.0.2.100/images/debian12.tar.zst");
        assert_string_equal(p->image.sha256, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
        assert_null(p->image.format);

        /* users */
        assert_int_equal(p->n_users, 1);
        const ProfileUser *u = &p->users[0];
        assert_string_equal(u->name, "admin");
        assert_string_equal(u->gecos, "Demo administrator");
        assert_string_equal(u->password_hash, "!");
        assert_int_equal(strv_length(u->ssh_authorized_keys), 1);
        assert_string_equal(u->ssh_authorized_keys[0], strstrip(pub));
        assert_int_equal(strv_length(u->groups), 1);
        assert_string_equal(u->groups[0], "adm");
        assert_string_equal(u->shell, "/bin/bash");
        assert_string_equal(u->sudo, "ALL=(ALL) NOPASSWD:ALL");

        /* network */
        assert_int_equal(p->network.n_interfaces, 1);
        const ProfileInterface *e = &p->network.interfaces[0];
        assert_string_equal(e->id, "lan");
        assert_string_equal(e->match_mac, "52:54:00:12:34:56");
        assert_null(e->match_name);
        assert_true(e->dhcp4);
        assert_false(e->dhcp6);
        assert_null(e->addresses);
        assert_int_equal(e->n_routes, 0);
        assert_int_equal(e->mtu, 0);
        assert_non_null(p->network.source);
        assert_ptr_equal(p->network.source, ynode_get(p->doc->root, "network"));

        /* firstboot: the mapping as written */
        assert_non_null(p->firstboot);
        assert_int_equal(p->firstboot->type, YNODE_MAPPING);
        YNode *runcmd = ynode_get(p->firstboot, "runcmd");
        assert_non_null(runcmd);
        assert_int_equal(runcmd->type, YNODE_SEQUENCE);
        assert_string_equal(runcmd->items[0]->value,
                            "echo INSTALLED-SYSTEM-FIRSTBOOT-OK $(hostname) > /dev/ttyS0");
}

/* As shipped, the template does not validate: the placeholder is refused. */
static void test_default_template_refused(void **state) {
        _cleanup_free_ char *path = src_path("profiles/default.yaml");
        ProfileErrors e = {};
        Profile *p = NULL;

        assert_int_equal(profile_load_file(path, &p, &e), -EINVAL);
        assert_null(p);
        assert_int_equal(e.n, 1);
        assert_string_equal(e.v[0].file, path);
        assert_int_equal(e.v[0].line, 29);
        assert_int_equal(e.v[0].column, 11);
        assert_string_equal(e.v[0].key, "image.sha256");
        assert_non_null(strstr(e.v[0].message, "template placeholder"));
        profile_errors_done(&e);
}

static Profile *load_file_ok(const char *rel) {
        _cleanup_free_ char *path = src_path(rel);
        ProfileErrors e = {};
        Profile *p = NULL;

        if (profile_load_file(path, &p, &e) < 0)
                profile_errors_print(stderr, &e);
        assert_int_equal(e.n, 0);
        assert_non_null(p);
        return p;
}

static void test_example_static_msdos(void **state) {
        _cleanup_profile_ Profile *p = load_file_ok("profiles/examples/static-msdos.yaml");

        assert_string_equal(p->hostname, "files01.example.org");
        assert_string_equal(p->disk.select.transport, "sata");
        assert_int_equal(p->disk.select.min_size, 200 * GiB);
        assert_int_equal(p->disk.select.max_size, 400 * GiB);
        assert_int_equal(p->disk.select.rotational, 1);
        assert_null(p->disk.select.prefer);
        assert_true(p->disk.wipe);
        assert_int_equal(p->disk.table, PARTITION_TABLE_MSDOS);
        assert_int_equal(p->disk.n_partitions, 3);
        assert_string_equal(p->disk.partitions[0].mount, "/boot");
        assert_int_equal(p->disk.partitions[0].size.value, GiB);
        assert_string_equal(p->disk.partitions[0].mount_options, "nodev,nosuid,noexec");
        assert_int_equal(p->disk.partitions[1].fs, FS_SWAP);
        assert_int_equal(p->disk.partitions[1].size.value, 4 * GiB);
        assert_null(p->disk.partitions[1].label);
        assert_int_equal(p->disk.partitions[2].fs, FS_XFS);
        assert_int_equal(p->disk.partitions[2].size.unit, SIZE_REST);
        assert_string_equal(p->disk.partitions[2].mount, "/");
        assert_string_equal(p->image.url, "https://images.example.org/debian/12/server.tar.gz");
        assert_null(p->image.format);
        assert_string_equal(url_image_format(p->image.url), "tar.gz");

        assert_int_equal(p->n_users, 2);
        assert_string_equal(p->users[0].name, "root");
        assert_null(p->users[0].password_hash);
        assert_int_equal(strv_length(p->users[0].ssh_authorized_keys), 1);
        assert_null(p->users[0].sudo);
        assert_string_equal(p->users[1].name, "backup");
        assert_true(startswith(p->users[1].password_hash, "$6$exampleSalt$"));
        assert_null(p->users[1].ssh_authorized_keys);
        assert_string_equal(p->users[1].shell, "/bin/sh");
        assert_null(p->users[1].sudo);

        assert_int_equal(p->network.n_interfaces, 1);
        const ProfileInterface *e = &p->network.interfaces[0];
        assert_string_equal(e->id, "uplink");
        assert_string_equal(e->match_name, "en*");
        assert_null(e->match_mac);
        assert_false(e->dhcp4);
        assert_int_equal(strv_length(e->addresses), 2);
        assert_string_equal(e->addresses[0], "192.0.2.10/24");
        assert_string_equal(e->addresses[1], "2001:db8:10::10/64");
        assert_null(e->gateway4);
        assert_string_equal(e->gateway6, "2001:db8:10::1");
        assert_int_equal(e->n_routes, 2);
        assert_string_equal(e->routes[0].to, "default");
        assert_string_equal(e->routes[0].via, "192.0.2.1");
        assert_int_equal(e->routes[0].metric, -1);
        assert_string_equal(e->routes[1].to, "198.51.100.0/24");
        assert_int_equal(e->routes[1].metric, 100);
        assert_int_equal(strv_length(e->nameservers), 2);
        assert_string_equal(e->nameservers[1], "2001:db8:10::53");
        assert_int_equal(strv_length(e->search), 1);
        assert_string_equal(e->search[0], "example.org");
        assert_int_equal(e->mtu, 1500);
        assert_null(p->firstboot);
}

static void test_example_server(void **state) {
        _cleanup_profile_ Profile *p = load_file_ok("profiles/examples/server.yaml");
        const ProfilePartition *v;

        assert_string_equal(p->disk.select.transport, "nvme");
        assert_string_equal(p->disk.select.prefer, "smallest");
        assert_int_equal(p->disk.select.min_size, 100 * GiB);
        assert_int_equal(p->disk.n_partitions, 6);
        v = p->disk.partitions;
        assert_int_equal(v[0].fs, FS_VFAT);
        assert_string_equal(v[0].mount, "/boot/efi");
        assert_string_equal(v[0].name, "EFI System Partition");
        assert_string_equal(v[0].label, "EFI");
        assert_string_equal(v[0].mount_options, "umask=0077");
        assert_int_equal(v[2].size.unit, SIZE_PERCENT);
        assert_int_equal(v[2].size.value, 30);
        assert_int_equal(v[3].size.unit, SIZE_PERCENT);
        assert_int_equal(v[3].size.value, 10);
        assert_int_equal(v[4].size.unit, SIZE_REST);
        assert_int_equal(v[4].fs, FS_XFS);
        assert_int_equal(v[5].fs, FS_NONE);
        assert_null(v[5].mount);
        assert_null(v[5].mount_options);
        assert_string_equal(v[5].name, "reserved");

        assert_string_equal(p->image.format, "tar.zst");
        assert_non_null(strstr(p->image.url, "?token=abc"));

        assert_int_equal(p->n_users, 2);
        assert_string_equal(p->users[0].sudo, "ALL=(ALL:ALL) ALL");
        assert_true(startswith(p->users[0].password_hash, "$y$"));
        assert_int_equal(strv_length(p->users[0].ssh_authorized_keys), 2);
        assert_true(startswith(p->users[0].ssh_authorized_keys[1], "from=\"192.0.2.0/24\",no-agent-forwarding ssh-ed25519 "));
        assert_int_equal(strv_length(p->users[0].groups), 2);
        assert_string_equal(p->users[0].groups[1], "systemd-journal");
        assert_string_equal(p->users[1].name, "postgres-backup");
        assert_null(p->users[1].sudo);

        assert_int_equal(p->network.n_interfaces, 2);
        assert_true(p->network.interfaces[0].dhcp6);
        assert_string_equal(p->network.interfaces[1].id, "storage");
        assert_int_equal(p->network.interfaces[1].mtu, 9000);
        assert_non_null(p->firstboot);
}

/* Every shipped example validates, including ones added later. */
static void test_all_examples_validate(void **state) {
        _cleanup_free_ char *dir = src_path("profiles/examples");
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0;

        assert_int_equal(dir_list_sorted(dir, &names), 0);
        for (size_t i = 0; names && names[i]; i++) {
                if (!endswith(names[i], ".yaml"))
                        continue;
                _cleanup_free_ char *rel = strprintf("profiles/examples/%s", names[i]);
                Profile *p = load_file_ok(rel);
                profile_free(p);
                n++;
        }
        assert_true(n >= 2);
}

/* The complete example in docs/profile.md validates. */
static void test_docs_example(void **state) {
        _cleanup_free_ char *doc = NULL;
        const char *start, *end;

        read_src("docs/profile.md", &doc);
        start = strstr(doc, "## Complete example\n```yaml\n");
        assert_non_null(start);
        start += strlen("## Complete example\n```yaml\n");
        end = strstr(start, "```");
        assert_non_null(end);

        _cleanup_free_ char *yaml = strndup(start, (size_t) (end - start));
        _cleanup_profile_ Profile *p = load_ok(yaml);
        assert_string_equal(p->hostname, "web01.example.org");
        assert_int_equal(p->disk.n_partitions, 4);
        assert_int_equal(p->n_users, 2);
        assert_int_equal(p->network.n_interfaces, 2);
}

/* ---- defaults ---------------------------------------------------------------------- */

static void test_minimal_defaults(void **state) {
        _cleanup_profile_ Profile *p = load_ok(
                "version: 1\n"                  /* 1 */
                "hostname: min01\n"             /* 2 */
                "disk:\n"                       /* 3 */
                "  partitions:\n"               /* 4 */
                "    - size: rest\n"            /* 5 */
                "      mount: /\n"              /* 6 */
                IMAGE);

        assert_int_equal(p->disk.table, PARTITION_TABLE_GPT);
        assert_false(p->disk.wipe);
        assert_int_equal(p->disk.select.rotational, -1);
        assert_null(p->disk.select.transport);
        /* no select: the position of the disk mapping */
        assert_int_equal(p->disk.select.line, 4);
        assert_int_equal(p->disk.select.column, 3);
        assert_int_equal(p->disk.partitions[0].fs, FS_EXT4);
        assert_null(p->disk.partitions[0].mount_options);
        assert_null(p->disk.partitions[0].label);
        assert_int_equal(p->n_users, 0);
        assert_null(p->users);
        assert_int_equal(p->network.n_interfaces, 0);
        assert_null(p->network.source);
        assert_null(p->firstboot);
}

/* Null values (key:, ~, null) count as absent for optional keys. */
static void test_null_means_absent(void **state) {
        _cleanup_profile_ Profile *p = load_ok(
                "version: 1\n"
                "hostname: null01\n"
                "disk:\n"
                "  select: ~\n"
                "  wipe:\n"
                "  partitions:\n"
                "    - size: 1GiB\n"
                "      mount: /\n"
                "      label: null\n"
                "users:\n"
                "network:\n"
                "firstboot: ~\n"
                IMAGE);

        assert_false(p->disk.wipe);
        assert_null(p->disk.partitions[0].label);
        assert_int_equal(p->disk.partitions[0].size.value, GiB);
        assert_null(p->users);
        assert_null(p->firstboot);
}

static void test_sizes(void **state) {
        _cleanup_profile_ Profile *p = load_ok(
                "version: 1\n"
                "hostname: sizes01\n"
                "disk:\n"
                "  select: {min_size: 1048576, max_size: 2T}\n"
                "  partitions:\n"
                "    - {size: 1048576, fs: none}\n"
                "    - {size: 2G, fs: none}\n"
                "    - {size: 1GB, fs: none}\n"
                "    - {size: 90%, mount: /}\n"
                IMAGE);
        const ProfilePartition *v = p->disk.partitions;

        assert_int_equal(p->disk.select.min_size, MiB);
        assert_int_equal(p->disk.select.max_size, 2 * TiB);
        assert_int_equal(v[0].size.unit, SIZE_BYTES);
        assert_int_equal(v[0].size.value, MiB);
        assert_int_equal(v[1].size.value, 2 * GiB);
        assert_int_equal(v[2].size.value, 1000 * 1000 * 1000);
        assert_int_equal(v[3].size.unit, SIZE_PERCENT);
        assert_int_equal(v[3].size.value, 90);
}

/* ---- bootloader: append ------------------------------------------------------------------ */

#define BOOT_HEAD "version: 1\nhostname: k\ndisk: {partitions: [{size: rest, mount: /}]}\n" IMAGE

static void test_bootloader_append(void **state) {
        Profile *p = load_ok(BOOT_HEAD "bootloader: {append: \"console=ttyS1,115200n8 nomodeset dyndbg=\\\"file x +p\\\"\"}\n");

        assert_string_equal(p->kernel_append, "console=ttyS1,115200n8 nomodeset dyndbg=\"file x +p\"");
        profile_free(p);
        p = load_ok(BOOT_HEAD "bootloader: {}\n");
        assert_null(p->kernel_append);
        profile_free(p);
        p = load_ok(BOOT_HEAD "bootloader: {append: \"rootwait\"}\n"); /* not root= */
        profile_free(p);

        expect_errors(BOOT_HEAD "bootloader: {append: \"quiet root=/dev/sda1\"}\n",
                      { 7, 22, "bootloader.append", "must not set root=" });
        expect_errors(BOOT_HEAD "bootloader: {append: \"a\\nb\"}\n",
                      { 7, 22, "bootloader.append", "no newline or tab" });
        expect_errors(BOOT_HEAD "bootloader: {append: \"\"}\n",
                      { 7, 22, "bootloader.append", "must be 1 to 1024 characters" });
        expect_errors(BOOT_HEAD "bootloader: {apend: x}\n",
                      { 7, 14, "bootloader.apend", "unknown key 'apend'" });
        expect_errors(BOOT_HEAD "bootloader: {append: [a, b]}\n",
                      { 7, 22, "bootloader.append", "expected" });
}

/* ---- reporting every problem in one run ------------------------------------------------- */

static void test_five_problems_five_errors(void **state) {
        expect_errors(
                "version: 1\n"                          /* 1 */
                "hostname: -five\n"                     /* 2  bad hostname */
                "disk:\n"                               /* 3 */
                "  wipe: maybe\n"                       /* 4  not a boolean */
                "  partitions:\n"                       /* 5 */
                "    - size: 101%\n"                    /* 6  percent > 100 */
                "      mount: /\n"                      /* 7 */
                "      labl: root\n"                    /* 8  unknown key */
                "image:\n"                              /* 9 */
                "  url: http://10.0.2.100/images/t\n"   /* 10 no recognisable suffix */
                "  sha256: " SHA "\n",                  /* 11 */
                { 2, 11, "hostname", "invalid hostname '-five': has a label that starts or ends with '-'" },
                { 4, 9, "disk.wipe", "expected true or false, got 'maybe'" },
                { 6, 13, "disk.partitions[0].size", "invalid percentage '101%'" },
                { 8, 7, "disk.partitions[0].labl", "unknown key 'labl'; did you mean 'label'?" },
                { 10, 8, "image.url", "cannot tell the image format from 'http://10.0.2.100/images/t'" });
}

static void test_missing_required_keys(void **state) {
        expect_errors(
                "version: 1\n"                  /* 1 */
                "disk:\n"                       /* 2 */
                "  wipe: true\n"                /* 3 */
                "image:\n"                      /* 4 */
                "  format: tar\n",              /* 5 */
                { 1, 1, "hostname", "missing required key 'hostname'" },
                { 3, 3, "disk.partitions", "missing required key 'partitions'" },
                { 5, 3, "image.url", "missing required key 'url'" },
                { 5, 3, "image.sha256", "missing required key 'sha256'" });
}

static void test_required_key_without_value(void **state) {
        expect_errors(
                "version: 1\n"
                "hostname:\n"
                "disk:\n"
                "  partitions:\n"
                IMAGE,
                { 2, 1, "hostname", "'hostname' needs a value" },
                { 4, 3, "disk.partitions", "'partitions' needs a value" });
}

/* ---- YAML problems ------------------------------------------------------------------------ */

static void test_syntax_tab(void **state) {
        expect_errors(
                "version: 1\n"
                "hostname: tab01\n"
                "disk:\n"
                "\tpartitions: []\n",
                { 4, 1, NULL, "YAML syntax error: found character that cannot start any token" });
}

static void test_syntax_bad_indentation(void **state) {
        expect_errors(
                "version: 1\n"
                "disk:\n"
                "  wipe: true\n"
                "   table: gpt\n",
                { 4, 9, NULL, "YAML syntax error: mapping values are not allowed in this context" });
}

static void test_syntax_unclosed_quote(void **state) {
        expect_errors(
                "version: 1\n"
                "hostname: \"abc\n",
                { 3, 1, NULL, "YAML syntax error: found unexpected end of stream" });
}

static void test_duplicate_key(void **state) {
        expect_errors(
                "version: 1\n"
                "hostname: a\n"
                "disk:\n"
                "  wipe: true\n"
                "  wipe: false\n",
                { 5, 3, NULL, "duplicate key 'wipe' (first at line 4)" });
}

static void test_empty_document(void **state) {
        expect_errors("", { 1, 1, NULL, "the profile is empty" });
        expect_errors("# only a comment\n\n", { 1, 1, NULL, "the profile is empty" });
}

static void test_root_not_a_mapping(void **state) {
        expect_errors("- version: 1\n", { 1, 1, NULL, "expected a mapping, got a list" });
        expect_errors("\n  just text\n", { 2, 3, NULL, "expected a mapping, got a scalar" });
}

static void test_two_documents(void **state) {
        expect_errors("version: 1\n---\nversion: 1\n", { 3, 1, NULL, "found a second one here" });
}

/* ---- unknown keys and types ------------------------------------------------------------------- */

static void test_unknown_keys_suggest(void **state) {
        expect_errors(
                "version: 1\n"                          /* 1 */
                "Hostname: a\n"                         /* 2  case variant */
                "disk:\n"                               /* 3 */
                "  partition:\n"                        /* 4  edit distance 1 */
                "    - size: rest\n"                    /* 5 */
                "  colour: blue\n"                      /* 6  nothing close */
                IMAGE                                   /* 7-9 */
                "users:\n"                              /* 10 */
                "  - name: bob\n"                       /* 11 */
                "    passwordhash: x\n"                 /* 12 edit distance 1 */
                "    ssh_authorized_key: [\"" ED25519 "\"]\n", /* 13 */
                { 2, 1, "Hostname", "unknown key 'Hostname'; did you mean 'hostname'?" },
                { 4, 3, "disk.partition", "unknown key 'partition'; did you mean 'partitions'?" },
                { 6, 3, "disk.colour", "unknown key 'colour'; allowed here: select, wipe, table, firmware, partitions, mirror" },
                { 11, 5, "users[0]", "user 'bob' could never log in" },
                { 12, 5, "users[0].passwordhash", "unknown key 'passwordhash'; did you mean 'password_hash'?" },
                { 13, 5, "users[0].ssh_authorized_key", "did you mean 'ssh_authorized_keys'?" });
}

static void test_wrong_types(void **state) {
        expect_errors(
                "version: one\n"                        /* 1 */
                "hostname: [a, b]\n"                    /* 2 */
                "disk:\n"                               /* 3 */
                "  select: [virtio]\n"                  /* 4 */
                "  table: {gpt: true}\n"                /* 5 */
                "  partitions:\n"                       /* 6 */
                "    size: rest\n"                      /* 7 */
                "image: http://10.0.2.100/t.tar\n"      /* 8 */
                "users:\n"                              /* 9 */
                "  name: bob\n"                         /* 10 */
                "network: dhcp\n"                       /* 11 */
                "firstboot: \"#cloud-config\"\n",       /* 12 */
                { 1, 10, "version", "unsupported profile version 'one'" },
                { 2, 11, "hostname", "expected a string, got a list" },
                { 4, 11, "disk.select", "expected a mapping, got a list" },
                { 5, 10, "disk.table", "expected a string, got a mapping" },
                { 7, 5, "disk.partitions", "expected a list, got a mapping" },
                { 8, 8, "image", "expected a mapping, got a scalar" },
                { 10, 3, "users", "expected a list, got a mapping" },
                { 11, 10, "network", "expected a mapping, got a scalar" },
                { 12, 12, "firstboot", "expected a mapping, got a scalar" });
}

static void test_list_items_wrong_type(void **state) {
        expect_errors(
                "version: 1\n"                          /* 1 */
                "hostname: a\n"                         /* 2 */
                "disk:\n"                               /* 3 */
                "  partitions:\n"                       /* 4 */
                "    - rest\n"                          /* 5 */
                "    -\n"                               /* 6 */
                "    - {size: rest, mount: /}\n"        /* 7 */
                IMAGE                                   /* 8-10 */
                "users:\n"                              /* 11 */
                "  - name: bob\n"                       /* 12 */
                "    ssh_authorized_keys: \"" ED25519 "\"\n" /* 13 */
                "    groups: [[adm]]\n",                /* 14 */
                { 5, 7, "disk.partitions[0]", "expected a mapping, got a scalar" },
                { 6, 6, "disk.partitions[1]", "expected a mapping, got an empty value" },
                { 13, 26, "users[0].ssh_authorized_keys", "expected a list, got a scalar" },
                { 14, 14, "users[0].groups[0]", "expected a string, got a list" });
}

static void test_quoted_booleans_refused(void **state) {
        expect_errors(
                "version: 1\n"
                "hostname: a\n"
                "disk:\n"
                "  wipe: \"true\"\n"
                "  partitions: [{size: rest, mount: /}]\n"
                IMAGE,
                { 4, 9, "disk.wipe", "expected true or false, got the quoted string 'true' (remove the quotes)" });
}

/* ---- hostname ------------------------------------------------------------------------------------ */

static void test_hostnames(void **state) {
        static const char *const good[] = {
                "a", "web01", "web-01.example.org", "0node", "x.y.z",
                "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk", /* 63 */
        };
        static const struct {
                const char *name, *why;
        } bad[] = {
                { "", "must not be empty" },
                { "Web01", "must be lower case" },
                { "web_01", "may only contain a-z, 0-9, '-' and '.'" },
                { "-web", "starts or ends with '-'" },
                { "web-", "starts or ends with '-'" },
                { "web..example", "empty label" },
                { "web.", "empty label" },
                { ".web", "empty label" },
                { "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl", "longer than 63" },
                { "web 01", "may only contain" },
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                assert_null(profile_check_hostname(good[i]));
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                const char *why = profile_check_hostname(bad[i].name);
                assert_non_null(why);
                assert_non_null(strstr(why, bad[i].why));
        }

        /* 254 characters in labels of 63 */
        char longname[300] = "";
        for (int i = 0; i < 4; i++)
                strcat(longname, "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk.");
        longname[254] = 0;
        assert_string_equal(profile_check_hostname(longname), "longer than 253 characters");
        longname[253] = 0;
        assert_null(profile_check_hostname(longname));

        expect_errors(
                "version: 1\n"
                "hostname: Web_01\n"
                "disk: {partitions: [{size: rest, mount: /}]}\n"
                IMAGE,
                { 2, 11, "hostname", "invalid hostname 'Web_01': must be lower case" });
}

/* ---- disk ------------------------------------------------------------------------------------------- */

static void test_select_problems(void **state) {
        expect_errors(
                "version: 1\n"                          /* 1 */
                "hostname: a\n"                         /* 2 */
                "disk:\n"                               /* 3 */
                "  select:\n"                           /* 4 */
                "    path: vda\n"                       /* 5 */
                "    transport: firewire\n"             /* 6 */
                "    min_size: 2TiB\n"                  /* 7 */
                "    max_size: 1TiB\n"                  /* 8 */
                "    rotational: spinning\n"            /* 9 */
                "    prefer: biggest\n"                 /* 10 */
                "    serial: [1]\n"                     /* 11 */
                "  partitions: [{size: rest, mount: /}]\n" /* 12 */
                IMAGE,
                { 5, 11, "disk.select.path", "invalid disk path 'vda': must be an absolute path" },
                { 6, 16, "disk.select.transport",
                  "unknown transport 'firewire'; expected one of: virtio, sata, sas, nvme, usb, scsi, ata, mmc" },
                { 8, 15, "disk.select.max_size", "max_size (1.0 TiB) is smaller than min_size (2.0 TiB)" },
                { 9, 17, "disk.select.rotational", "expected true or false, got 'spinning'" },
                { 10, 13, "disk.select.prefer", "unknown preference 'biggest'" },
                { 11, 13, "disk.select.serial", "expected a string, got a list" });

        expect_errors(
                "version: 1\n"
                "hostname: a\n"
                "disk:\n"
                "  select: {path: /tmp/disk.img}\n"
                "  partitions: [{size: rest, mount: /}]\n"
                IMAGE,
                { 4, 18, "disk.select.path", "must be a device path under /dev/" });
}

static void test_select_fields(void **state) {
        _cleanup_profile_ Profile *p = load_ok(
                "version: 1\n"
                "hostname: sel01\n"
                "disk:\n"
                "  select:\n"
                "    path: /dev/disk/by-id/virtio-abc\n"
                "    serial: 12345\n"
                "    model: \"QEMU*\"\n"
                "    vendor: ATA\n"
                "    rotational: false\n"
                "  partitions: [{size: rest, mount: /}]\n"
                IMAGE);

        assert_string_equal(p->disk.select.path, "/dev/disk/by-id/virtio-abc");
        assert_string_equal(p->disk.select.serial, "12345");
        assert_string_equal(p->disk.select.model, "QEMU*");
        assert_string_equal(p->disk.select.vendor, "ATA");
        assert_int_equal(p->disk.select.rotational, 0);
        assert_int_equal(p->disk.select.line, 5);
        assert_int_equal(p->disk.select.column, 5);
}

static void test_percent_over_100(void **state) {
        expect_errors(
                "version: 1\n"                          /* 1 */
                "hostname: a\n"                         /* 2 */
                "disk:\n"                               /* 3 */
                "  partitions:\n"                       /* 4 */
                "    - {size: 50%, mount: /}\n"         /* 5 */
                "    - {size: 40%, mount: /var}\n"      /* 6 */
                "    - {size: 20%, mount: /home}\n"     /* 7 */
                "    - {size: 1%, mount: /srv}\n"       /* 8 */
                IMAGE,
                { 7, 14, "disk.partitions[2].size", "the percentages add up to 111%, more than 100%" });
}

static void test_percent_100_leaves_no_room(void **state) {
        expect_errors(
                "version: 1\n"
                "hostname: a\n"
                "disk:\n"
                "  partitions:\n"
                "    - {size: 100%, mount: /}\n"
                "    - {size: 1GiB, fs: swap}\n"
                IMAGE,
                { 6, 14, "disk.partitions[1].size", "the percentages add up to 100%, which leaves no room" });
}

static void test_two_rest(void **state) {
        expect_errors(
                "version: 1\n"
                "hostname: a\n"
                "disk:\n"
                "  partitions:\n"
                "    - {size: rest, mount: /}\n"
                "    - {size: 1GiB, fs: swap}\n"
                "    - {size: rest, mount: /home}\n"
                IMAGE,
                { 7, 14, "disk.partitions[2].size",
                  "only one partition can have size 'rest'; disk.partitions[0] already has it" });
}

static void test_bad_sizes(void **state) {
        expect_errors(
                "version: 1\n"                          /* 1 */
                "hostname: a\n"                         /* 2 */
                "disk:\n"                               /* 3 */
                "  partitions:\n"                       /* 4 */
                "    - {size: 0%, fs: none}\n"          /* 5 */
                "    - {size: 1023KiB, fs: none}\n"     /* 6 */
                "    - {size: -5GiB, fs: none}\n"       /* 7 */
                "    - {size: 5 GiB, fs: none}\n"       /* 8  fine: parse_size allows the blank */
                "    - {size: 99999999999999999999, fs: none}\n" /* 9 */
                "    - {size: all, mount: /}\n"         /* 10 */
                "    - {fs: none}\n"                    /* 11 */
                IMAGE,
                { 5, 14, "disk.partitions[0].size", "invalid percentage '0%'" },
                { 6, 14, "disk.partitions[1].size", "size '1023KiB' is smaller than the minimum of 1 MiB" },
                { 7, 14, "disk.partitions[2].size", "invalid size '-5GiB'" },
                { 9, 14, "disk.partitions[4].size", "size '99999999999999999999' is too large" },
                { 10, 14, "disk.partitions[5].size", "invalid size 'all'" },
                { 11, 7, "disk.partitions[6].size", "missing required key 'size'" });
}

static void test_missing_root(void **state) {
        expect_errors(
                "version: 1\n"                          /* 1 */
                "hostname: a\n"                         /* 2 */
                "disk:\n"                               /* 3 */
                "  partitions:\n"                       /* 4 */
                "    - {size: 1GiB, mount: /boot}\n"    /* 5 */
                "    - {size: rest, mount: /srv}\n"     /* 6 */
                IMAGE,
                { 5, 5, "disk.partitions", "no partition is mounted at '/'" });
}

/* A null value counts as absent, also where a key is required or forbidden. */
static void test_null_mount(void **state) {
        expect_errors(
                "version: 1\n"                          /* 1 */
                "hostname: a\n"                         /* 2 */
                "disk:\n"                               /* 3 */
                "  partitions:\n"                       /* 4 */
                "    - {size: 1GiB, mount: ~, fs: xfs}\n" /* 5 */
                "    - {size: 1GiB, mount: , fs: swap, label: ~, name: ~}\n" /* 6 */
                "    - {size: rest, mount: /}\n"        /* 7 */
                IMAGE,
                { 5, 7, "disk.partitions[0].mount", "missing required key 'mount': xfs filesystems need a mount point" });
}

static void test_mount_problems(void **state) {
        expect_errors(
                "version: 1\n"                          /* 1 */
                "hostname: a\n"                         /* 2 */
                "disk:\n"                               /* 3 */
                "  partitions:\n"                       /* 4 */
                "    - {size: 1GiB, mount: /}\n"        /* 5 */
                "    - {size: 1GiB, mount: /}\n"        /* 6  duplicate */
                "    - {size: 1GiB, mount: /a/../b}\n"  /* 7 */
                "    - {size: 1GiB, mount: /var/}\n"    /* 8 */
                "    - {size: 1GiB, mount: /my data}\n" /* 9 */
                "    - {size: 1GiB, fs: xfs}\n"         /* 10 missing mount */
                "    - {size: 1GiB, fs: swap, mount: /swap}\n" /* 11 */
                "    - {size: 1GiB, fs: none, mount_options: ro}\n" /* 12 */
                "    - {size: 1GiB, mount: /x, mount_options: ro noatime}\n" /* 13 */
                IMAGE,
                { 6, 27, "disk.partitions[1].mount", "mount point '/' is already used by disk.partitions[0]" },
                { 7, 27, "disk.partitions[2].mount", "invalid mount point '/a/../b': must not contain '.' or '..' components" },
                { 8, 27, "disk.partitions[3].mount", "invalid mount point '/var/': must not end with '/'" },
                { 9, 27, "disk.partitions[4].mount", "must not contain white space" },
                { 10, 7, "disk.partitions[5].mount", "missing required key 'mount': xfs filesystems need a mount point" },
                { 11, 30, "disk.partitions[6].mount", "a swap partition is not mounted; remove 'mount'" },
                { 12, 30, "disk.partitions[7].mount_options", "a partition without a filesystem is not mounted" },
                { 13, 46, "disk.partitions[8].mount_options", "must not contain white space" });
}

static void test_labels(void **state) {
        expect_errors(
                "version: 1\n"                          /* 1 */
                "hostname: a\n"                         /* 2 */
                "disk:\n"                               /* 3 */
                "  partitions:\n"                       /* 4 */
                "    - {size: 1GiB, mount: /boot/efi, fs: vfat, label: EFISYSTEMPART}\n" /* 5 */
                "    - {size: 1GiB, mount: /, label: a-label-of-17-chr}\n" /* 6 */
                "    - {size: 1GiB, mount: /x, fs: xfs, label: data}\n" /* 7 */
                "    - {size: 1GiB, mount: /y, label: data}\n" /* 8 */
                "    - {size: 1GiB, fs: none, label: raw}\n" /* 9 */
                "    - {size: 1GiB, mount: /z, label: \"my data\"}\n" /* 10 */
                IMAGE,
                { 5, 55, "disk.partitions[0].label", "longer than 11 characters, the limit for vfat" },
                { 6, 37, "disk.partitions[1].label", "longer than 16 characters, the limit for ext4" },
                { 8, 38, "disk.partitions[3].label", "label 'data' is already used by disk.partitions[2]" },
                { 9, 30, "disk.partitions[4].label", "a partition without a filesystem has no label" },
                { 10, 38, "disk.partitions[5].label", "must not contain white space" });
}

static void test_msdos_limits(void **state) {
        expect_errors(
                "version: 1\n"                          /* 1 */
                "hostname: a\n"                         /* 2 */
                "disk:\n"                               /* 3 */
                "  table: msdos\n"                      /* 4 */
                "  partitions:\n"                       /* 5 */
                "    - {size: 1GiB, mount: /boot, name: boot}\n" /* 6 */
                "    - {size: 1GiB, fs: swap}\n"        /* 7 */
                "    - {size: 1GiB, mount: /var}\n"     /* 8 */
                "    - {size: 1GiB, mount: /home}\n"    /* 9 */
                "    - {size: rest, mount: /}\n"        /* 10 */
                "    - {size: 1GiB, mount: /srv}\n"     /* 11 */
                IMAGE,
                { 6, 34, "disk.partitions[0].name", "partition names need a GPT partition table" },
                { 10, 7, "disk.partitions[4]", "an msdos partition table holds at most 4 partitions" });
}

static void test_gpt_names(void **state) {
        expect_errors(
                "version: 1\n"
                "hostname: a\n"
                "disk:\n"
                "  partitions:\n"
                "    - {size: rest, mount: /, name: \"0123456789012345678901234567890123456\"}\n"
                IMAGE,
                { 5, 36, "disk.partitions[0].name", "is longer than 36 characters" });

        /* 36 characters of two bytes each fit; UTF-16 counts characters */
        _cleanup_profile_ Profile *p = load_ok(
                "version: 1\n"
                "hostname: a\n"
                "disk:\n"
                "  partitions:\n"
                "    - {size: rest, mount: /, name: \"äöüäöüäöüäöüäöüäöüäöüäöüäöüäöüäöüäöü\"}\n"
                IMAGE);
        assert_int_equal(profile_utf16_length(p->disk.partitions[0].name), 36);
        assert_int_equal(profile_utf16_length("a\xF0\x9F\x98\x80"), 3); /* outside the BMP: a pair */
}

static void test_partitions_empty(void **state) {
        expect_errors(
                "version: 1\n"
                "hostname: a\n"
                "disk:\n"
                "  table: dos\n"
                "  partitions: []\n"
                IMAGE,
                { 4, 10, "disk.table", "unknown partition table 'dos'; did you mean 'msdos'?" },
                { 5, 15, "disk.partitions", "needs at least one partition" });
}

/* ---- image ------------------------------------------------------------------------------------------- */

static void test_image_problems(void **state) {
        expect_errors(
                "version: 1\n"
                "hostname: a\n"
                "disk: {partitions: [{size: rest, mount: /}]}\n"
                "image:\n"
                "  url: ftp://mirror/image.tar\n"
                "  sha256: " SHA "0\n"
                "  format: tar.bz2\n",
                { 5, 8, "image.url", "invalid image URL 'ftp://mirror/image.tar': only http://, https:// and file://" },
                { 6, 11, "image.sha256", "must be 64 hexadecimal digits" },
                { 7, 11, "image.format", "unknown image format 'tar.bz2'; did you mean 'tar.gz'?" });

        expect_errors(
                "version: 1\n"
                "hostname: a\n"
                "disk: {partitions: [{size: rest, mount: /}]}\n"
                "image:\n"
                "  url: file://images/x.tar\n",
                { 5, 3, "image.sha256", "missing required key 'sha256'" },
                { 5, 8, "image.url", "a file URL must look like file:///absolute/path" });
}

static void test_image_format_from_url(void **state) {
        _cleanup_profile_ Profile *p = load_ok(
                "version: 1\n"
                "hostname: a\n"
                "disk: {partitions: [{size: rest, mount: /}]}\n"
                "image:\n"
                "  url: file:///srv/images/debian.TZST\n"
                "  sha256: " SHA "\n");
        assert_null(p->image.format);

        _cleanup_profile_ Profile *q = load_ok(
                "version: 1\n"
                "hostname: a\n"
                "disk: {partitions: [{size: rest, mount: /}]}\n"
                "image:\n"
                "  url: https://example.org/download?id=7\n"
                "  format: tar.xz\n"
                "  sha256: " SHA "\n");
        assert_string_equal(q->image.format, "tar.xz");
}

/* Credentials and query strings in a URL never reach a message. */
static void test_image_url_credentials_not_printed(void **state) {
        _cleanup_free_ char *out = errors_text(
                "version: 1\n"
                "hostname: a\n"
                "disk: {partitions: [{size: rest, mount: /}]}\n"
                "image:\n"
                "  url: https://deploy:S3cr3t@images.example.org/v1/image?token=T0K3N#frag\n"
                "  sha256: " SHA "\n");

        assert_non_null(strstr(out, "test.yaml:5:8: error: image.url: cannot tell the image format from "
                                    "'https://images.example.org/v1/image'"));
        assert_null(strstr(out, "S3cr3t"));
        assert_null(strstr(out, "deploy"));
        assert_null(strstr(out, "T0K3N"));
        assert_null(strstr(out, "frag"));

        _cleanup_free_ char *out2 = errors_text(
                "version: 1\n"
                "hostname: a\n"
                "disk: {partitions: [{size: rest, mount: /}]}\n"
                "image:\n"
                "  url: gopher://deploy:S3cr3t@host/x.tar?token=T0K3N\n"
                "  sha256: " SHA "\n");
        assert_non_null(strstr(out2, "'gopher://host/x.tar'"));
        assert_null(strstr(out2, "S3cr3t"));
        assert_null(strstr(out2, "T0K3N"));
}

static void test_url_helpers(void **state) {
        static const struct {
                const char *in, *out;
        } redact[] = {
                { "http://host/a.tar", "http://host/a.tar" },
                { "http://user:pw@host:8080/a.tar?x=1#y", "http://host:8080/a.tar" },
                { "https://user@host/a", "https://host/a" },
                { "http://u:p@ss@host/a", "http://host/a" },
                { "http://host?token=1", "http://host" },
                { "file:///srv/a.tar#frag", "file:///srv/a.tar" },
                { "not a url?secret", "not a url" },
                { "", "" },
        };

        for (size_t i = 0; i < ELEMENTSOF(redact); i++) {
                _cleanup_free_ char *r = url_redact(redact[i].in);
                assert_string_equal(r, redact[i].out);
        }
        _cleanup_free_ char *n = url_redact(NULL);
        assert_string_equal(n, "");

        assert_true(url_has_credentials("http://u:p@host/"));
        assert_true(url_has_credentials("https://token@host/x"));
        assert_false(url_has_credentials("http://host/a@b"));
        assert_false(url_has_credentials("http://host/?a@b"));
        assert_false(url_has_credentials("file:///srv/x"));
        assert_false(url_has_credentials(NULL));

        assert_string_equal(url_image_format("http://h/a.tar"), "tar");
        assert_string_equal(url_image_format("http://h/a.tar.gz"), "tar.gz");
        assert_string_equal(url_image_format("http://h/a.TGZ"), "tar.gz");
        assert_string_equal(url_image_format("http://h/a.tar.xz?x=1"), "tar.xz");
        assert_string_equal(url_image_format("http://h/a.txz#f"), "tar.xz");
        assert_string_equal(url_image_format("http://h/a.tar.zst"), "tar.zst");
        assert_string_equal(url_image_format("file:///a.tzst"), "tar.zst");
        assert_null(url_image_format("http://h/a.zip"));
        assert_null(url_image_format("http://images.tar/"));
        assert_null(url_image_format("http://images.tar"));
        assert_null(url_image_format("http://h/.tar"));
        assert_null(url_image_format("http://h/a?f=x.tar"));
}

static void test_url_validation(void **state) {
        assert_null(profile_check_url("http://10.0.2.100/images/x.tar"));
        assert_null(profile_check_url("https://u:p@host:8443/x.tar"));
        assert_null(profile_check_url("file:///srv/x.tar"));
        assert_non_null(profile_check_url("http://"));
        assert_non_null(profile_check_url("http:///x.tar"));
        assert_non_null(profile_check_url("http://u:p@/x.tar"));
        assert_non_null(profile_check_url("http://host"));
        assert_non_null(profile_check_url("http://host/"));
        assert_non_null(profile_check_url("http://host/a b.tar"));
        assert_non_null(profile_check_url("HTTP://host/x.tar"));
        assert_non_null(profile_check_url("file:/srv/x.tar"));
        assert_non_null(profile_check_url("/srv/x.tar"));
}

/* ---- users ---------------------------------------------------------------------------------------------- */

static void test_plaintext_password_refused(void **state) {
        static const char yaml[] =
                "version: 1\n"                          /* 1 */
                "hostname: a\n"                         /* 2 */
                "disk: {partitions: [{size: rest, mount: /}]}\n" /* 3 */
                IMAGE                                   /* 4-6 */
                "users:\n"                              /* 7 */
                "  - name: alice\n"                     /* 8 */
                "    password_hash: CorrectHorse42\n"   /* 9 */
                "  - name: bob\n"                       /* 10 */
                "    password_hash: \"$6$CorrectHorse42\"\n"; /* 11 */

        expect_errors(yaml,
                      { 9, 20, "users[0].password_hash", "plaintext passwords are refused" },
                      { 11, 20, "users[1].password_hash", "plaintext passwords are refused" });

        _cleanup_free_ char *out = errors_text(yaml);
        assert_null(strstr(out, "CorrectHorse42"));
}

static void test_password_hashes(void **state) {
        static const char *const good[] = {
                "!",
                "*",
                "$y$j9T$sZmqTKd7NUX/Die8xp2fs1$sppJVTCj1tcsE1krOdwRjIk7EcLfbaUfSoLkz/VxR97",
                "$6$exampleSalt$v18SL218t.63f0pghoJBPKXMs4DXd1DcsuGKmYUPt7ovC.tqVJpYuGmZuxXpwULSHctbqHrDheFOmkcV0YjdI/",
                "$6$rounds=10000$salt$hash",
                "$5$salt$hash",
                "$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
                "$7$CU..../....salt$hash",
                "$1$salt$hash",
        };
        static const char *const bad[] = {
                "", "secret", "!!", "!$6$salt$hash", "$6$", "$6$salt", "$6$salt$", "$6$salt$has h",
                "$argon2id$v=19$m=65536$salt$hash", "$2a$10$abc$def", "$x$salt$hash",
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                assert_null(profile_check_password_hash(good[i]));
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_non_null(profile_check_password_hash(bad[i]));
}

static void test_ssh_keys(void **state) {
        static const char *const good[] = {
                ED25519,
                ED25519 " user@host",
                ED25519 "   comment with  spaces",
                RSA,
                ECDSA256 " ecdsa",
                ECDSA521,
                "no-pty " ED25519,
                "command=\"echo 'a b'\",no-pty " ED25519 " c",
                "from=\"10.0.0.0/8\",command=\"x \\\"y\\\" z\" " RSA,
                "  " ED25519, /* leading blanks */
        };
        static const struct {
                const char *key, *why;
        } bad[] = {
                { DSA, "DSA (ssh-dss) keys are insecure" },
                { "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIPVVA5UNvU/qw2HM7XVHWCkA3o89ZV6uQKgFJ/VdRaBu", "does not hold a key of the stated type" },
                { "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", "does not hold a key of the stated type" },
                { "ssh-ed25519 AAAA!!!!", "not valid base64" },
                { "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPVVA5UNvU/qw2HM7XVHWCkA3o89ZV6uQKgFJ/VdRaB", "not valid base64" },
                { "ssh-ed25519 AA=A", "not valid base64" },
                { "ssh-ed25519", "the base64 key data after the key type is missing" },
                { "ssh-foo AAAAB3NzaC1kc3M=", "unknown key type" },
                { "hunter2", "not an OpenSSH public key" },
                { "", "not an OpenSSH public key" },
                { "command=\"oops " ED25519, "unterminated quote" },
                { ED25519 "\n" ED25519, "must be a single line" },
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                const char *why = profile_check_ssh_key(good[i]);
                if (why)
                        fprintf(stderr, "good key %zu refused: %s\n", i, why);
                assert_null(why);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                const char *why = profile_check_ssh_key(bad[i].key);
                assert_non_null(why);
                if (!strstr(why, bad[i].why))
                        fprintf(stderr, "bad key %zu: %s\n", i, why);
                assert_non_null(strstr(why, bad[i].why));
        }

        expect_errors(
                "version: 1\n"                          /* 1 */
                "hostname: a\n"                         /* 2 */
                "disk: {partitions: [{size: rest, mount: /}]}\n" /* 3 */
                IMAGE                                   /* 4-6 */
                "users:\n"                              /* 7 */
                "  - name: alice\n"                     /* 8 */
                "    ssh_authorized_keys:\n"            /* 9 */
                "      - " ED25519 " good\n"            /* 10 */
                "      - " DSA " old\n"                 /* 11 */
                "      - ssh-ed25519 AAAA!!!!\n"        /* 12 */
                "      - hunter2\n",                    /* 13 */
                { 11, 9, "users[0].ssh_authorized_keys[1]", "invalid SSH public key: DSA (ssh-dss) keys are insecure" },
                { 12, 9, "users[0].ssh_authorized_keys[2]", "invalid SSH public key: the key data is not valid base64" },
                { 13, 9, "users[0].ssh_authorized_keys[3]", "invalid SSH public key: not an OpenSSH public key" });
}

static void test_user_names(void **state) {
        static const char *const good[] = { "a", "_svc", "user-1", "u_2", "abcdefghijklmnopqrstuvwxyz012345" };
        static const char *const bad[] = { "", "1abc", "Bob", "-x", "a.b", "a b", "abcdefghijklmnopqrstuvwxyz0123456" };

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                assert_null(profile_check_user_name(good[i]));
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_non_null(profile_check_user_name(bad[i]));
}

static void test_user_problems(void **state) {
        expect_errors(
                "version: 1\n"                          /* 1 */
                "hostname: a\n"                         /* 2 */
                "disk: {partitions: [{size: rest, mount: /}]}\n" /* 3 */
                IMAGE                                   /* 4-6 */
                "users:\n"                              /* 7 */
                "  - name: root\n"                      /* 8 */
                "    password_hash: \"!\"\n"            /* 9 */
                "    sudo: true\n"                      /* 10 */
                "    groups: [wheel]\n"                 /* 11 */
                "  - name: carol\n"                     /* 12 */
                "    password_hash: \"*\"\n"            /* 13 */
                "  - name: carol\n"                     /* 14 */
                "    ssh_authorized_keys: []\n"         /* 15 */
                "    gecos: \"Carol: admin\"\n"         /* 16 */
                "    shell: bash\n"                     /* 17 */
                "    sudo: \"ALL\"\n"                   /* 18 */
                "  - gecos: nameless\n"                 /* 19 */
                "    ssh_authorized_keys: [\"" ED25519 "\"]\n" /* 20 */
                "    groups: [Admins, adm]\n",          /* 21 */
                { 8, 5, "users[0]", "user 'root' could never log in" },
                { 10, 5, "users[0].sudo", "'sudo' cannot be set for root" },
                { 11, 5, "users[0].groups", "'groups' cannot be set for root" },
                { 12, 5, "users[1]", "user 'carol' could never log in" },
                { 14, 5, "users[2]", "user 'carol' could never log in" },
                { 14, 11, "users[2].name", "user 'carol' is already defined by users[1]" },
                { 16, 12, "users[2].gecos", "gecos must not contain ':'" },
                { 17, 12, "users[2].shell", "invalid shell 'bash': must be an absolute path" },
                { 18, 11, "users[2].sudo", "invalid sudo rule 'ALL'" },
                { 19, 5, "users[3].name", "missing required key 'name'" },
                { 21, 14, "users[3].groups[0]", "invalid group name 'Admins'" });
}

static void test_sudo_forms(void **state) {
        _cleanup_profile_ Profile *p = load_ok(
                "version: 1\n"
                "hostname: a\n"
                "disk: {partitions: [{size: rest, mount: /}]}\n"
                IMAGE
                "users:\n"
                "  - {name: a, password_hash: \"*\", ssh_authorized_keys: [\"" ED25519 "\"], sudo: yes}\n"
                "  - {name: b, password_hash: \"*\", ssh_authorized_keys: [\"" ED25519 "\"], sudo: false}\n"
                "  - {name: c, password_hash: \"*\", ssh_authorized_keys: [\"" ED25519 "\"], sudo: \"ALL=(ALL) NOPASSWD: /usr/bin/apt\"}\n"
                "  - {name: d, password_hash: \"*\", ssh_authorized_keys: [\"" ED25519 "\"]}\n");

        assert_string_equal(p->users[0].sudo, "ALL=(ALL:ALL) ALL");
        assert_null(p->users[1].sudo);
        assert_string_equal(p->users[2].sudo, "ALL=(ALL) NOPASSWD: /usr/bin/apt");
        assert_null(p->users[3].sudo);
        assert_int_equal(p->users[2].line, 10);
        assert_int_equal(p->users[2].column, 5);

        expect_errors(
                "version: 1\n"
                "hostname: a\n"
                "disk: {partitions: [{size: rest, mount: /}]}\n"
                IMAGE
                "users:\n"
                "  - name: a\n"
                "    ssh_authorized_keys: [\"" ED25519 "\"]\n"
                "    sudo: \"ALL=(ALL) ALL\\nb ALL=(ALL) NOPASSWD: ALL\"\n",
                { 10, 11, "users[0].sudo", "a sudo rule is one line" });
}

/* ---- network -------------------------------------------------------------------------------------------- */

static void test_network_bad_cidr(void **state) {
        expect_errors(
                "version: 1\n"                          /* 1 */
                "hostname: a\n"                         /* 2 */
                "disk: {partitions: [{size: rest, mount: /}]}\n" /* 3 */
                IMAGE                                   /* 4-6 */
                "network:\n"                            /* 7 */
                "  version: 2\n"                        /* 8 */
                "  ethernets:\n"                        /* 9 */
                "    eth0:\n"                           /* 10 */
                "      addresses:\n"                    /* 11 */
                "        - 10.0.0.5/24\n"               /* 12 fine */
                "        - 10.0.0.5/33\n"               /* 13 */
                "        - 10.0.0.256/24\n"             /* 14 */
                "        - \"2001:db8::1/129\"\n"       /* 15 */
                "        - 10.0.0.5\n"                  /* 16 */
                "        - 10.0.0.5/0\n"                /* 17 */
                "        - 10.0.0.5/2x\n"               /* 18 */
                "        - \"2001:db8::1/64\"\n",       /* 19 fine */
                { 13, 11, "network.ethernets.eth0.addresses[1]", "invalid address '10.0.0.5/33': the prefix length must be 0 to 32" },
                { 14, 11, "network.ethernets.eth0.addresses[2]", "not an IPv4 or IPv6 address" },
                { 15, 11, "network.ethernets.eth0.addresses[3]", "the prefix length must be 0 to 128" },
                { 16, 11, "network.ethernets.eth0.addresses[4]", "needs a prefix length" },
                { 17, 11, "network.ethernets.eth0.addresses[5]", "must be at least 1" },
                { 18, 11, "network.ethernets.eth0.addresses[6]", "the prefix length is not a number" });
}

static void test_network_unsupported(void **state) {
        expect_errors(
                "version: 1\n"                          /* 1 */
                "hostname: a\n"                         /* 2 */
                "disk: {partitions: [{size: rest, mount: /}]}\n" /* 3 */
                IMAGE                                   /* 4-6 */
                "network:\n"                            /* 7 */
                "  version: 2\n"                        /* 8 */
                "  bonds:\n"                            /* 9 */
                "    bond0:\n"                          /* 10 */
                "      interfaces: [eth0]\n"            /* 11 */
                "      parameters: {mode: active-backup, foo: 1}\n" /* 12 */
                "  wifis: {}\n"                         /* 13 */
                "  tunnels: {wg0: {mode: wireguard}}\n" /* 14 */
                "  ethernets:\n"                        /* 15 */
                "    eth0: {link-local: [], optional-addresses: [dhcp4]}\n" /* 16 */
                "  ethernet: {}\n",                     /* 17 */
                { 12, 41, "network.bonds.bond0.parameters.foo", "unknown key 'foo'; allowed here: mode, " },
                { 13, 3, "network.wifis", "'wifis' is not supported yet" },
                { 14, 3, "network.tunnels", "'tunnels' is not supported yet" },
                { 16, 28, "network.ethernets.eth0.optional-addresses", "'optional-addresses' is not supported yet" },
                { 17, 3, "network.ethernet", "unknown key 'ethernet'; did you mean 'ethernets'?" });
}

/* Members, VLAN links and ids across sections. */
static void test_network_references(void **state) {
        expect_errors(
                "version: 1\n"                          /* 1 */
                "hostname: a\n"                         /* 2 */
                "disk: {partitions: [{size: rest, mount: /}]}\n" /* 3 */
                IMAGE                                   /* 4-6 */
                "network:\n"                            /* 7 */
                "  version: 2\n"                        /* 8 */
                "  ethernets:\n"                        /* 9 */
                "    eth0: {}\n"                        /* 10 */
                "    eth1: {}\n"                        /* 11 */
                "    eth2: {dhcp4: true}\n"             /* 12 */
                "  bonds:\n"                            /* 13 */
                "    bond0: {interfaces: [eth0, eth1, nope]}\n" /* 14 */
                "    bond1: {interfaces: [eth1, br0], parameters: {primary: eth0}}\n" /* 15 */
                "  bridges:\n"                          /* 16 */
                "    br0:\n"                            /* 17 */
                "      interfaces: [br0]\n"             /* 18 */
                "      parameters: {path-cost: {eth9: 5}, port-priority: {br0: 64}}\n" /* 19 */
                "  vlans:\n"                            /* 20 */
                "    vlan1: {id: 1, link: missing}\n"   /* 21 */
                "    vlan2: {id: 2, link: vlan1}\n"     /* 22 */
                "    eth2: {id: 3, link: eth0}\n"       /* 23 */
                "    a-name-too-long-here: {id: 4, link: eth2}\n", /* 24 */
                { 14, 38, "network.bonds.bond0.interfaces[2]", "interface 'nope' is not defined" },
                { 15, 26, "network.bonds.bond1.interfaces[0]", "'eth1' is already a member of bond0" },
                { 15, 32, "network.bonds.bond1.interfaces[1]", "'br0' is not an ethernet" },
                { 15, 60, "network.bonds.bond1.parameters.primary", "'eth0' is not one of the bond's interfaces" },
                { 18, 20, "network.bridges.br0.interfaces[0]", "'br0' cannot be a member of itself" },
                { 19, 32, "network.bridges.br0.parameters.path-cost.eth9", "'eth9' is not one of the bridge's interfaces" },
                { 19, 63, "network.bridges.br0.parameters.port-priority.br0", "expected an integer from 0 to 63, got '64'" },
                { 21, 26, "network.vlans.vlan1.link", "interface 'missing' is not defined" },
                { 22, 26, "network.vlans.vlan2.link", "a VLAN cannot sit on 'vlan1'" },
                { 23, 5, "network.vlans.eth2", "'eth2' is already defined in network.ethernets" },
                { 24, 5, "network.vlans.a-name-too-long-here", "at most 15 characters" });
}

/* Values netplan refuses are refused here too. */
static void test_network_values(void **state) {
        expect_errors(
                "version: 1\n"                          /* 1 */
                "hostname: a\n"                         /* 2 */
                "disk: {partitions: [{size: rest, mount: /}]}\n" /* 3 */
                IMAGE                                   /* 4-6 */
                "network:\n"                            /* 7 */
                "  version: 2\n"                        /* 8 */
                "  ethernets:\n"                        /* 9 */
                "    e0: {match: {name: en0}, set-name: a-very-long-name0, dhcp4: true, link-local: [ipv5]}\n" /* 10 */
                "    e1:\n"                             /* 11 */
                "      dhcp4: true\n"                   /* 12 */
                "      dhcp6: true\n"                   /* 13 */
                "      dhcp4-overrides: {route-metric: 10}\n" /* 14 */
                "      dhcp6-overrides: {route-metric: 20}\n" /* 15 */
                "      dhcp-identifier: client\n"       /* 16 */
                "      routes:\n"                       /* 17 */
                "        - {to: 10.0.0.0/8}\n"          /* 18 */
                "        - {to: 10.0.0.0/8, scope: site, type: blackhole}\n" /* 19 */
                "      routing-policy:\n"               /* 20 */
                "        - {table: 5}\n"                /* 21 */
                "  bonds:\n"                            /* 22 */
                "    bond0:\n"                          /* 23 */
                "      parameters:\n"                   /* 24 */
                "        lacp-rate: quick\n"            /* 25 */
                "        mii-monitor-interval: 10 ms\n" /* 26 */
                "        transmit-hash-policy: layer3-4\n" /* 27 */
                "  bridges:\n"                          /* 28 */
                "    br0: {parameters: {stp: maybe, priority: 65536, forward-delay: soon}}\n", /* 29 */
                { 10, 40, "network.ethernets.e0.set-name", "invalid interface name 'a-very-long-name0'" },
                { 10, 85, "network.ethernets.e0.link-local[0]", "unknown link-local address family 'ipv5'; did you mean 'ipv4'?" },
                { 15, 7, "network.ethernets.e1.dhcp6-overrides", "needs the same 'route-metric'" },
                { 16, 24, "network.ethernets.e1.dhcp-identifier", "unknown dhcp-identifier 'client'" },
                { 18, 11, "network.ethernets.e1.routes[0]", "a route needs 'via'" },
                { 19, 35, "network.ethernets.e1.routes[1].scope", "unknown route scope 'site'" },
                { 21, 11, "network.ethernets.e1.routing-policy[0]", "needs 'from' or 'to'" },
                { 25, 20, "network.bonds.bond0.parameters.lacp-rate", "unknown LACP rate 'quick'" },
                { 26, 31, "network.bonds.bond0.parameters.mii-monitor-interval", "invalid interval '10 ms'" },
                { 27, 31, "network.bonds.bond0.parameters.transmit-hash-policy", "did you mean 'layer3+4'?" },
                { 29, 29, "network.bridges.br0.parameters.stp", "expected true or false, got 'maybe'" },
                { 29, 46, "network.bridges.br0.parameters.priority", "expected an integer from 0 to 65535" },
                { 29, 68, "network.bridges.br0.parameters.forward-delay", "invalid time 'soon'" });
}

static void test_network_problems(void **state) {
        expect_errors(
                "version: 1\n"                          /* 1 */
                "hostname: a\n"                         /* 2 */
                "disk: {partitions: [{size: rest, mount: /}]}\n" /* 3 */
                IMAGE                                   /* 4-6 */
                "network:\n"                            /* 7 */
                "  renderer: NetworkManager\n"          /* 8 */
                "  ethernets:\n"                        /* 9 */
                "    lan:\n"                            /* 10 */
                "      match: {macaddress: \"52:54:00:12:34:5g\"}\n" /* 11 */
                "      set-name: eth0\n"                /* 12 */
                "      dhcp4: true\n"                   /* 13 */
                "      gateway4: 10.0.0.1/24\n"         /* 14 */
                "      gateway6: 10.0.0.1\n"            /* 15 */
                "      routes:\n"                       /* 16 */
                "        - {to: \"2001:db8::/32\", via: 10.0.0.1, metric: -1}\n" /* 17 */
                "        - {to: 10.9.0.0/16, via: 10.0.0.1, scope: global-ish}\n" /* 18 */
                "      mtu: 67\n"                       /* 19 */
                "    wan:\n"                            /* 20 */
                "      match: {}\n"                     /* 21 */
                "      dhcp6: false\n",                 /* 22 */
                { 8, 3, "network.version", "missing required key 'version'" },
                { 8, 13, "network.renderer", "unsupported renderer 'NetworkManager'; only networkd is supported" },
                { 11, 27, "network.ethernets.lan.match.macaddress", "invalid MAC address '52:54:00:12:34:5g'" },
                { 14, 17, "network.ethernets.lan.gateway4", "invalid gateway4 '10.0.0.1/24': not an IPv4 address" },
                { 15, 17, "network.ethernets.lan.gateway6", "invalid gateway6 '10.0.0.1': not an IPv6 address" },
                { 17, 38, "network.ethernets.lan.routes[0].via", "are not of the same address family" },
                { 17, 56, "network.ethernets.lan.routes[0].metric", "expected an integer from 0 to 4294967295, got '-1'" },
                { 18, 51, "network.ethernets.lan.routes[1].scope", "unknown route scope 'global-ish'" },
                { 19, 12, "network.ethernets.lan.mtu", "expected an integer from 68 to 9216, got '67'" },
                { 21, 7, "network.ethernets.wan", "ethernet 'wan' gets no address" },
                { 21, 14, "network.ethernets.wan.match", "match needs 'macaddress', 'name' or 'driver'" });
}

static void test_network_version(void **state) {
        expect_errors(
                "version: 1\n"
                "hostname: a\n"
                "disk: {partitions: [{size: rest, mount: /}]}\n"
                IMAGE
                "network:\n"
                "  version: 1\n"
                "  ethernets: {}\n",
                { 8, 12, "network.version", "unsupported network version '1'" });
        expect_errors(
                "version: 1\n"
                "hostname: a\n"
                "disk: {partitions: [{size: rest, mount: /}]}\n"
                IMAGE
                "network:\n"
                "  version: 2\n"
                "  ethernets: {}\n",
                { 8, 3, "network", "defines no interface: add ethernets, bonds, bridges or vlans" });
}

static void test_network_fields(void **state) {
        _cleanup_profile_ Profile *p = load_ok(
                "version: 1\n"
                "hostname: a\n"
                "disk: {partitions: [{size: rest, mount: /}]}\n"
                IMAGE
                "network:\n"
                "  version: 2\n"
                "  renderer: networkd\n"
                "  ethernets:\n"
                "    eth0:\n"
                "      match: {macaddress: \"52-54-00-AB-CD-EF\", name: \"en*\"}\n"
                "      dhcp6: true\n"
                "      gateway4: 192.168.1.1\n"
                "      addresses: [192.168.1.10/24]\n"
                "      routes: [{to: \"::/0\", via: \"fe80::1\", metric: 4294967295}]\n"
                "      nameservers: {search: [Example.ORG, lab]}\n");
        const ProfileInterface *e = &p->network.interfaces[0];

        assert_string_equal(e->match_mac, "52:54:00:ab:cd:ef");
        assert_string_equal(e->match_name, "en*");
        assert_false(e->dhcp4);
        assert_true(e->dhcp6);
        assert_string_equal(e->gateway4, "192.168.1.1");
        assert_int_equal(e->routes[0].metric, 4294967295u);
        assert_string_equal(e->routes[0].to, "::/0");
        assert_null(e->nameservers);
        assert_string_equal(e->search[0], "Example.ORG");
        assert_int_equal(e->line, 12);
        assert_int_equal(e->column, 7);
}

static void test_ip_helpers(void **state) {
        assert_int_equal(profile_ip_family("10.0.0.1"), AF_INET);
        assert_int_equal(profile_ip_family("10.0.0.1/8"), AF_INET);
        assert_int_equal(profile_ip_family("::1"), AF_INET6);
        assert_int_equal(profile_ip_family("fe80::1/64"), AF_INET6);
        assert_int_equal(profile_ip_family("example.org"), -1);
        assert_null(profile_check_cidr("0.0.0.0/0"));
        assert_null(profile_check_cidr("::/0"));
        assert_non_null(profile_check_cidr("10.0.0.1/"));
        assert_non_null(profile_check_cidr("10.0.0.1/-1"));
        assert_non_null(profile_check_cidr("10.0.0.1/+8"));
        assert_null(profile_check_ip("192.0.2.1"));
        assert_non_null(profile_check_ip("192.0.2.1/32"));
        assert_null(profile_check_ip6("2001:db8::1"));
        assert_non_null(profile_check_ip4("2001:db8::1"));
}

/* ---- misc API ------------------------------------------------------------------------------------------------- */

static void test_to_string(void **state) {
        assert_string_equal(fs_type_to_string(FS_NONE), "none");
        assert_string_equal(fs_type_to_string(FS_EXT4), "ext4");
        assert_string_equal(fs_type_to_string(FS_XFS), "xfs");
        assert_string_equal(fs_type_to_string(FS_VFAT), "vfat");
        assert_string_equal(fs_type_to_string(FS_SWAP), "swap");
        assert_null(fs_type_to_string((FsType) 99));
        assert_string_equal(partition_table_to_string(PARTITION_TABLE_GPT), "gpt");
        assert_string_equal(partition_table_to_string(PARTITION_TABLE_MSDOS), "msdos");
        assert_null(partition_table_to_string((PartitionTable) -1));
}

static void test_errors_api(void **state) {
        ProfileErrors e = {};
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        assert_int_equal(profile_errors_add(&e, "a.yaml", 3, 7, "disk.wipe", "bad %s", "thing"), 0);
        assert_int_equal(profile_errors_add(&e, NULL, 0, 0, NULL, "no position"), 0);
        assert_int_equal(profile_errors_add(&e, "b.yaml", 1, 1, "", "empty key"), 0);
        assert_int_equal(e.n, 3);

        f = open_memstream(&buf, &size);
        profile_errors_print(f, &e);
        fclose(f);
        assert_string_equal(buf,
                            "a.yaml:3:7: error: disk.wipe: bad thing\n"
                            "profile: error: no position\n"
                            "b.yaml:1:1: error: empty key\n");
        free(buf);
        profile_errors_done(&e);
        assert_int_equal(e.n, 0);
        assert_null(e.v);
        profile_errors_done(&e); /* twice is fine */
        profile_errors_done(NULL);
        profile_free(NULL);
}

static void test_errors_accumulate_and_null(void **state) {
        static const char bad[] = "version: 2\n";
        ProfileErrors e = {};
        Profile *p = NULL;

        /* errors are appended; earlier ones are kept */
        assert_int_equal(profile_load_string("one.yaml", bad, strlen(bad), &p, &e), -EINVAL);
        size_t n = e.n;
        assert_int_equal(profile_load_string("two.yaml", bad, strlen(bad), &p, &e), -EINVAL);
        assert_int_equal(e.n, 2 * n);
        assert_string_equal(e.v[0].file, "one.yaml");
        assert_string_equal(e.v[n].file, "two.yaml");
        profile_errors_done(&e);

        /* no error list: still refused, nothing leaks */
        assert_int_equal(profile_load_string("x.yaml", bad, strlen(bad), &p, NULL), -EINVAL);
        assert_null(p);
        assert_int_equal(profile_load_string("x.yaml", "a: [", 4, &p, NULL), -EINVAL);

        /* I/O errors are returned, not listed */
        assert_int_equal(profile_load_file("/nonexistent/profile.yaml", &p, &e), -ENOENT);
        assert_int_equal(e.n, 0);
        assert_null(p);
}

/* Data not NUL-terminated at size: only size bytes count. */
static void test_load_string_size(void **state) {
        _cleanup_free_ char *yaml = default_profile_filled();
        size_t n = strlen(yaml);
        char *copy = malloc(n + 20);

        assert_non_null(copy);
        memcpy(copy, yaml, n);
        memcpy(copy + n, "bogus: [\n", 10);
        Profile *p = NULL;
        assert_int_equal(profile_load_string("x.yaml", copy, n, &p, NULL), 0);
        profile_free(p);
        free(copy);
}

/* ---- a table of invalid profiles: exact output, position and key ---------------------------------------------- */

/* The head every table document starts with (lines 1-6). */
#define HEAD                                                    \
        "version: 1\n"                                          \
        "hostname: a\n"                                         \
        "disk: {partitions: [{size: rest, mount: /}]}\n"        \
        IMAGE
#define LONG_ID "e" "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" \
        "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
#define KEY1 "[\"" ED25519 "\"]"

static const struct {
        const char *yaml;
        const char *expected; /* profile_errors_print() output */
} invalid_table[] = {
        /* include */
        { "include: [x.yaml]\n" HEAD,
          "test.yaml:1:1: error: include: include needs a loader: this profile was not read from a file or a URL, "
          "so there is nothing to resolve 'include' against\n" },
        { "includes: [x.yaml]\n" HEAD,
          "test.yaml:1:1: error: includes: unknown key 'includes'; did you mean 'include'?\n" },
        /* network: an id is part of a file name (found by fuzz_netplan) */
        { HEAD "network:\n  version: 2\n  ethernets:\n    " LONG_ID ":\n      match: {name: eth0}\n      dhcp4: true\n",
          "test.yaml:10:5: error: network.ethernets." LONG_ID ": invalid ethernet id '"
          "e01234567890123456789012345678901234567890123456789012345678...': an interface id has at most 200 "
          "characters (it is part of a file name)\n" },
        /* match */
        { HEAD "match:\n  mac: 52-54-00\n",
          "test.yaml:8:8: error: match.mac: invalid MAC address '52-54-00' (expected six hex pairs such as "
          "52:54:00:12:34:56)\n" },
        { HEAD "match: {mac: []}\n",
          "test.yaml:7:14: error: match.mac: needs at least one MAC address\n" },
        { HEAD "match: {mac: \"52:54:00:12:34:56:78\"}\n",
          "test.yaml:7:14: error: match.mac: invalid MAC address '52:54:00:12:34:56:78' (expected six hex pairs "
          "such as 52:54:00:12:34:56)\n" },
        { HEAD "match: [serial]\n",
          "test.yaml:7:8: error: match: expected a mapping, got a list\n" },
        { HEAD "match: {}\n",
          "test.yaml:7:8: error: match: match needs at least one of: mac, uuid, serial, vendor, product, "
          "min_memory, firmware\n" },
        { HEAD "match: {serial: ~}\n",
          "test.yaml:7:8: error: match: match needs at least one of: mac, uuid, serial, vendor, product, "
          "min_memory, firmware\n" },
        { HEAD "match:\n  uuid: not-a-uuid\n",
          "test.yaml:8:9: error: match.uuid: invalid UUID 'not-a-uuid': expected 32 hexadecimal digits in groups "
          "of 8-4-4-4-12, such as 3f2c6a52-9b1e-4d6c-8a0f-5e4d3c2b1a09\n" },
        { HEAD "match:\n  serial: \"SRV\\x01\"\n",
          "test.yaml:8:11: error: match.serial: invalid serial 'SRV\\x01': must not contain control characters\n" },
        { HEAD "match:\n  product: ''\n",
          "test.yaml:8:12: error: match.product: invalid product pattern '': must not be empty\n" },
        { HEAD "match:\n  vendor: [QEMU]\n",
          "test.yaml:8:11: error: match.vendor: expected a string, got a list\n" },
        { HEAD "match:\n  min_memory: lots\n",
          "test.yaml:8:15: error: match.min_memory: invalid size 'lots' (expected for example 8GiB or a number of "
          "bytes)\n" },
        { HEAD "match:\n  firmware: BIOS\n",
          "test.yaml:8:13: error: match.firmware: unknown firmware 'BIOS'; did you mean 'bios'?\n" },
        { HEAD "match:\n  firmware: coreboot\n",
          "test.yaml:8:13: error: match.firmware: unknown firmware 'coreboot'; expected one of: bios, uefi\n" },
        /* password and hash_password */
        { HEAD "users:\n  - name: bob\n    password: CorrectHorse42\n",
          "test.yaml:9:5: error: users[0].password: a plaintext password is refused unless the user also has "
          "'hash_password: true' (the installer then stores only its yescrypt hash); or give a password_hash "
          "(make one with 'mkpasswd -m yescrypt')\n" },
        { HEAD "users:\n  - name: root\n    password: CorrectHorse42\n    hash_password: false\n",
          "test.yaml:9:5: error: users[0].password: a plaintext password is refused unless the user also has "
          "'hash_password: true' (the installer then stores only its yescrypt hash); or give a password_hash "
          "(make one with 'mkpasswd -m yescrypt')\n" },
        { HEAD "users:\n  - name: bob\n    hash_password: true\n    ssh_authorized_keys: " KEY1 "\n",
          "test.yaml:9:5: error: users[0].hash_password: 'hash_password: true' needs a 'password' to hash\n" },
        { HEAD "users:\n  - name: bob\n    hash_password: maybe\n    ssh_authorized_keys: " KEY1 "\n",
          "test.yaml:9:20: error: users[0].hash_password: expected true or false, got 'maybe'\n" },
        { HEAD "users:\n  - name: bob\n    password: CorrectHorse42\n    hash_password: true\n"
          "    password_hash: \"!\"\n",
          "test.yaml:9:5: error: users[0].password: give either 'password' (with 'hash_password: true') or "
          "'password_hash', not both\n" },
        { HEAD "users:\n  - name: bob\n    password: [CorrectHorse42]\n    hash_password: true\n",
          "test.yaml:9:15: error: users[0].password: expected a string, got a list\n" },
        /* insecure_no_checksum */
        { "version: 1\nhostname: a\ndisk: {partitions: [{size: rest, mount: /}]}\n"
          "image:\n  url: http://10.0.2.100/t.tar\n  insecure_no_checksum: maybe\n",
          "test.yaml:5:3: error: image.sha256: missing required key 'sha256'\n"
          "test.yaml:6:25: error: image.insecure_no_checksum: expected true or false, got 'maybe'\n" },
        { "version: 1\nhostname: a\ndisk: {partitions: [{size: rest, mount: /}]}\n"
          "image:\n  url: http://10.0.2.100/t.tar\n  insecure_no_checksum: false\n",
          "test.yaml:5:3: error: image.sha256: missing required key 'sha256'\n" },
        { "version: 1\nhostname: a\ndisk: {partitions: [{size: rest, mount: /}]}\n"
          "image: {url: http://10.0.2.100/t.tar, insecure_no_checksum: 1}\n",
          "test.yaml:4:8: error: image.sha256: missing required key 'sha256'\n"
          "test.yaml:4:61: error: image.insecure_no_checksum: expected true or false, got '1'\n" },
        /* bootloader.append: root= however it is quoted (the kernel strips a
         * leading '"'; an initramfs shell splits at spaces whatever quotes) */
        { HEAD "bootloader: {append: \"'root=/dev/sda1' quiet\"}\n",
          "test.yaml:7:22: error: bootloader.append: invalid kernel arguments ''root=/dev/sda1' quiet': must not "
          "set root= (also not inside quotes): the installer sets root=UUID= to the installed root filesystem\n" },
        { HEAD "bootloader: {append: 'x=\"a root=b\"'}\n",
          "test.yaml:7:22: error: bootloader.append: invalid kernel arguments 'x=\"a root=b\"': must not "
          "set root= (also not inside quotes): the installer sets root=UUID= to the installed root filesystem\n" },
        { HEAD "bootloader: {append: '\"root=/dev/sda1\"'}\n",
          "test.yaml:7:22: error: bootloader.append: invalid kernel arguments '\"root=/dev/sda1\"': must not "
          "set root= (also not inside quotes): the installer sets root=UUID= to the installed root filesystem\n" },
        /* a key is escaped in the key path and in the message */
        { HEAD "\"ba\\x01d\": 1\n",
          "test.yaml:7:1: error: ba\\x01d: unknown key 'ba\\x01d'; did you mean 'raid'?\n" },
        /* an apt mirror with a fragment */
        { HEAD "apt: {mirror: 'http://10.0.2.100/debian#x'}\n",
          "test.yaml:7:15: error: apt.mirror: invalid apt mirror 'http://10.0.2.100/debian': must not hold a query "
          "or fragment ('?...', '#...'): the mirror is written into the target's world-readable apt sources, and "
          "apt appends paths to it; put credentials in /etc/apt/auth.conf.d/ with files: (mode 0600)\n" },
        { HEAD "  insecure_no_checksum: true\n",
          "test.yaml:7:3: error: image.insecure_no_checksum: 'insecure_no_checksum: true' and a sha256 exclude "
          "each other: with a sha256 the image is always verified; remove one of them\n" },
};

/* The documents in tests/data/profiles with an .expected file. */
static size_t count_data_profiles(void) {
        _cleanup_free_ char *dir = src_path("tests/data/profiles");
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0;

        assert_int_equal(dir_list_sorted(dir, &names), 0);
        for (size_t i = 0; names && names[i]; i++)
                n += endswith(names[i], ".expected");
        return n;
}

static void test_invalid_table(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(invalid_table); i++) {
                _cleanup_free_ char *got = errors_text(invalid_table[i].yaml);
                if (!streq(got, invalid_table[i].expected)) {
                        fprintf(stderr, "invalid_table[%zu]: got:\n%s--- expected:\n%s", i, got,
                                invalid_table[i].expected);
                        fail();
                }
                assert_null(strstr(got, "CorrectHorse42"));
        }
        /* Together with the documents in tests/data/profiles: at least 30
         * invalid profiles, each with its exact messages and positions. */
        assert_true(ELEMENTSOF(invalid_table) >= 20);
        assert_true(ELEMENTSOF(invalid_table) + count_data_profiles() >= 30);
}

/* ---- match: against recorded machines ------------------------------------------------------------------ */

static Inventory *load_machine(const char *name) {
        _cleanup_free_ char *rel = strprintf("tests/data/sysroot/%s.json", name);
        _cleanup_free_ char *path = src_path(rel), *err = NULL;
        Inventory *inv = NULL;

        if (hw_inventory_load_json(path, &inv, &err) < 0)
                fail_msg("%s: %s", path, err ?: "?");
        return inv;
}

/* profile_match_check() output for yaml on the recorded machine. */
static char *match_text(const char *yaml, const char *machine, int expect_r) {
        _cleanup_profile_ Profile *p = load_ok(yaml);
        _cleanup_inventory_ Inventory *inv = load_machine(machine);
        ProfileErrors e = {};
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        assert_int_equal(profile_match_check(p, inv, &e), expect_r);
        assert_int_equal(profile_match_check(p, inv, NULL), expect_r);
        f = open_memstream(&buf, &size);
        assert_non_null(f);
        profile_errors_print(f, &e);
        fclose(f);
        profile_errors_done(&e);
        return buf;
}

static void test_match_parsed(void **state) {
        _cleanup_profile_ Profile *p = load_ok(
                HEAD
                "match:\n"
                "  mac: [\"52:54:00:AB:CD:EF\", 52-54-00-00-00-01, \"52:54:00:ab:cd:ef\"]\n"
                "  uuid: 3F2C6A52-9B1E-4D6C-8A0F-5E4D3C2B1A09\n"
                "  serial: SRV-0001\n"
                "  vendor: \"QEMU*\"\n"
                "  product: \"Standard PC*\"\n"
                "  min_memory: 900MiB\n"
                "  firmware: bios\n");
        const ProfileMatch *m = &p->match;

        assert_int_equal(strv_length(m->macs), 2); /* normalised, duplicates once */
        assert_string_equal(m->macs[0], "52:54:00:ab:cd:ef");
        assert_string_equal(m->macs[1], "52:54:00:00:00:01");
        assert_string_equal(m->uuid, "3f2c6a52-9b1e-4d6c-8a0f-5e4d3c2b1a09");
        assert_string_equal(m->serial, "SRV-0001");
        assert_string_equal(m->vendor, "QEMU*");
        assert_string_equal(m->product, "Standard PC*");
        assert_int_equal(m->min_memory, 900 * MiB);
        assert_string_equal(m->firmware, "bios");
        assert_non_null(m->source);

        _cleanup_profile_ Profile *single = load_ok(HEAD "match: {mac: \"52:54:00:12:34:56\"}\n");
        assert_int_equal(strv_length(single->match.macs), 1);
        _cleanup_profile_ Profile *none = load_ok(HEAD);
        assert_null(none->match.source);
        assert_null(none->match.macs);
}

static void test_match_agrees(void **state) {
        /* Every key, each agreeing with the recorded NVMe+SATA+USB machine
         * (1 GiB of RAM, MemTotal 958 MiB). */
        _cleanup_free_ char *out = match_text(HEAD
                                              "match:\n"
                                              "  mac: 52:54:00:12:34:56\n"
                                              "  uuid: 3F2C6A52-9B1E-4D6C-8A0F-5E4D3C2B1A09\n"
                                              "  serial: SRV-0001\n"
                                              "  vendor: QEMU\n"
                                              "  product: \"Standard PC (Q35*\"\n"
                                              "  min_memory: 900MiB\n"
                                              "  firmware: bios\n",
                                              "nvme-sata-usb", 0);
        assert_string_equal(out, "");

        /* Any NIC of the machine will do: the third of four. */
        _cleanup_free_ char *nics = match_text(HEAD "match:\n  mac: [\"52:54:00:00:00:09\", \"52:54:00:00:00:03\"]\n"
                                               "  firmware: uefi\n",
                                               "four-nics-uefi", 0);
        assert_string_equal(nics, "");

        /* No match: block agrees with every machine. */
        _cleanup_free_ char *none = match_text(HEAD, "virtio-host", 0);
        assert_string_equal(none, "");
}

static void test_match_disagrees(void **state) {
        /* One error per disagreement, at its key, in document order. */
        _cleanup_free_ char *out = match_text(HEAD                                /* 1-6 */
                                              "match:\n"                          /* 7 */
                                              "  serial: SRV-1\n"                 /* 8 */
                                              "  mac: 52:54:00:00:00:09\n"        /* 9 */
                                              "  uuid: 00000000-0000-4000-8000-000000000001\n" /* 10 */
                                              "  vendor: \"Dell*\"\n"             /* 11 */
                                              "  product: \"PowerEdge R6*\"\n"    /* 12 */
                                              "  min_memory: 8GiB\n"              /* 13 */
                                              "  firmware: uefi\n",               /* 14 */
                                              "nvme-sata-usb", -EINVAL);
        assert_string_equal(out,
                "test.yaml:8:3: error: match.serial: the profile is for serial 'SRV-1', this machine's serial is 'SRV-0001'\n"
                "test.yaml:9:3: error: match.mac: the profile is for a machine with MAC 52:54:00:00:00:09, this machine "
                "has one NIC: 52:54:00:12:34:56\n"
                "test.yaml:10:3: error: match.uuid: the profile is for UUID '00000000-0000-4000-8000-000000000001', "
                "this machine's UUID is '3f2c6a52-9b1e-4d6c-8a0f-5e4d3c2b1a09'\n"
                "test.yaml:11:3: error: match.vendor: the profile is for vendor 'Dell*', this machine's vendor is 'QEMU'\n"
                "test.yaml:12:3: error: match.product: the profile is for product 'PowerEdge R6*', this machine's "
                "product is 'Standard PC (Q35 + ICH9, 2009)'\n"
                "test.yaml:13:3: error: match.min_memory: the profile is for machines with at least 8.0 GiB of memory, "
                "this machine has 958.4 MiB (MemTotal: the installed memory less what firmware and kernel keep)\n"
                "test.yaml:14:3: error: match.firmware: the profile is for firmware 'uefi', this machine's firmware is "
                "'bios'\n");

        /* The machine lacks what the profile asks for. */
        _cleanup_free_ char *lacks = match_text(HEAD "match:\n  uuid: 3f2c6a52-9b1e-4d6c-8a0f-5e4d3c2b1a09\n"
                                                "  serial: SRV-0001\n  mac: [\"52:54:00:12:34:56\", \"52:54:00:00:00:05\"]\n",
                                                "four-nics-uefi", -EINVAL);
        assert_string_equal(lacks,
                "test.yaml:8:3: error: match.uuid: the profile is for UUID '3f2c6a52-9b1e-4d6c-8a0f-5e4d3c2b1a09', "
                "this machine has no UUID\n"
                "test.yaml:9:3: error: match.serial: the profile is for serial 'SRV-0001', this machine has no serial\n"
                "test.yaml:10:3: error: match.mac: the profile is for a machine with one of the MACs "
                "52:54:00:12:34:56, 52:54:00:00:00:05, this machine has NICs 52:54:00:00:00:02, 52:54:00:00:00:04, "
                "52:54:00:00:00:03, 52:54:00:00:00:01\n");

        /* A DMI pattern never matches a machine without that DMI string. */
        _cleanup_free_ char *nodmi = match_text(HEAD "match:\n  vendor: \"*\"\n", "virtio-host", -EINVAL);
        assert_string_equal(nodmi, "test.yaml:8:3: error: match.vendor: the profile is for vendor '*', this "
                                   "machine has no vendor\n");
}

/* The same check as `installer plan`: a profile for one recorded machine
 * is refused on the others. */
static void test_match_recorded_machines(void **state) {
        static const char *const machines[] = { "nvme-sata-usb", "two-identical", "four-nics-uefi", "virtio-host" };
        _cleanup_profile_ Profile *p = load_ok(HEAD "match: {serial: SRV-0002, firmware: bios}\n");

        for (size_t i = 0; i < ELEMENTSOF(machines); i++) {
                _cleanup_inventory_ Inventory *inv = load_machine(machines[i]);
                ProfileErrors e = {};
                int r = profile_match_check(p, inv, &e);

                assert_int_equal(r, streq(machines[i], "two-identical") ? 0 : -EINVAL);
                assert_int_equal(e.n, streq(machines[i], "two-identical") ? 0 : streq(machines[i], "four-nics-uefi") ? 2 : 1);
                profile_errors_done(&e);
        }
        assert_int_equal(profile_match_check(NULL, NULL, NULL), -EINVAL);
}

/* ---- include: fragments ----------------------------------------------------------------------------------- */

/* An include loader over files held in memory; it records every call. */
typedef struct MemFile {
        const char *name, *text;
} MemFile;

typedef struct MemFs {
        const MemFile *files;
        size_t n_files;
        StrBuf calls;   /* "base|ref;" for each call */
        int fail;       /* if set: returned for names ending in "fail.yaml" */
} MemFs;

static int mem_include(const char *base, const char *ref, char **ret_name, char **ret_data, size_t *ret_size,
                       void *userdata) {
        MemFs *fs = userdata;
        _cleanup_free_ char *name = NULL;

        assert_int_equal(strbuf_appendf(&fs->calls, "%s|%s;", base, ref), 0);
        assert_int_equal(url_resolve(base, ref, &name), 0);
        if (fs->fail && endswith(name, "fail.yaml"))
                return fs->fail;
        for (size_t i = 0; i < fs->n_files; i++)
                if (streq(fs->files[i].name, name)) {
                        *ret_data = strdup(fs->files[i].text);
                        assert_non_null(*ret_data);
                        *ret_size = strlen(fs->files[i].text);
                        *ret_name = TAKE_PTR(name);
                        return 0;
                }
        return -ENOENT;
}

static int mem_load(MemFs *fs, const char *name, const char *yaml, Profile **ret, char **ret_text) {
        ProfileErrors e = {};
        char *buf = NULL;
        size_t size = 0;
        FILE *f;
        int r;

        r = profile_load_string_full(name, yaml, strlen(yaml), mem_include, fs, ret, &e);
        f = open_memstream(&buf, &size);
        assert_non_null(f);
        profile_errors_print(f, &e);
        fclose(f);
        profile_errors_done(&e);
        if (ret_text)
                *ret_text = buf;
        else {
                if (r < 0)
                        fprintf(stderr, "%s", buf);
                free(buf);
        }
        return r;
}

static void test_include_merge_rules(void **state) {
        static const MemFile files[] = {
                { "http://boot/profiles/base.yaml",
                  "version: 1\n"
                  "hostname: base\n"
                  "disk:\n"
                  "  wipe: true\n"
                  "  select: {transport: virtio, prefer: first}\n"
                  "  partitions:\n"
                  "    - {size: 1GiB, fs: swap}\n"
                  "    - {size: rest, mount: /}\n"
                  IMAGE
                  "users:\n"
                  "  - {name: a, ssh_authorized_keys: " KEY1 "}\n"
                  "  - {name: b, ssh_authorized_keys: " KEY1 "}\n" },
                { "http://boot/profiles/roles/web.yaml",
                  "disk:\n"
                  "  select: {min_size: 10GiB}\n"           /* merged into base's select */
                  "  partitions:\n"                         /* replaces base's list */
                  "    - {size: rest, mount: /, fs: xfs}\n"
                  "users:\n"                                /* replaces base's list */
                  "  - {name: web, ssh_authorized_keys: " KEY1 "}\n" },
        };
        MemFs fs = { .files = files, .n_files = ELEMENTSOF(files) };
        _cleanup_profile_ Profile *p = NULL;

        assert_int_equal(mem_load(&fs, "http://boot/profiles/mac/52-54-00-12-34-56.yaml",
                                  "include: [../base.yaml, \"../roles/web.yaml\"]\n"
                                  "hostname: web01\n"               /* replaces base's */
                                  "disk:\n"
                                  "  wipe: ~\n"                     /* null: back to the default */
                                  "  select: {prefer: largest}\n",  /* merged again */
                                  &p, NULL),
                         0);
        assert_string_equal(fs.calls.data,
                            "http://boot/profiles/mac/52-54-00-12-34-56.yaml|../base.yaml;"
                            "http://boot/profiles/mac/52-54-00-12-34-56.yaml|../roles/web.yaml;");
        assert_string_equal(p->hostname, "web01");
        assert_false(p->disk.wipe);
        assert_string_equal(p->disk.select.transport, "virtio");
        assert_string_equal(p->disk.select.prefer, "largest");
        assert_int_equal(p->disk.select.min_size, 10 * GiB);
        assert_int_equal(p->disk.n_partitions, 1);          /* lists are replaced, */
        assert_int_equal(p->disk.partitions[0].fs, FS_XFS);
        assert_int_equal(p->n_users, 1);                     /* not concatenated */
        assert_string_equal(p->users[0].name, "web");
        assert_string_equal(p->image.sha256, SHA);
        assert_int_equal(p->n_fragments, 2);
        assert_string_equal(p->fragments[0]->filename, "http://boot/profiles/base.yaml");
        assert_string_equal(p->fragments[1]->filename, "http://boot/profiles/roles/web.yaml");
        /* Nodes remember where they were written. */
        assert_string_equal(ynode_get(p->doc->root, "image")->file, "http://boot/profiles/base.yaml");
        assert_string_equal(ynode_get(p->doc->root, "hostname")->file, "http://boot/profiles/mac/52-54-00-12-34-56.yaml");
        assert_null(ynode_get(p->doc->root, "include"));
        strbuf_done(&fs.calls);
}

static void test_include_nested_relative(void **state) {
        static const MemFile files[] = {
                { "http://boot/p/roles/web.yaml", "include: [common/site.yaml]\nhostname: web\n" },
                { "http://boot/p/roles/common/site.yaml", "include: [/p/base.yaml]\nhostname: site\n" },
                { "http://boot/p/base.yaml",
                  "version: 1\nhostname: base\ndisk: {partitions: [{size: rest, mount: /}]}\n" IMAGE },
        };
        MemFs fs = { .files = files, .n_files = ELEMENTSOF(files) };
        _cleanup_profile_ Profile *p = NULL;

        assert_int_equal(mem_load(&fs, "http://boot/p/default.yaml", "include: [roles/web.yaml]\n", &p, NULL), 0);
        /* Each include is resolved against the document that has it. */
        assert_string_equal(fs.calls.data, "http://boot/p/default.yaml|roles/web.yaml;"
                                           "http://boot/p/roles/web.yaml|common/site.yaml;"
                                           "http://boot/p/roles/common/site.yaml|/p/base.yaml;");
        /* The including document wins over what it includes. */
        assert_string_equal(p->hostname, "web");
        assert_int_equal(p->n_fragments, 3);
        strbuf_done(&fs.calls);
}

static void test_include_diamond_and_limits(void **state) {
        static const MemFile files[] = {
                { "a.yaml", "include: [c.yaml]\n" },
                { "b.yaml", "include: [c.yaml]\n" },
                { "c.yaml", "version: 1\nhostname: c\ndisk: {partitions: [{size: rest, mount: /}]}\n" IMAGE },
                { "empty.yaml", "# nothing\n" },
                { "self.yaml", "include: [self.yaml]\n" },
        };
        MemFs fs = { .files = files, .n_files = ELEMENTSOF(files), .fail = -EIO };
        _cleanup_free_ char *out = NULL;
        Profile *p = NULL;

        /* The same fragment twice is not a cycle; an empty one adds nothing. */
        assert_int_equal(mem_load(&fs, "p.yaml", "include: [a.yaml, b.yaml, empty.yaml]\n", &p, NULL), 0);
        assert_int_equal(p->n_fragments, 5);
        profile_free(p);
        p = NULL;

        assert_int_equal(mem_load(&fs, "p.yaml", "include: [self.yaml, fail.yaml]\nhostname: x\n", &p, &out), -EINVAL);
        assert_null(p);
        /* (the profile's own errors first, then the fragments') */
        assert_string_equal(out, "p.yaml:1:22: error: include[1]: cannot include 'fail.yaml': Input/output error\n"
                                 "self.yaml:1:11: error: include[0]: include cycle: p.yaml -> self.yaml -> self.yaml\n");
        free(TAKE_PTR(out));

        /* A profile may not include itself either. */
        assert_int_equal(mem_load(&fs, "self.yaml", "include: [self.yaml]\n", &p, &out), -EINVAL);
        assert_string_equal(out, "self.yaml:1:11: error: include[0]: include cycle: self.yaml -> self.yaml\n");
        free(TAKE_PTR(out));

        /* At most 32 fragments in all. */
        StrBuf many = {};
        assert_int_equal(strbuf_append(&many, "include:\n"), 0);
        for (int i = 0; i < 33; i++)
                assert_int_equal(strbuf_append(&many, "  - c.yaml\n"), 0);
        assert_int_equal(mem_load(&fs, "p.yaml", many.data, &p, &out), -EINVAL);
        assert_string_equal(out, "p.yaml:34:5: error: include[32]: cannot include 'c.yaml': a profile may include at "
                                 "most 32 fragments in all\n");
        free(TAKE_PTR(out));
        strbuf_done(&many);

        /* The loader is never handed credentials to print: refs are shown redacted. */
        assert_int_equal(mem_load(&fs, "p.yaml", "include: [\"https://u:T0K3N@h/x.yaml?k=T0K3N\"]\n", &p, &out), -EINVAL);
        assert_string_equal(out, "p.yaml:1:11: error: include[0]: cannot include 'https://h/x.yaml': not found\n");
        free(TAKE_PTR(out));
        strbuf_done(&fs.calls);
}

/* Real files, through profile_load_file(): paths relative to the profile. */
static void test_include_files(void **state) {
        _cleanup_free_ char *path = src_path("tests/data/profiles/include/web01.yaml");
        _cleanup_free_ char *nested = src_path("tests/data/profiles/include/nested/role.yaml");
        _cleanup_profile_ Profile *p = NULL, *q = NULL;
        ProfileErrors e = {};

        assert_int_equal(profile_load_file(path, &p, &e), 0);
        assert_int_equal(e.n, 0);
        assert_string_equal(p->hostname, "web01");
        assert_string_equal(p->disk.select.transport, "virtio");
        assert_int_equal(p->disk.select.min_size, GiB);
        assert_int_equal(p->disk.n_partitions, 2);
        assert_int_equal(p->n_users, 1);
        assert_int_equal(p->network.n_interfaces, 1);
        assert_string_equal(p->match.serial, "SRV-0001");
        assert_int_equal(p->n_fragments, 2);
        assert_true(endswith(p->fragments[0]->filename, "tests/data/profiles/include/base.yaml"));
        assert_true(endswith(p->fragments[1]->filename, "tests/data/profiles/include/site.yaml"));

        /* The match: check names the file the key was written in. */
        _cleanup_inventory_ Inventory *inv = load_machine("two-identical");
        assert_int_equal(profile_match_check(p, inv, &e), -EINVAL);
        assert_int_equal(e.n, 1);
        assert_string_equal(e.v[0].file, path);
        assert_int_equal(e.v[0].line, 8);
        assert_int_equal(e.v[0].column, 3);
        profile_errors_done(&e);

        assert_int_equal(profile_load_file(nested, &q, &e), 0);
        assert_string_equal(q->hostname, "role01");
        assert_true(endswith(q->fragments[0]->filename, "tests/data/profiles/include/base.yaml"));
        assert_null(strstr(q->fragments[0]->filename, "nested")); /* "nested/../base.yaml" was normalised */

        /* The file loader itself. */
        _cleanup_free_ char *dir = src_path("tests/data/profiles"), *name = NULL, *data = NULL;
        size_t size;
        assert_int_equal(profile_include_file("include/nested/role.yaml", "../base.yaml", &name, &data, &size, dir), 0);
        assert_string_equal(name, "include/base.yaml");
        assert_true(size > 0 && strstr(data, "version: 1"));
        assert_int_equal(profile_include_file("p.yaml", "http://h/x.yaml", &name, &data, &size, dir), -EPROTONOSUPPORT);
        assert_int_equal(profile_include_file("p.yaml", "nope.yaml", &name, &data, &size, dir), -ENOENT);
}

/* Fragments are regular files of at most 4 MiB: a FIFO is not waited for,
 * a device not read; the error names the include entry. */
static void test_include_not_regular(void **state) {
        char dir[] = "/tmp/test_profile.XXXXXX";
        _cleanup_free_ char *fifo = NULL, *big = NULL, *got = NULL, *buf = NULL;
        ProfileErrors e = {};
        Profile *p = NULL;
        size_t size = 0;
        FILE *f;
        int fd;
        static const char yaml[] = "include:\n  - fifo.yaml\n  - big.yaml\n  - /dev/null\n  - .\n" HEAD;

        assert_non_null(mkdtemp(dir));
        fifo = strprintf("%s/fifo.yaml", dir);
        big = strprintf("%s/big.yaml", dir);
        assert_int_equal(mkfifo(fifo, 0600), 0);
        fd = open(big, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, 4 * 1024 * 1024 + 1), 0);
        close(fd);

        assert_int_equal(profile_load_string_full("p.yaml", yaml, strlen(yaml), profile_include_file, dir, &p, &e),
                         -EINVAL);
        assert_null(p);
        f = open_memstream(&buf, &size);
        assert_non_null(f);
        profile_errors_print(f, &e);
        fclose(f);
        profile_errors_done(&e);
        assert_string_equal(buf,
                            "p.yaml:2:5: error: include[0]: cannot include 'fifo.yaml': not a regular file (a FIFO, "
                            "socket or device is never read)\n"
                            "p.yaml:3:5: error: include[1]: cannot include 'big.yaml': larger than 4 MiB, the limit "
                            "of a profile or fragment\n"
                            "p.yaml:4:5: error: include[2]: cannot include '/dev/null': not a regular file (a FIFO, "
                            "socket or device is never read)\n"
                            "p.yaml:5:5: error: include[3]: cannot include '.': is a directory\n");
        unlink(fifo);
        unlink(big);
        rmdir(dir);
}

/* A post_install command is one argument of execve(): at most 131071 bytes. */
static void test_post_install_length(void **state) {
        for (size_t len = PROFILE_COMMAND_MAX; len <= PROFILE_COMMAND_MAX + 1; len++) {
                _cleanup_free_ char *cmd = malloc(len + 1);
                assert_non_null(cmd);
                memset(cmd, 'x', len);
                cmd[len] = 0;
                _cleanup_free_ char *yaml = strprintf(HEAD "post_install:\n  - echo ok\n  - %s\n", cmd);
                ProfileErrors e = {};
                Profile *p = NULL;
                int r = profile_load_string("test.yaml", yaml, strlen(yaml), &p, &e);

                if (len == PROFILE_COMMAND_MAX) {
                        assert_int_equal(r, 0);
                        assert_int_equal(strlen(p->post_install[1].run), PROFILE_COMMAND_MAX);
                        profile_free(p);
                } else {
                        assert_int_equal(r, -EINVAL);
                        _cleanup_free_ char *got = errors_text(yaml);
                        assert_string_equal(got, "test.yaml:9:5: error: post_install[1]: the command is 131072 bytes; "
                                                 "at most 131071 fit in one argument of /bin/sh -c (Linux "
                                                 "MAX_ARG_STRLEN): put a long script into files: and run that\n");
                }
                profile_errors_done(&e);
        }
}

static void test_url_resolve(void **state) {
        static const struct {
                const char *base, *ref, *want;
        } cases[] = {
                { "http://h/p/mac/x.yaml", "site.yaml", "http://h/p/mac/site.yaml" },
                { "http://h/p/mac/x.yaml", "../site.yaml", "http://h/p/site.yaml" },
                { "http://h/p/mac/x.yaml", "../../../../site.yaml", "http://h/site.yaml" },
                { "http://h/p/mac/x.yaml", "./a/./b/../c.yaml", "http://h/p/mac/a/c.yaml" },
                { "http://h/p/mac/x.yaml", "/other/site.yaml", "http://h/other/site.yaml" },
                { "http://h/p/x.yaml?token=1#f", "site.yaml", "http://h/p/site.yaml" },
                { "http://h/p/x.yaml", "site.yaml?v=2", "http://h/p/site.yaml?v=2" },
                { "http://u:pw@h:8080/p/x.yaml", "s.yaml", "http://u:pw@h:8080/p/s.yaml" },
                { "http://h", "s.yaml", "http://h/s.yaml" },
                { "http://h/p/x.yaml", "https://other/a/../s.yaml", "https://other/s.yaml" },
                { "https://h/p/x.yaml", "//mirror/s.yaml", "https://mirror/s.yaml" },
                { "file:///srv/p/x.yaml", "s.yaml", "file:///srv/p/s.yaml" },
                { "profiles/x.yaml", "site.yaml", "profiles/site.yaml" },
                { "profiles/x.yaml", "../site.yaml", "site.yaml" },
                { "x.yaml", "../site.yaml", "../site.yaml" },
                { "a/b/x.yaml", "../../../s.yaml", "../s.yaml" },
                { "/etc/p/x.yaml", "../../../s.yaml", "/s.yaml" },
                { "/etc/p/x.yaml", "/srv/s.yaml", "/srv/s.yaml" },
                { "x.yaml", "./d/s.yaml", "d/s.yaml" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *got = NULL;
                assert_int_equal(url_resolve(cases[i].base, cases[i].ref, &got), 0);
                if (!streq(got, cases[i].want))
                        fail_msg("url_resolve(%s, %s) = %s, expected %s", cases[i].base, cases[i].ref, got,
                                 cases[i].want);
        }
        assert_true(url_has_scheme("http://h/"));
        assert_true(url_has_scheme("file:x"));
        assert_false(url_has_scheme("site.yaml"));
        assert_false(url_has_scheme("./a:b"));
        assert_false(url_has_scheme("1http://h/"));
}

/* ---- password: hashed at load time ---------------------------------------------------------------------------- */

static bool tree_contains(const YNode *n, const char *s) {
        if (!n)
                return false;
        if (n->value && strstr(n->value, s))
                return true;
        for (size_t i = 0; i < n->n; i++)
                if ((n->keys && tree_contains(n->keys[i], s)) || tree_contains(n->items[i], s))
                        return true;
        return false;
}

static void test_password_hashed(void **state) {
        _cleanup_profile_ Profile *p = load_ok(HEAD
                                               "users:\n"
                                               "  - name: root\n"
                                               "    password: \"CorrectHorse42 battery\"\n"
                                               "    hash_password: true\n"
                                               "  - name: bob\n"
                                               "    password: CorrectHorse42\n"
                                               "    hash_password: yes\n");
        struct crypt_data cd = {};

        for (size_t i = 0; i < 2; i++) {
                const char *h = p->users[i].password_hash;
                assert_non_null(h);
                assert_true(startswith(h, "$y$"));
                assert_null(profile_check_password_hash(h));
                assert_null(strstr(h, "CorrectHorse42"));
                /* crypt() with the stored hash as setting gives it back for the right password only */
                assert_string_equal(crypt_r(i == 0 ? "CorrectHorse42 battery" : "CorrectHorse42", h, &cd), h);
                assert_string_not_equal(crypt_r("CorrectHorse43", h, &cd), h);
        }
        /* Fresh salts: the same password never gives the same hash twice. */
        _cleanup_profile_ Profile *q = load_ok(HEAD "users:\n  - {name: bob, password: CorrectHorse42, hash_password: true}\n");
        assert_string_not_equal(q->users[0].password_hash, p->users[1].password_hash);

        /* The plaintext is gone from the document. */
        assert_false(tree_contains(p->doc->root, "CorrectHorse42"));
        assert_false(tree_contains(q->doc->root, "CorrectHorse42"));
        assert_non_null(ynode_get(p->users[0].line ? ynode_get(p->doc->root, "users")->items[0] : NULL, "password"));
        assert_string_equal(ynode_get(ynode_get(p->doc->root, "users")->items[0], "password")->value, "");
        /* and from a refused profile's document (it is freed, but wiped first: nothing to look at
         * here beyond the messages) */
        _cleanup_free_ char *out = errors_text(HEAD "users:\n  - {name: bob, password: CorrectHorse42}\n");
        assert_null(strstr(out, "CorrectHorse42"));
}

/* A password in a fragment is hashed too; the fragment's document is wiped. */
static void test_password_in_fragment(void **state) {
        static const MemFile files[] = {
                { "users.yaml", "users:\n  - {name: bob, password: CorrectHorse42, hash_password: true}\n" },
        };
        MemFs fs = { .files = files, .n_files = ELEMENTSOF(files) };
        _cleanup_profile_ Profile *p = NULL;

        assert_int_equal(mem_load(&fs, "p.yaml", "include: [users.yaml]\n" HEAD, &p, NULL), 0);
        assert_true(startswith(p->users[0].password_hash, "$y$"));
        assert_false(tree_contains(p->doc->root, "CorrectHorse42"));
        for (size_t i = 0; i < p->n_fragments; i++)
                assert_false(tree_contains(p->fragments[i]->root, "CorrectHorse42"));
        strbuf_done(&fs.calls);
}

/* ---- image.insecure_no_checksum ------------------------------------------------------------------------------- */

/* image.url relative to the document that gives it (the installer medium:
 * ../images/NAME from profiles/default.yaml). */
#define REL_HEAD                                                \
        "version: 1\n"                                          \
        "hostname: rel01\n"                                     \
        "disk:\n"                                               \
        "  partitions: [{size: rest, fs: ext4, mount: /}]\n"    \
        "image:\n"

static void test_relative_image_url(void **state) {
        _cleanup_profile_ Profile *p = load_ok(REL_HEAD "  url: ../images/debian12.tar.zst\n  sha256: " SHA "\n");

        assert_true(profile_image_url_is_relative(p));
        assert_string_equal(p->image.url, "../images/debian12.tar.zst");
        assert_string_equal(p->image.url_document, "test.yaml");
        assert_int_equal(profile_image_resolve_url(p, "file:///run/install/medium/profiles/default.yaml"), 0);
        assert_string_equal(p->image.url, "file:///run/install/medium/images/debian12.tar.zst");
        assert_false(profile_image_url_is_relative(p));
        /* Absolute now: resolving again changes nothing. */
        assert_int_equal(profile_image_resolve_url(p, "http://other/x.yaml"), 0);
        assert_string_equal(p->image.url, "file:///run/install/medium/images/debian12.tar.zst");

        /* Over HTTP, credentials of the profile's URL carry over (never printed). */
        _cleanup_profile_ Profile *q = load_ok(REL_HEAD "  url: img/t.tar.gz?v=2\n  sha256: " SHA "\n");
        assert_int_equal(profile_image_resolve_url(q, "https://u:pw@boot.example.org/profiles/mac/a.yaml"), 0);
        assert_string_equal(q->image.url, "https://u:pw@boot.example.org/profiles/mac/img/t.tar.gz?v=2");
        /* Against a file path (installer plan --profile FILE): a path. */
        _cleanup_profile_ Profile *f = load_ok(REL_HEAD "  url: ../images/t.tar\n  sha256: " SHA "\n");
        assert_int_equal(profile_image_resolve_url(f, "medium/profiles/default.yaml"), 0);
        assert_string_equal(f->image.url, "medium/images/t.tar");
        /* No document: cannot resolve. */
        _cleanup_profile_ Profile *n = load_ok(REL_HEAD "  url: t.tar\n  sha256: " SHA "\n");
        assert_int_equal(profile_image_resolve_url(n, NULL), -EINVAL);
        /* An absolute URL is not touched. */
        _cleanup_profile_ Profile *a = load_ok(REL_HEAD "  url: http://h/t.tar\n  sha256: " SHA "\n");
        assert_false(profile_image_url_is_relative(a));
        assert_int_equal(profile_image_resolve_url(a, NULL), 0);
        assert_string_equal(a->image.url, "http://h/t.tar");

        expect_errors(REL_HEAD "  url: //host/t.tar\n  sha256: " SHA "\n",
                      { 6, 8, "image.url", "a reference starting with '//' names a host" });
        expect_errors(REL_HEAD "  url: 1a:b/t.tar\n  sha256: " SHA "\n",
                      { 6, 8, "image.url", "is neither a URL" });
        expect_errors(REL_HEAD "  url: \"?t.tar\"\n  sha256: " SHA "\n",
                      { 6, 8, "image.url", "names no file" });
        expect_errors(REL_HEAD "  url: \"a b.tar\"\n  sha256: " SHA "\n",
                      { 6, 8, "image.url", "white space" });
        expect_errors(REL_HEAD "  url: ../images/\n  sha256: " SHA "\n",
                      { 6, 8, "image.url", "cannot tell the image format" });
}

/* image.manifest: a URL (or a reference, resolved like image.url); it
 * replaces the required sha256 and excludes insecure_no_checksum. */
static void test_image_manifest(void **state) {
        _cleanup_profile_ Profile *p = load_ok(REL_HEAD "  url: ../images/d.tar.zst\n  manifest: ../images/d.tar.zst.manifest\n");

        assert_null(p->image.sha256);
        assert_false(p->image.insecure_no_checksum);
        assert_true(profile_image_manifest_is_relative(p));
        assert_string_equal(p->image.manifest_document, "test.yaml");
        assert_int_equal(profile_image_resolve_manifest(p, "https://u:pw@boot/profiles/default.yaml"), 0);
        assert_string_equal(p->image.manifest, "https://u:pw@boot/images/d.tar.zst.manifest");
        assert_false(profile_image_manifest_is_relative(p));

        _cleanup_profile_ Profile *q = load_ok(REL_HEAD "  url: http://h/d.tar\n  sha256: " SHA "\n  manifest: http://h/m\n");
        assert_string_equal(q->image.sha256, SHA);
        assert_false(profile_image_manifest_is_relative(q));
        assert_int_equal(profile_image_resolve_manifest(q, NULL), 0);
        assert_string_equal(q->image.manifest, "http://h/m");

        /* None: nothing to resolve. */
        _cleanup_profile_ Profile *n = load_ok(REL_HEAD "  url: http://h/d.tar\n  sha256: " SHA "\n");
        assert_null(n->image.manifest);
        assert_false(profile_image_manifest_is_relative(n));
        assert_int_equal(profile_image_resolve_manifest(n, NULL), 0);

        expect_errors(REL_HEAD "  url: http://h/d.tar\n  manifest: http://h/m\n  insecure_no_checksum: true\n",
                      { 8, 3, "image.insecure_no_checksum", "'insecure_no_checksum: true' and a manifest exclude each other" });
        expect_errors(REL_HEAD "  url: http://h/d.tar\n  manifest: ftp://h/m\n",
                      { 7, 13, "image.manifest", "invalid image manifest URL" });
        expect_errors(REL_HEAD "  url: http://h/d.tar\n  manifest: //h/m\n",
                      { 7, 13, "image.manifest", "a reference starting with '//' names a host" });
}

static void test_insecure_no_checksum(void **state) {
        _cleanup_profile_ Profile *p = load_ok("version: 1\nhostname: a\ndisk: {partitions: [{size: rest, mount: /}]}\n"
                                               "image:\n  url: http://10.0.2.100/t.tar\n  insecure_no_checksum: true\n");
        assert_true(p->image.insecure_no_checksum);
        assert_null(p->image.sha256);

        _cleanup_profile_ Profile *q = load_ok(HEAD "  insecure_no_checksum: false\n");
        assert_false(q->image.insecure_no_checksum);
        assert_string_equal(q->image.sha256, SHA);
}

/* Errors from several files come by file (the profile, then its fragments
 * in the order they were read), then by position. */
static void test_errors_sorted_by_file(void **state) {
        static const MemFile files[] = {
                { "f1.yaml", "\n\nhostname: -bad\n" },
                { "f2.yaml", "disk: {wipe: maybe}\n" },
        };
        MemFs fs = { .files = files, .n_files = ELEMENTSOF(files) };
        _cleanup_free_ char *out = NULL;
        Profile *p = NULL;

        assert_int_equal(mem_load(&fs, "p.yaml",
                                  "include: [f1.yaml, f2.yaml]\nversion: 1\ndisk: {partitions: [{size: 0, mount: /}]}\n"
                                  IMAGE "colour: red\n",
                                  &p, &out),
                         -EINVAL);
        assert_string_equal(out,
                            "p.yaml:3:28: error: disk.partitions[0].size: size '0' is smaller than the minimum of 1 MiB\n"
                            "p.yaml:7:1: error: colour: unknown key 'colour'; allowed here: version, hostname, disk, "
                            "image, users, network, firstboot, match, include, groups, ssh, files, packages, apt, "
                            "post_install, timezone, locale, keyboard, ntp, bootloader, report, raid, lvm, timeouts, fetch, tls\n"
                            "f1.yaml:3:11: error: hostname: invalid hostname '-bad': has a label that starts or ends with '-'\n"
                            "f2.yaml:1:14: error: disk.wipe: expected true or false, got 'maybe'\n");
        strbuf_done(&fs.calls);
}

/* ---- tests/data/profiles: NAME.yaml -> NAME.expected ------------------------------------------------------------- */

static void test_data_profiles(void **state) {
        _cleanup_free_ char *dir = src_path("tests/data/profiles");
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0;

        assert_int_equal(dir_list_sorted(dir, &names), 0);
        for (size_t i = 0; names && names[i]; i++) {
                if (!endswith(names[i], ".yaml"))
                        continue;
                _cleanup_free_ char *yaml_path = strprintf("%s/%s", dir, names[i]);
                _cleanup_free_ char *exp_path = strprintf("%s/%.*s.expected", dir,
                                                          (int) (strlen(names[i]) - 5), names[i]);
                _cleanup_free_ char *data = NULL, *expected = NULL, *got = NULL;
                size_t size, got_size = 0;
                ProfileErrors e = {};
                Profile *p = NULL;
                FILE *f;

                assert_int_equal(read_full_file(yaml_path, &data, &size), 0);
                assert_int_equal(read_full_file(exp_path, &expected, NULL), 0);
                /* Fragments are read relative to this directory, as
                 * `installer validate NAME.yaml` would in it. */
                assert_int_equal(profile_load_string_full(names[i], data, size, profile_include_file, dir, &p, &e),
                                 -EINVAL);
                assert_null(p);
                f = open_memstream(&got, &got_size);
                profile_errors_print(f, &e);
                fclose(f);
                if (!streq(got, expected))
                        fprintf(stderr, "%s: got:\n%s--- expected:\n%s", names[i], got, expected);
                assert_string_equal(got, expected);

                /* no secret from these files ever shows */
                assert_null(strstr(got, "S3cr3tPassw0rd"));
                assert_null(strstr(got, "T0K3N"));
                assert_null(strstr(got, "Sup3rS3cret"));
                assert_null(strstr(got, "hunter2"));
                profile_errors_done(&e);
                n++;
        }
        assert_true(n >= 22);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_default_profile),
                cmocka_unit_test(test_default_template_refused),
                cmocka_unit_test(test_example_static_msdos),
                cmocka_unit_test(test_example_server),
                cmocka_unit_test(test_all_examples_validate),
                cmocka_unit_test(test_docs_example),
                cmocka_unit_test(test_minimal_defaults),
                cmocka_unit_test(test_null_means_absent),
                cmocka_unit_test(test_sizes),
                cmocka_unit_test(test_five_problems_five_errors),
                cmocka_unit_test(test_missing_required_keys),
                cmocka_unit_test(test_required_key_without_value),
                cmocka_unit_test(test_syntax_tab),
                cmocka_unit_test(test_syntax_bad_indentation),
                cmocka_unit_test(test_syntax_unclosed_quote),
                cmocka_unit_test(test_duplicate_key),
                cmocka_unit_test(test_empty_document),
                cmocka_unit_test(test_root_not_a_mapping),
                cmocka_unit_test(test_two_documents),
                cmocka_unit_test(test_unknown_keys_suggest),
                cmocka_unit_test(test_wrong_types),
                cmocka_unit_test(test_list_items_wrong_type),
                cmocka_unit_test(test_quoted_booleans_refused),
                cmocka_unit_test(test_hostnames),
                cmocka_unit_test(test_select_problems),
                cmocka_unit_test(test_select_fields),
                cmocka_unit_test(test_percent_over_100),
                cmocka_unit_test(test_percent_100_leaves_no_room),
                cmocka_unit_test(test_two_rest),
                cmocka_unit_test(test_bad_sizes),
                cmocka_unit_test(test_missing_root),
                cmocka_unit_test(test_null_mount),
                cmocka_unit_test(test_mount_problems),
                cmocka_unit_test(test_labels),
                cmocka_unit_test(test_msdos_limits),
                cmocka_unit_test(test_gpt_names),
                cmocka_unit_test(test_partitions_empty),
                cmocka_unit_test(test_image_problems),
                cmocka_unit_test(test_image_format_from_url),
                cmocka_unit_test(test_image_url_credentials_not_printed),
                cmocka_unit_test(test_url_helpers),
                cmocka_unit_test(test_url_validation),
                cmocka_unit_test(test_plaintext_password_refused),
                cmocka_unit_test(test_password_hashes),
                cmocka_unit_test(test_ssh_keys),
                cmocka_unit_test(test_bootloader_append),
                cmocka_unit_test(test_user_names),
                cmocka_unit_test(test_user_problems),
                cmocka_unit_test(test_sudo_forms),
                cmocka_unit_test(test_network_bad_cidr),
                cmocka_unit_test(test_network_unsupported),
                cmocka_unit_test(test_network_problems),
                cmocka_unit_test(test_network_version),
                cmocka_unit_test(test_network_references),
                cmocka_unit_test(test_network_values),
                cmocka_unit_test(test_network_fields),
                cmocka_unit_test(test_ip_helpers),
                cmocka_unit_test(test_to_string),
                cmocka_unit_test(test_errors_api),
                cmocka_unit_test(test_errors_accumulate_and_null),
                cmocka_unit_test(test_load_string_size),
                cmocka_unit_test(test_data_profiles),
                cmocka_unit_test(test_invalid_table),
                cmocka_unit_test(test_match_parsed),
                cmocka_unit_test(test_match_agrees),
                cmocka_unit_test(test_match_disagrees),
                cmocka_unit_test(test_match_recorded_machines),
                cmocka_unit_test(test_include_merge_rules),
                cmocka_unit_test(test_include_nested_relative),
                cmocka_unit_test(test_include_diamond_and_limits),
                cmocka_unit_test(test_include_files),
                cmocka_unit_test(test_url_resolve),
                cmocka_unit_test(test_include_not_regular),
                cmocka_unit_test(test_post_install_length),
                cmocka_unit_test(test_password_hashed),
                cmocka_unit_test(test_password_in_fragment),
                cmocka_unit_test(test_insecure_no_checksum),
                cmocka_unit_test(test_relative_image_url),
                cmocka_unit_test(test_image_manifest),
                cmocka_unit_test(test_errors_sorted_by_file),
        };

        return cmocka_run_group_tests(tests, find_srcdir, free_srcdir);
}
