/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The bootloader of the installed system on directories: systemd-boot's
 * files on an ESP that is a plain directory (this host has no vfat), the
 * target's kernel-install configuration and hooks, the entry compared with
 * what the host's own kernel-install plugin (systemd 252, as in the image)
 * writes, efibootmgr output parsing, and extlinux.conf. */
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <cmocka.h>
#include "tree-snapshot.h"

#include "basic/fileio.h"
#include "basic/process.h"
#include "basic/strutil.h"
#include "boot/boot.h"
#include "target/target-fs.h"

#define KVER "6.1.0-56-amd64"
#define OPTIONS "root=UUID=0b5e3c1a-2f4d-4e6b-9a8c-7d1e2f3a4b5c ro console=tty0 console=ttyS0,115200n8"
#define DEBIAN_OS_RELEASE                                  \
        "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n" \
        "NAME=\"Debian GNU/Linux\"\n"                      \
        "VERSION_ID=\"12\"\n"                              \
        "ID=debian\n"

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path) < 0 ? -1 : 0;
}

static char **tmpdirs;

/* A new temporary directory, removed (and freed) by the group teardown. */
static char *make_tmpdir(void) {
        char *d = strdup("/tmp/test-boot-XXXXXX");
        assert_non_null(d);
        assert_non_null(mkdtemp(d));
        assert_int_equal(strv_push(&tmpdirs, d), 0);
        return d;
}

static int remove_tmpdirs(void **state) {
        for (size_t i = 0; tmpdirs && tmpdirs[i]; i++)
                (void) nftw(tmpdirs[i], rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        strv_free(tmpdirs);
        tmpdirs = NULL;
        return 0;
}

static void put_file(const char *root, const char *rel, const char *text) {
        _cleanup_free_ char *path = path_join_root(root, rel);
        _cleanup_free_ char *dir = strndup(path, (size_t) (strrchr(path, '/') - path));
        assert_int_equal(mkdir_p(dir, 0755), 0);
        assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
}

static char *get_file(const char *root, const char *rel) {
        _cleanup_free_ char *path = path_join_root(root, rel);
        char *text = NULL;
        if (read_full_file(path, &text, NULL) < 0)
                fail_msg("cannot read %s", path);
        return text;
}

static mode_t file_mode(const char *root, const char *rel) {
        _cleanup_free_ char *path = path_join_root(root, rel);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        return st.st_mode & 07777;
}

/* A Debian-like target with a kernel, its initrd and os-release (/etc a
 * link to /usr/lib, as in Debian); the ESP mount point as a plain directory. */
static char *make_target(const char *os_release) {
        char *root = make_tmpdir();
        _cleanup_free_ char *link = path_join_root(root, "/etc/os-release");

        put_file(root, "/boot/vmlinuz-" KVER, "KERNEL " KVER "\n");
        put_file(root, "/boot/initrd.img-" KVER, "INITRD " KVER "\n");
        put_file(root, "/boot/vmlinuz-6.1.0-50-amd64", "OLD KERNEL\n");
        put_file(root, "/boot/initrd.img-6.1.0-50-amd64", "OLD INITRD\n");
        put_file(root, "/usr/lib/os-release", os_release);
        put_file(root, "/etc/hostname", "x\n");
        assert_int_equal(symlink("../usr/lib/os-release", link), 0);
        _cleanup_free_ char *esp = path_join_root(root, "/boot/efi");
        assert_int_equal(mkdir_p(esp, 0755), 0);
        return root;
}

static char *fake_sdboot(void) {
        char *dir = make_tmpdir();
        char *path = strprintf("%s/systemd-bootx64.efi", dir);
        assert_int_equal(write_file_atomic(path, "MZ fake systemd-boot\n", 21, 0644), 0);
        return path;
}

/* ---- os-release ------------------------------------------------------------------------ */

static void test_os_release(void **state) {
        static const struct {
                const char *text, *token, *pretty;
        } rows[] = {
                { DEBIAN_OS_RELEASE, "debian", "Debian GNU/Linux 12 (bookworm)" },
                { "ID=\"debian\"\nIMAGE_ID='golden-web'\nPRETTY_NAME='Web \"gold\"'\n", "golden-web", "Web \"gold\"" },
                { "ID=\"my os/../x\"\nPRETTY_NAME=\"A \\\"quoted\\\" \\\\name\"\n", "myos..x", "A \"quoted\" \\name" },
                { "ID=..\n", "linux", NULL },
                { "NAME=x\n", "linux", NULL },
                { "", "linux", NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                char *root = make_target(rows[i].text);
                BootOsRelease os = {};
                assert_int_equal(boot_read_os_release(root, &os), 0);
                assert_string_equal(os.token, rows[i].token);
                if (rows[i].pretty)
                        assert_string_equal(os.pretty_name, rows[i].pretty);
                else
                        assert_null(os.pretty_name);
                boot_os_release_done(&os);
        }

        /* No os-release at all: still an entry token. */
        char *empty = make_tmpdir();
        BootOsRelease os = {};
        assert_int_equal(boot_read_os_release(empty, &os), 0);
        assert_string_equal(os.token, "linux");
        boot_os_release_done(&os);
}

/* ---- systemd-boot on the ESP ------------------------------------------------------------ */

static void test_sdboot_files(void **state) {
        char *root = make_target(DEBIAN_OS_RELEASE);
        _cleanup_free_ char *efi = fake_sdboot(), *esp = path_join_root(root, "/boot/efi");
        char *err = NULL;
        BootConfig c = {
                .root = root,
                .disk = "/dev/vda",
                .table = PARTITION_TABLE_GPT,
                .root_fs_uuid = "0b5e3c1a-2f4d-4e6b-9a8c-7d1e2f3a4b5c",
                .esp = "/boot/efi",
                .esp_partition = 1,
                .sdboot_efi = efi,
        };

        assert_int_equal(boot_install(&c, &err), 0);
        assert_null(err);

        /* The boot manager, twice; the newest kernel and its initrd. */
        _cleanup_free_ char *a = get_file(esp, BOOT_SDBOOT_PATH), *b = get_file(esp, BOOT_REMOVABLE_PATH);
        assert_string_equal(a, "MZ fake systemd-boot\n");
        assert_string_equal(b, "MZ fake systemd-boot\n");
        _cleanup_free_ char *k = get_file(esp, "/debian/" KVER "/linux");
        _cleanup_free_ char *i = get_file(esp, "/debian/" KVER "/initrd.img-" KVER);
        assert_string_equal(k, "KERNEL " KVER "\n");
        assert_string_equal(i, "INITRD " KVER "\n");

        _cleanup_free_ char *entry = get_file(esp, "/loader/entries/debian-" KVER ".conf");
        assert_string_equal(entry, "title      Debian GNU/Linux 12 (bookworm)\n"
                                   "version    " KVER "\n"
                                   "sort-key   debian\n"
                                   "options    " OPTIONS "\n"
                                   "linux      /debian/" KVER "/linux\n"
                                   "initrd     /debian/" KVER "/initrd.img-" KVER "\n");
        _cleanup_free_ char *srel = get_file(esp, "/loader/entries.srel");
        assert_string_equal(srel, "type1\n");
        _cleanup_free_ char *loader = get_file(esp, "/loader/loader.conf");
        assert_non_null(strstr(loader, "\ndefault debian-*\n"));
        assert_non_null(strstr(loader, "\ntimeout 3\n"));
        assert_non_null(strstr(loader, "\neditor no\n"));

        /* Nothing else on the ESP, no temporary files left. */
        _cleanup_strv_free_ char **top = NULL, **entries = NULL;
        assert_int_equal(dir_list_sorted(esp, &top), 0);
        assert_int_equal(strv_length(top), 3);
        assert_string_equal(top[0], "EFI");
        assert_string_equal(top[1], "debian");
        assert_string_equal(top[2], "loader");
        _cleanup_free_ char *edir = path_join_root(esp, "/loader/entries");
        assert_int_equal(dir_list_sorted(edir, &entries), 0);
        assert_int_equal(strv_length(entries), 1);

        /* kernel-install in the target: same place, same token, same options. */
        _cleanup_free_ char *cmdline = get_file(root, "/etc/kernel/cmdline");
        _cleanup_free_ char *token = get_file(root, "/etc/kernel/entry-token");
        _cleanup_free_ char *conf = get_file(root, "/etc/kernel/install.conf");
        assert_string_equal(cmdline, OPTIONS "\n");
        assert_string_equal(token, "debian\n");
        assert_non_null(strstr(conf, "\nlayout=bls\nBOOT_ROOT=/boot/efi\n"));
        static const char *const hooks[] = {
                "/etc/kernel/postinst.d/zz-installer-systemd-boot",
                "/etc/kernel/postrm.d/zz-installer-systemd-boot",
                "/etc/initramfs/post-update.d/zz-installer-systemd-boot",
        };
        for (size_t h = 0; h < ELEMENTSOF(hooks); h++) {
                _cleanup_free_ char *script = get_file(root, hooks[h]);
                assert_int_equal(file_mode(root, hooks[h]), 0755);
                assert_true(startswith(script, "#!/bin/sh\n"));
                assert_non_null(strstr(script, "kernel-install "));
                assert_non_null(strstr(script, "mountpoint -q /boot/efi"));
                /* Valid shell. */
                _cleanup_free_ char *path = path_join_root(root, hooks[h]), *out = NULL;
                char *argv[] = { (char *) "/bin/sh", (char *) "-n", path, NULL };
                assert_int_equal(process_run(argv, NULL, &out), 0);
        }
        /* extlinux is not written. */
        _cleanup_free_ char *ext = path_join_root(root, "/boot/extlinux");
        assert_int_equal(access(ext, F_OK), -1);
}

/* The hooks run the image's kernel-install on kernel updates; the entry the
 * installer writes must be what kernel-install's loader-entry plugin writes
 * from the same /etc/kernel/cmdline, or an update would change the boot.
 * Run the host's plugin (systemd 252, the image's version) on a copy. */
static void test_sdboot_entry_matches_kernel_install(void **state) {
        static const char plugin[] = "/usr/lib/kernel/install.d/90-loaderentry.install";
        if (access(plugin, X_OK) < 0 || access("/etc/os-release", R_OK) < 0) {
                print_message("skipped: no %s on this host\n", plugin);
                skip();
        }
        _cleanup_free_ char *host_os = NULL;
        assert_int_equal(read_full_file("/etc/os-release", &host_os, NULL), 0);
        char *root = make_target(host_os); /* the plugin reads the host's os-release */
        _cleanup_free_ char *efi = fake_sdboot(), *esp = path_join_root(root, "/boot/efi");
        char *other = make_tmpdir(), *staging = make_tmpdir(), *err = NULL;
        BootConfig c = {
                .root = root,
                .disk = "/dev/vda",
                .root_fs_uuid = "0b5e3c1a-2f4d-4e6b-9a8c-7d1e2f3a4b5c",
                .esp = "/boot/efi",
                .esp_partition = 1,
                .sdboot_efi = efi,
                .extra_args = "quiet",
        };
        BootOsRelease os = {};

        assert_int_equal(boot_install(&c, &err), 0);
        assert_int_equal(boot_read_os_release(root, &os), 0);
        _cleanup_free_ char *ours = get_file(esp, "/loader/entries/debian-" KVER ".conf");
        _cleanup_free_ char *abs = strprintf("%s/%s/" KVER, other, os.token);
        _cleanup_free_ char *kernel = path_join_root(root, "/boot/vmlinuz-" KVER);
        _cleanup_free_ char *initrd = path_join_root(root, "/boot/initrd.img-" KVER);
        _cleanup_free_ char *conf_root = path_join_root(root, "/etc/kernel");
        _cleanup_free_ char *e1 = strprintf("KERNEL_INSTALL_CONF_ROOT=%s", conf_root);
        _cleanup_free_ char *e2 = strprintf("KERNEL_INSTALL_BOOT_ROOT=%s", other);
        _cleanup_free_ char *e3 = strprintf("KERNEL_INSTALL_ENTRY_TOKEN=%s", os.token);
        _cleanup_free_ char *e4 = strprintf("KERNEL_INSTALL_STAGING_AREA=%s", staging);
        char *envp[] = { (char *) "PATH=/usr/sbin:/usr/bin:/sbin:/bin", e1, e2, e3, e4,
                         (char *) "KERNEL_INSTALL_LAYOUT=bls", (char *) "KERNEL_INSTALL_MACHINE_ID=0123456789abcdef0123456789abcdef",
                         (char *) "KERNEL_INSTALL_VERBOSE=0", NULL };
        char *argv[] = { (char *) plugin, (char *) "add", (char *) KVER, abs, kernel, initrd, NULL };
        ProcessOptions o = { .envp = envp };
        _cleanup_free_ char *out = NULL;

        assert_int_equal(mkdir_p(abs, 0755), 0);
        if (process_run_opts(argv, &o, &out) < 0)
                fail_msg("%s: %s", plugin, out);
        _cleanup_free_ char *theirs = get_file(other, "/loader/entries/debian-" KVER ".conf");
        /* other is not a mount point: the plugin's paths are relative to
         * the mount it is on; on the ESP they start at the ESP. */
        _cleanup_free_ char *mnt = NULL;
        char *sargv[] = { (char *) "/usr/bin/stat", (char *) "-c", (char *) "%m", other, NULL };
        assert_int_equal(process_run(sargv, NULL, &mnt), 0);
        strstrip(mnt);
        const char *prefix = streq(mnt, "/") ? other : other + strlen(mnt);
        StrBuf norm = {};
        for (const char *p = theirs; *p;) {
                const char *hit = strstr(p, prefix);
                if (!hit) {
                        assert_int_equal(strbuf_append(&norm, p), 0);
                        break;
                }
                assert_int_equal(strbuf_append_n(&norm, p, (size_t) (hit - p)), 0);
                p = hit + strlen(prefix);
        }
        assert_string_equal(ours, norm.data);
        assert_non_null(strstr(ours, "options    " OPTIONS " quiet\n"));
        _cleanup_free_ char *k1 = get_file(esp, "/debian/" KVER "/linux");
        _cleanup_free_ char *k2 = get_file(other, "/debian/" KVER "/linux");
        assert_string_equal(k1, k2);
        strbuf_done(&norm);
        boot_os_release_done(&os);
}

static void test_sdboot_errors(void **state) {
        char *root = make_target(DEBIAN_OS_RELEASE), *err = NULL;
        _cleanup_free_ char *efi = fake_sdboot();
        BootConfig c = { .root = root, .disk = "/dev/vda", .root_fs_uuid = "x", .esp = "/boot/efi",
                         .esp_partition = 1, .sdboot_efi = "/nonexistent/systemd-bootx64.efi" };

        /* No systemd-boot in the boot image: nothing written. */
        assert_int_equal(boot_install(&c, &err), -ENOENT);
        assert_non_null(strstr(err, "/nonexistent/systemd-bootx64.efi"));
        assert_non_null(strstr(err, "systemd-boot-efi"));
        free(err);
        err = NULL;
        _cleanup_free_ char *esp = path_join_root(root, "/boot/efi");
        _cleanup_strv_free_ char **names = NULL;
        assert_int_equal(dir_list_sorted(esp, &names), 0);
        assert_int_equal(strv_length(names), 0);

        /* No kernel in the image. */
        char *bare = make_tmpdir();
        c.root = bare;
        c.sdboot_efi = efi;
        assert_int_equal(boot_install(&c, &err), -ENOENT);
        assert_non_null(strstr(err, "no kernel with an initrd"));
        free(err);
        err = NULL;

        /* The ESP is not writable (a file where the directory should be). */
        char *blocked = make_target(DEBIAN_OS_RELEASE);
        put_file(blocked, "/boot/efi/debian", "in the way\n");
        c.root = blocked;
        assert_true(boot_install(&c, &err) < 0);
        assert_non_null(strstr(err, "cannot write"));
        assert_non_null(strstr(err, "/boot/efi/debian/" KVER));
        free(err);
}

/* ---- the NVRAM entry ------------------------------------------------------------------ */

static void test_efi_parse_entries(void **state) {
        /* efibootmgr 17 (Debian 12) without -v, and with -v / newer versions. */
        static const char v17[] = "BootCurrent: 0001\n"
                                  "Timeout: 0 seconds\n"
                                  "BootOrder: 0004,0001,0000,0003\n"
                                  "Boot0000* UiApp\n"
                                  "Boot0001* UEFI PXEv4 (MAC:525400123456)\n"
                                  "Boot0003  Linux Boot Manager\n"
                                  "Boot0004* Linux Boot Manager\n"
                                  "Boot0005* Linux Boot Manager (old)\n"
                                  "Boot000A* Linux Boot Manager\r\n";
        static const char verbose[] = "BootCurrent: 0004\n"
                                      "Boot0002* EFI Internal Shell\tFvVol(7cb8bdc9-f8eb-4f34-aaea-3ee4af6516a1)/FvFile(7c04a583-9e3e-4f1c-ad65-e05268d0b4d1)\n"
                                      "Boot0004* Linux Boot Manager\tHD(1,GPT,3e8ba0a1-55f6-4c4b-8f39-0c3f4a9b3a5e,0x800,0x100000)/File(\\EFI\\systemd\\systemd-bootx64.efi)\n"
                                      "Boot0007* Linux Boot Manager";
        _cleanup_strv_free_ char **a = NULL, **b = NULL, **none = NULL;

        assert_int_equal(boot_efi_parse_entries(v17, BOOT_EFI_LABEL, &a), 0);
        assert_int_equal(strv_length(a), 3);
        assert_string_equal(a[0], "0003");
        assert_string_equal(a[1], "0004");
        assert_string_equal(a[2], "000A");
        assert_int_equal(boot_efi_parse_entries(verbose, BOOT_EFI_LABEL, &b), 0);
        assert_int_equal(strv_length(b), 2);
        assert_string_equal(b[0], "0004");
        assert_string_equal(b[1], "0007");
        assert_int_equal(boot_efi_parse_entries("BootOrder: 0001\nBoot0001* UiApp\n", BOOT_EFI_LABEL, &none), 0);
        assert_non_null(none);
        assert_int_equal(strv_length(none), 0);
}

static void test_nvram_needs_efivars(void **state) {
        char *dir = make_tmpdir(), *err = NULL, *entry = NULL;
        BootConfig c = { .disk = "/dev/vda", .esp_partition = 1, .efivars = dir,
                         .efibootmgr = "/nonexistent/efibootmgr" };

        /* A plain directory is not efivarfs: a warning for the caller, no efibootmgr run. */
        assert_false(boot_efivars_available(dir));
        assert_false(boot_efivars_available("/nonexistent"));
        assert_int_equal(boot_efi_nvram_entry(&c, &entry, &err), -EOPNOTSUPP);
        assert_null(entry);
        assert_non_null(strstr(err, dir));
        assert_non_null(strstr(err, "did not boot with UEFI"));
        free(err);
}

/* ---- extlinux ------------------------------------------------------------------------------ */

static void test_extlinux_conf(void **state) {
        char *root = make_target(DEBIAN_OS_RELEASE);
        BootConfig c = { .root = root, .root_fs_uuid = "0b5e3c1a-2f4d-4e6b-9a8c-7d1e2f3a4b5c" };

        assert_int_equal(boot_write_extlinux_conf(&c, "vmlinuz-" KVER, "initrd.img-" KVER), 0);
        _cleanup_free_ char *conf = get_file(root, "/boot/extlinux/extlinux.conf");
        assert_non_null(strstr(conf, "  LINUX /boot/vmlinuz-" KVER "\n  INITRD /boot/initrd.img-" KVER
                                     "\n  APPEND " OPTIONS "\n"));
        c.separate_boot = true;
        c.extra_args = "quiet";
        assert_int_equal(boot_write_extlinux_conf(&c, "vmlinuz-" KVER, "initrd.img-" KVER), 0);
        _cleanup_free_ char *conf2 = get_file(root, "/boot/extlinux/extlinux.conf");
        assert_non_null(strstr(conf2, "  LINUX /vmlinuz-" KVER "\n  INITRD /initrd.img-" KVER "\n  APPEND " OPTIONS
                                      " quiet\n"));
}

/* ---- the dispatcher ------------------------------------------------------------------------ */

/* boot_install() owns the NVRAM entry too: without EFI variables it is a
 * warning, the install succeeds (efibootmgr is never run). What it does is
 * one line for the phase; the kernel command line starts with the prefix
 * the plan prints. */
static void test_dispatcher(void **state) {
        char *root = make_target(DEBIAN_OS_RELEASE), *vars = make_tmpdir(), *err = NULL;
        _cleanup_free_ char *efi = fake_sdboot(), *esp = path_join_root(root, "/boot/efi");
        BootConfig c = {
                .root = root, .disk = "/dev/vda", .mirror_disk = "/dev/vdb", .table = PARTITION_TABLE_GPT,
                .root_fs_uuid = "0b5e3c1a-2f4d-4e6b-9a8c-7d1e2f3a4b5c", .extra_args = "quiet",
        };

        _cleanup_free_ char *bios = boot_describe(&c);
        assert_string_equal(bios, "extlinux, gptmbr.bin boot code on /dev/vda and /dev/vdb");
        c.table = PARTITION_TABLE_MSDOS;
        c.mirror_disk = NULL;
        _cleanup_free_ char *bios2 = boot_describe(&c);
        assert_string_equal(bios2, "extlinux, mbr.bin boot code on /dev/vda");

        _cleanup_free_ char *options = boot_kernel_options(&c);
        _cleanup_free_ char *prefix = strprintf(BOOT_CMDLINE_PREFIX_FMT, c.root_fs_uuid);
        assert_string_equal(prefix, OPTIONS);
        assert_true(startswith(options, prefix));
        assert_string_equal(options + strlen(prefix), " quiet");

        c.esp = "/boot/efi";
        c.esp_partition = 1;
        c.sdboot_efi = efi;
        c.efivars = vars;
        c.efibootmgr = "/nonexistent/efibootmgr";
        c.nvram_entry = true;
        _cleanup_free_ char *uefi = boot_describe(&c);
        assert_string_equal(uefi, "systemd-boot on /dev/vda partition 1 (EFI system partition, /boot/efi)");
        assert_int_equal(boot_install(&c, &err), 0);
        assert_null(err);
        _cleanup_free_ char *a = get_file(esp, BOOT_REMOVABLE_PATH);
        assert_string_equal(a, "MZ fake systemd-boot\n");
}

/* ---- a hostile image: symlinks that lead out of the target ----------------------------------- */

#define CANARY "CANARY: a file of the installer's own system\n"
#define NEWER "6.1.0-99-amd64"

/* The world around a target: BASE/outside/ holds a canary file (and a
 * kernel, as a lure); the target is BASE/r/root, so that "../../.." from its
 * /etc or /boot reaches BASE. Tools and the disk live elsewhere. */
typedef struct Hostile {
        char *base, *root, *outside, *esp;
        char *efi, *tools, *extlinux_log;
        char *before; /* snapshot of BASE without the target */
} Hostile;

/* Every path, mode and file content below h->base except the target. */
static char *snapshot(const Hostile *h) {
        return tree_snapshot(h->base, h->root);
}

static void make_hostile(Hostile *h) {
        *h = (Hostile) { .base = make_tmpdir(), .tools = make_tmpdir() };
        h->root = strprintf("%s/r/root", h->base);
        h->outside = strprintf("%s/outside", h->base);
        h->esp = strprintf("%s/boot/efi", h->root);
        h->extlinux_log = strprintf("%s/extlinux.args", h->tools);
        assert_non_null(h->root);
        assert_non_null(h->esp);
        put_file(h->outside, "/canary", CANARY);
        put_file(h->outside, "/vmlinuz-7.0.0-lure", CANARY);
        put_file(h->outside, "/initrd.img-7.0.0-lure", CANARY);
        put_file(h->root, "/boot/vmlinuz-" KVER, "KERNEL " KVER "\n");
        put_file(h->root, "/boot/initrd.img-" KVER, "INITRD " KVER "\n");
        put_file(h->root, "/boot/vmlinuz-6.1.0-50-amd64", "OLD KERNEL\n");
        put_file(h->root, "/boot/initrd.img-6.1.0-50-amd64", "OLD INITRD\n");
        put_file(h->root, "/usr/lib/os-release", DEBIAN_OS_RELEASE);
        assert_int_equal(mkdir_p(h->esp, 0755), 0);
        /* The tools: systemd-boot, an extlinux that records its arguments,
         * syslinux's MBR code and a disk (a file). */
        h->efi = strprintf("%s/systemd-bootx64.efi", h->tools);
        assert_int_equal(write_file_atomic(h->efi, "MZ fake systemd-boot\n", 21, 0644), 0);
        _cleanup_free_ char *script = strprintf("#!/bin/sh\nprintf '%%s\\n' \"$@\" > %s\n", h->extlinux_log);
        put_file(h->tools, "/extlinux", script);
        _cleanup_free_ char *ext = strprintf("%s/extlinux", h->tools);
        assert_int_equal(chmod(ext, 0755), 0);
        put_file(h->tools, "/mbr/gptmbr.bin", "GPTMBR");
        put_file(h->tools, "/mbr/mbr.bin", "MBR");
        put_file(h->tools, "/disk", "................................................................");
}

static void hostile_done(Hostile *h) {
        free(h->root);
        free(h->outside);
        free(h->esp);
        free(h->efi);
        free(h->extlinux_log);
        free(h->before);
}

/* "%O" in a link target: the outside directory's absolute path. */
static void hostile_link(const Hostile *h, const char *at, const char *target) {
        _cleanup_free_ char *path = path_join_root(h->root, at), *parent = NULL, *t = NULL;
        const char *o = strstr(target, "%O");

        t = o ? strprintf("%.*s%s%s", (int) (o - target), target, h->outside, o + 2) : strdup(target);
        parent = strndup(path, (size_t) (strrchr(path, '/') - path));
        assert_int_equal(mkdir_p(parent, 0755), 0);
        (void) nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        assert_int_equal(symlink(t, path), 0);
}

static int esp_has_canary(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        _cleanup_free_ char *text = NULL;
        if (type != FTW_F || read_full_file(path, &text, NULL) < 0)
                return 0;
        return strstr(text, "CANARY") || strstr(text, "PATH=") || strstr(text, "BOOT_TEST_SECRET") ? 1 : 0;
}

static void test_hostile_symlinks(void **state) {
        enum { SDBOOT, EXTLINUX };
        static const struct {
                const char *what;
                int loader;
                const char *at, *target;
                int ret;          /* what boot_install() returns */
                const char *kver; /* the kernel that must be on the ESP (sdboot, ret 0) */
        } rows[] = {
                /* Writes into the target that a link would lead out. */
                { "etc/kernel -> outside (absolute)", SDBOOT, "/etc/kernel", "%O", 0, KVER },
                { "etc/kernel -> ../../..", SDBOOT, "/etc/kernel", "../../..", 0, KVER },
                { "etc/kernel/postinst.d -> outside", SDBOOT, "/etc/kernel/postinst.d", "%O", 0, KVER },
                { "etc/initramfs -> ../../../outside", SDBOOT, "/etc/initramfs", "../../../outside", 0, KVER },
                { "etc/kernel/cmdline -> canary", SDBOOT, "/etc/kernel/cmdline", "%O/canary", 0, KVER },
                /* Reads of the image that a link would lead out: the newest
                 * kernel is no kernel, the one before it boots. */
                { "vmlinuz -> /proc/self/environ", SDBOOT, "/boot/vmlinuz-" NEWER, "/proc/self/environ", 0, KVER },
                { "vmlinuz -> canary (absolute)", SDBOOT, "/boot/vmlinuz-" NEWER, "%O/canary", 0, KVER },
                { "vmlinuz -> canary (relative)", SDBOOT, "/boot/vmlinuz-" NEWER, "../../../outside/canary", 0, KVER },
                { "initrd -> canary", SDBOOT, "/boot/initrd.img-" KVER, "%O/canary", 0, "6.1.0-50-amd64" },
                { "vmlinuz -> /etc/hostname (in the target, not in /boot)", SDBOOT, "/boot/vmlinuz-" NEWER, "/etc/hostname", 0, KVER },
                { "boot -> outside (with a kernel there)", SDBOOT, "/boot", "%O", -ENOENT, NULL },
                /* The ESP: nothing on it or on the way to it is a link. */
                { "boot/efi -> outside", SDBOOT, "/boot/efi", "%O", -ELOOP, NULL },
                { "boot/efi/loader -> outside", SDBOOT, "/boot/efi/loader", "%O", -ELOOP, NULL },
                { "boot/efi/EFI -> ../../../../outside", SDBOOT, "/boot/efi/EFI", "../../../../outside", -ELOOP, NULL },
                { "boot/efi/debian -> outside", SDBOOT, "/boot/efi/debian", "%O", -ELOOP, NULL },
                /* extlinux: its configuration and the directory it installs to. */
                { "boot/extlinux -> outside", EXTLINUX, "/boot/extlinux", "%O", 0, NULL },
                { "boot/extlinux -> ../../../outside", EXTLINUX, "/boot/extlinux", "../../../outside", 0, NULL },
                { "extlinux.conf -> canary", EXTLINUX, "/boot/extlinux/extlinux.conf", "%O/canary", 0, NULL },
                { "boot -> outside (extlinux)", EXTLINUX, "/boot", "%O", -ENOENT, NULL },
        };

        setenv("BOOT_TEST_SECRET", "the installer's environment", 1);
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                Hostile h;
                char *err = NULL;

                print_message("  %s\n", rows[i].what);
                make_hostile(&h);
                put_file(h.root, "/boot/initrd.img-" NEWER, "INITRD " NEWER "\n");
                put_file(h.root, "/etc/hostname", "x\n");
                hostile_link(&h, rows[i].at, rows[i].target);
                h.before = snapshot(&h);

                _cleanup_free_ char *ext = strprintf("%s/extlinux", h.tools), *disk = strprintf("%s/disk", h.tools);
                BootConfig c = {
                        .root = h.root,
                        .disk = disk,
                        .table = PARTITION_TABLE_GPT,
                        .root_fs_uuid = "0b5e3c1a-2f4d-4e6b-9a8c-7d1e2f3a4b5c",
                        .syslinux_dir = h.tools,
                        .extlinux = ext,
                };
                if (rows[i].loader == SDBOOT) {
                        c.esp = "/boot/efi";
                        c.esp_partition = 1;
                        c.sdboot_efi = h.efi;
                }
                int r = boot_install(&c, &err);
                if (r != rows[i].ret)
                        fail_msg("%s: boot_install() returned %d (%s), expected %d", rows[i].what, r,
                                 err ? err : "no message", rows[i].ret);
                if (r < 0)
                        assert_non_null(err); /* a clean error, with a message */
                free(err);

                /* Nothing outside the target changed. */
                _cleanup_free_ char *after = snapshot(&h);
                if (!streq(h.before, after))
                        fail_msg("%s: outside the target\nbefore:\n%safter:\n%s", rows[i].what, h.before, after);

                /* Nothing of the host or the outside on the ESP. */
                if (access(h.esp, F_OK) == 0)
                        assert_int_equal(nftw(h.esp, esp_has_canary, 16, FTW_PHYS), 0);
                if (rows[i].kver) {
                        _cleanup_free_ char *k = strprintf("/debian/%s/linux", rows[i].kver);
                        const char *want = streq(rows[i].kver, KVER) ? "KERNEL " KVER "\n" : "OLD KERNEL\n";
                        _cleanup_free_ char *got = get_file(h.esp, k);
                        assert_string_equal(got, want);
                        /* /etc/kernel/cmdline where the installed system
                         * finds it (links resolved inside the target). */
                        _cleanup_close_ int rootfd = target_root_open(h.root);
                        _cleanup_free_ char *cmdline = NULL;
                        assert_true(rootfd >= 0);
                        assert_int_equal(target_read_file(rootfd, "/etc/kernel/cmdline", &cmdline, NULL), 0);
                        assert_string_equal(cmdline, OPTIONS "\n");
                }
                if (rows[i].loader == EXTLINUX && r == 0) {
                        /* extlinux got a directory inside the target. */
                        _cleanup_free_ char *args = NULL, *real = realpath(h.root, NULL);
                        assert_int_equal(read_full_file(h.extlinux_log, &args, NULL), 0);
                        assert_true(startswith(args, "--install\n"));
                        const char *dir = args + strlen("--install\n");
                        const char *rest = startswith(dir, real);
                        if (!rest || *rest != '/')
                                fail_msg("%s: extlinux --install %s: not in %s", rows[i].what, dir, real);
                        /* Its extlinux.conf is next to it. */
                        _cleanup_free_ char *conf = strprintf("%.*s/extlinux.conf", (int) strcspn(dir, "\n"), dir);
                        _cleanup_free_ char *text = NULL;
                        assert_int_equal(read_full_file(conf, &text, NULL), 0);
                        assert_non_null(strstr(text, "  LINUX /boot/vmlinuz-" KVER "\n"));
                }
                hostile_done(&h);
        }
        unsetenv("BOOT_TEST_SECRET");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_os_release),
                cmocka_unit_test(test_sdboot_files),
                cmocka_unit_test(test_sdboot_entry_matches_kernel_install),
                cmocka_unit_test(test_sdboot_errors),
                cmocka_unit_test(test_efi_parse_entries),
                cmocka_unit_test(test_nvram_needs_efivars),
                cmocka_unit_test(test_extlinux_conf),
                cmocka_unit_test(test_dispatcher),
                cmocka_unit_test(test_hostile_symlinks),
        };
        return cmocka_run_group_tests(tests, NULL, remove_tmpdirs);
}
