/* SPDX-License-Identifier: GPL-2.0-or-later */
/* UEFI boot of the installed system: systemd-boot on the EFI system
 * partition, laid out as the image's own kernel-install lays it out (Boot
 * Loader Specification, type 1 entries, layout "bls"):
 *
 *   ESP/EFI/systemd/systemd-bootx64.efi     the boot manager (NVRAM entry)
 *   ESP/EFI/BOOT/BOOTX64.EFI                the same, at the removable-media path
 *   ESP/loader/loader.conf                  menu timeout, default entry
 *   ESP/loader/entries.srel                 "type1": kernel-install picks layout=bls
 *   ESP/loader/entries/TOKEN-VERSION.conf   the entry
 *   ESP/TOKEN/VERSION/linux                 the kernel
 *   ESP/TOKEN/VERSION/initrd.img-VERSION    its initrd
 *
 * and in the target what keeps it current when the kernel or its initramfs
 * changes: /etc/kernel/{cmdline,entry-token,install.conf} for kernel-install,
 * and hooks in /etc/kernel/postinst.d, /etc/kernel/postrm.d and
 * /etc/initramfs/post-update.d that run it. FAT stores no modes: files on the
 * ESP are never chmod()ed. */
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "basic/fileio.h"
#include "basic/process.h"
#include "basic/strutil.h"
#include "boot/boot-internal.h"
#include "target/target-fs.h"

#define EFIVARFS_MAGIC 0xde5e81e4
#define DEFAULT_SDBOOT_EFI "/usr/lib/systemd/boot/efi/systemd-bootx64.efi"
#define DEFAULT_EFIBOOTMGR "/usr/bin/efibootmgr"
#define DEFAULT_EFIVARS "/sys/firmware/efi/efivars"
#define HOOK_NAME "zz-installer-systemd-boot"

/* ---- os-release -------------------------------------------------------------- */

/* One os-release value: unquoted, or in "..." (with \ escapes) or '...'. */
static char *os_release_value(const char *v) {
        size_t n = strlen(v);
        char *out, *o;

        while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
                n--;
        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
                char q = v[0];
                out = o = malloc(n);
                if (!out)
                        return NULL;
                for (size_t i = 1; i < n - 1; i++) {
                        if (q == '"' && v[i] == '\\' && i + 1 < n - 1)
                                i++;
                        *o++ = v[i];
                }
                *o = 0;
                return out;
        }
        return strndup(v, n);
}

static char *entry_token_from(const char *id) {
        StrBuf b = {};

        for (const char *p = id; p && *p; p++)
                if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                    strchr("._-", *p))
                        if (strbuf_append_n(&b, p, 1) < 0) {
                                strbuf_done(&b);
                                return NULL;
                        }
        if (b.len == 0 || streq(b.data, ".") || streq(b.data, "..")) {
                strbuf_done(&b);
                return strdup("linux");
        }
        return strbuf_steal(&b);
}

/* Larger than this, it is not an os-release. */
#define OS_RELEASE_MAX (64 * 1024)

static int read_os_release_file(int rootfd, const char *path, char **ret) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        fd = target_open_file(rootfd, path, 0, &st);
        if (fd < 0)
                return fd;
        if (st.st_size > OS_RELEASE_MAX)
                return -EFBIG;
        return read_full_fd(fd, ret, NULL);
}

int boot_read_os_release(const char *root, BootOsRelease *ret) {
        _cleanup_free_ char *text = NULL, *id = NULL, *image_id = NULL, *pretty = NULL;
        _cleanup_close_ int rootfd = -1;
        char *save = NULL;
        int r;

        rootfd = target_root_open(root);
        if (rootfd < 0)
                return rootfd;
        /* /etc/os-release is usually a link to ../usr/lib/os-release,
         * followed within the target. */
        r = read_os_release_file(rootfd, "/etc/os-release", &text);
        if (r < 0 && r != -ENOMEM && r != -EFBIG)
                r = read_os_release_file(rootfd, "/usr/lib/os-release", &text);
        if (r < 0 && r != -ENOENT)
                return r;
        for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
                const char *v;
                char **dst = (v = startswith(line, "ID=")) ? &id :
                             (v = startswith(line, "IMAGE_ID=")) ? &image_id :
                             (v = startswith(line, "PRETTY_NAME=")) ? &pretty : NULL;
                if (!dst)
                        continue;
                free(*dst);
                *dst = os_release_value(v);
                if (!*dst)
                        return -ENOMEM;
        }
        *ret = (BootOsRelease) {
                .token = entry_token_from(image_id && *image_id ? image_id : id),
                .pretty_name = pretty && *pretty ? TAKE_PTR(pretty) : NULL,
        };
        if (!ret->token) {
                boot_os_release_done(ret);
                return -ENOMEM;
        }
        return 0;
}

void boot_os_release_done(BootOsRelease *o) {
        free(o->token);
        free(o->pretty_name);
        *o = (BootOsRelease) {};
}

/* ---- the entry and the files ----------------------------------------------------- */

char *boot_sdboot_entry(const BootOsRelease *os, const char *version, const char *options) {
        _cleanup_free_ char *title = os->pretty_name ? strdup(os->pretty_name) : strprintf("Linux %s", version);

        if (!title)
                return NULL;
        /* Field for field what 90-loaderentry.install writes (systemd 252),
         * with the sort key from ID as it takes it. */
        return strprintf("title      %s\n"
                         "version    %s\n"
                         "sort-key   %s\n"
                         "options    %s\n"
                         "linux      /%s/%s/linux\n"
                         "initrd     /%s/%s/initrd.img-%s\n",
                         title, version, os->token, options, os->token, version, os->token, version, version);
}

/* ESP/rel, with text or (src >= 0) a copy of the file src, named from in
 * messages. The ESP's directory fd is its root: nothing on it is a
 * symlink, nothing made there is chmod()ed (FAT). */
static int esp_put(int espfd, const char *esp, const char *rel, const char *text, int src, const char *from,
                   char **ret_error) {
        _cleanup_close_ int dirfd = -1;
        _cleanup_free_ char *name = NULL;
        int r;

        r = target_chase(espfd, rel, CHASE_MKDIR | CHASE_NO_SYMLINKS | CHASE_NO_CHMOD, &dirfd, &name);
        if (r >= 0)
                r = src >= 0 ? target_copy_fd_at(dirfd, name, src, TARGET_MODE_KEEP, 0, 0)
                             : target_write_at(dirfd, name, text, strlen(text), TARGET_MODE_KEEP, 0, 0);
        if (r < 0)
                *ret_error = strprintf("cannot write %s%s%s%s: %s%s", esp, rel, from ? " from " : "", from ? from : "",
                                       strerror(-r), r == -ELOOP ? " (a symlink on the EFI system partition)" : "");
        return r;
}

/* A file of the target: /etc/kernel/..., owned by the installer (root). */
static int target_put(int rootfd, const char *root, const char *path, const char *text, mode_t mode,
                      char **ret_error) {
        int r = target_write_file(rootfd, path, text, strlen(text), mode, geteuid(), getegid());
        if (r < 0)
                *ret_error = strprintf("cannot write %s in %s: %s", path, root, strerror(-r));
        return r;
}

/* The hooks: each runs the image's kernel-install, which finds BOOT_ROOT,
 * layout and entry token in /etc/kernel/ and writes the same files as the
 * installer. Without kernel-install, or with the ESP not mounted, they say
 * so and leave the ESP as it is (the kernel there still boots). */
static char *hook_script(const char *esp, const char *what, const char *body) {
        return strprintf("#!/bin/sh\n"
                         "# Written by the installer: %s\n"
                         "# keeps systemd-boot's entries on the EFI system partition (%s) current\n"
                         "# through kernel-install (see /etc/kernel/install.conf).\n"
                         "set -e\n"
                         "if ! command -v kernel-install >/dev/null 2>&1; then\n"
                         "\techo \"" HOOK_NAME ": no kernel-install: %s not updated\" >&2\n"
                         "\texit 0\n"
                         "fi\n"
                         "if ! mountpoint -q %s; then\n"
                         "\techo \"" HOOK_NAME ": %s is not mounted: the EFI system partition was not updated\" >&2\n"
                         "\texit 0\n"
                         "fi\n"
                         "%s",
                         what, esp, esp, esp, esp, body);
}

static int write_target_config(const BootConfig *c, int rootfd, const BootOsRelease *os, const char *options,
                               char **ret_error) {
        static const struct {
                const char *path, *what, *body;
        } hooks[] = {
                { "/etc/kernel/postinst.d/" HOOK_NAME, "run by the kernel package after it is installed,",
                  "version=$1\n"
                  "image=${2:-/boot/vmlinuz-$version}\n"
                  "initrd=/boot/initrd.img-$version\n"
                  "# Without an initrd yet, update-initramfs' post-update hook adds the entry.\n"
                  "[ -f \"$initrd\" ] || exit 0\n"
                  "exec kernel-install add \"$version\" \"$image\" \"$initrd\"\n" },
                { "/etc/kernel/postrm.d/" HOOK_NAME, "run by the kernel package after it is removed,",
                  "exec kernel-install remove \"$1\"\n" },
                { "/etc/initramfs/post-update.d/" HOOK_NAME, "run by update-initramfs after it wrote an initrd,",
                  "version=$1\n"
                  "initrd=${2:-/boot/initrd.img-$version}\n"
                  "[ -f \"/boot/vmlinuz-$version\" ] || exit 0\n"
                  "exec kernel-install add \"$version\" \"/boot/vmlinuz-$version\" \"$initrd\"\n" },
        };
        _cleanup_free_ char *cmdline = strprintf("%s\n", options), *token = strprintf("%s\n", os->token);
        _cleanup_free_ char *conf = strprintf("# Written by the installer: where kernel-install puts kernels\n"
                                              "# (the EFI system partition) and how (Boot Loader Specification).\n"
                                              "layout=bls\n"
                                              "BOOT_ROOT=%s\n",
                                              c->esp);
        int r;

        if (!cmdline || !token || !conf)
                return -ENOMEM;
        r = target_put(rootfd, c->root, "/etc/kernel/cmdline", cmdline, 0644, ret_error);
        if (r >= 0)
                r = target_put(rootfd, c->root, "/etc/kernel/entry-token", token, 0644, ret_error);
        if (r >= 0)
                r = target_put(rootfd, c->root, "/etc/kernel/install.conf", conf, 0644, ret_error);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(hooks); i++) {
                _cleanup_free_ char *script = hook_script(c->esp, hooks[i].what, hooks[i].body);
                if (!script)
                        return -ENOMEM;
                r = target_put(rootfd, c->root, hooks[i].path, script, 0755, ret_error);
        }
        return r;
}

int boot_install_sdboot(const BootConfig *c, char **ret_error) {
        _cleanup_free_ char *kernel = NULL, *initrd = NULL, *options = boot_kernel_options(c);
        _cleanup_free_ char *entry = NULL, *loader = NULL, *kernel_src = NULL, *initrd_src = NULL;
        _cleanup_free_ char *k = NULL, *i = NULL, *entry_path = NULL;
        _cleanup_close_ int rootfd = -1, espfd = -1, efifd = -1, kernelfd = -1, initrdfd = -1;
        const char *efi = c->sdboot_efi ? c->sdboot_efi : DEFAULT_SDBOOT_EFI, *version;
        BootOsRelease os = {};
        int r;

        if (!options)
                return -ENOMEM;
        /* Everything read and opened before the first write. */
        efifd = open(efi, O_RDONLY | O_CLOEXEC);
        if (efifd < 0) {
                r = -errno;
                *ret_error = strprintf("%s: %s (package systemd-boot-efi)", efi, strerror(errno));
                return r;
        }
        rootfd = target_root_open(c->root);
        if (rootfd < 0) {
                *ret_error = strprintf("cannot open the target %s: %s", c->root, strerror(-rootfd));
                return rootfd;
        }
        r = boot_find_kernel_at(rootfd, &kernel, &initrd, &kernelfd, &initrdfd);
        if (r < 0) {
                *ret_error = strprintf("no kernel with an initrd in %s/boot: the image is not bootable", c->root);
                return r;
        }
        version = kernel + strlen("vmlinuz-");
        /* The mount point of the ESP: no symlink on the way, or the files
         * would land elsewhere in the target, not on the ESP. */
        espfd = target_open_dir(rootfd, c->esp, CHASE_NO_SYMLINKS);
        if (espfd < 0) {
                *ret_error = strprintf("cannot open the EFI system partition at %s in %s: %s%s", c->esp, c->root,
                                       strerror(-espfd), espfd == -ELOOP ? " (a symlink on the way)" : "");
                return espfd;
        }
        r = boot_read_os_release(c->root, &os);
        if (r < 0) {
                *ret_error = strprintf("cannot read the image's os-release: %s", strerror(-r));
                return r;
        }
        entry = boot_sdboot_entry(&os, version, options);
        loader = strprintf("# Written by the installer (loader.conf(5)). The newest kernel boots\n"
                           "# after 3 s; any key shows the menu.\n"
                           "timeout 3\n"
                           "default %s-*\n"
                           "editor no\n",
                           os.token);
        kernel_src = strprintf("/boot/%s", kernel);
        initrd_src = strprintf("/boot/%s", initrd);
        k = strprintf("/%s/%s/linux", os.token, version);
        i = strprintf("/%s/%s/%s", os.token, version, initrd);
        entry_path = strprintf("/loader/entries/%s-%s.conf", os.token, version);
        if (!entry || !loader || !kernel_src || !initrd_src || !k || !i || !entry_path) {
                r = -ENOMEM;
                goto out;
        }

        /* The kernel and initrd first, the entry, then the boot manager:
         * an ESP without systemd-boot does not boot. */
        r = esp_put(espfd, c->esp, k, NULL, kernelfd, kernel_src, ret_error);
        if (r >= 0)
                r = esp_put(espfd, c->esp, i, NULL, initrdfd, initrd_src, ret_error);
        if (r >= 0)
                r = esp_put(espfd, c->esp, entry_path, entry, -1, NULL, ret_error);
        if (r >= 0)
                r = esp_put(espfd, c->esp, "/loader/entries.srel", "type1\n", -1, NULL, ret_error);
        if (r >= 0)
                r = esp_put(espfd, c->esp, "/loader/loader.conf", loader, -1, NULL, ret_error);
        if (r >= 0)
                r = write_target_config(c, rootfd, &os, options, ret_error);
        /* UEFI ignores the install-in-progress mark: the boot manager is
         * what makes the disk bootable, so everything else (the target's
         * filesystems, the ESP so far) is on the disk before it. */
        if (r >= 0)
                sync();
        if (r >= 0)
                r = esp_put(espfd, c->esp, BOOT_SDBOOT_PATH, NULL, efifd, efi, ret_error);
        if (r >= 0)
                r = esp_put(espfd, c->esp, BOOT_REMOVABLE_PATH, NULL, efifd, efi, ret_error);
        if (r >= 0)
                sync();
out:
        boot_os_release_done(&os);
        return r;
}

/* ---- the NVRAM entry ------------------------------------------------------------ */

bool boot_efivars_available(const char *path) {
        struct statfs sf;

        path = path ? path : DEFAULT_EFIVARS;
        return statfs(path, &sf) == 0 && (unsigned long) sf.f_type == EFIVARFS_MAGIC && access(path, W_OK) == 0;
}

int boot_efi_parse_entries(const char *output, const char *label, char ***ret_ids) {
        _cleanup_strv_free_ char **ids = NULL;
        size_t n = strlen(label);

        /* "Boot0003* Linux Boot Manager" (active) or "Boot0003  ..." (not),
         * followed by a tab and the device path with -v or newer versions. */
        for (const char *l = output; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                const char *num = startswith(l, "Boot");
                if (!num || strspn(num, "0123456789ABCDEFabcdef") != 4 || (num[4] != '*' && num[4] != ' ') ||
                    num[5] != ' ')
                        continue;
                const char *name = num + 6;
                if (strncmp(name, label, n) != 0 || (name[n] && !strchr("\t\r\n", name[n])))
                        continue;
                _cleanup_free_ char *id = strndup(num, 4);
                if (!id || strv_push(&ids, TAKE_PTR(id)) < 0)
                        return -ENOMEM;
        }
        if (!ids) {
                ids = new0(char *, 1);
                if (!ids)
                        return -ENOMEM;
        }
        *ret_ids = TAKE_PTR(ids);
        return 0;
}

static int efibootmgr(const BootConfig *c, char **ret_output, char **ret_error, ...) {
        char *argv[16] = { (char *) (c->efibootmgr ? c->efibootmgr : DEFAULT_EFIBOOTMGR) };
        _cleanup_free_ char *out = NULL;
        size_t n = 1;
        va_list ap;
        int r;

        va_start(ap, ret_error);
        for (char *a; n < ELEMENTSOF(argv) - 1 && (a = va_arg(ap, char *)); n++)
                argv[n] = a;
        va_end(ap);
        r = process_run(argv, NULL, &out);
        if (r < 0) {
                StrBuf cmd = {};
                for (size_t i = 0; i < n; i++)
                        (void) strbuf_appendf(&cmd, "%s%s", i ? " " : "", argv[i]);
                *ret_error = strprintf("%s failed: %s", cmd.data ? cmd.data : "efibootmgr",
                                       out && *out ? strstrip(out) : strerror(-r));
                strbuf_done(&cmd);
                return r;
        }
        if (ret_output)
                *ret_output = TAKE_PTR(out);
        return 0;
}

int boot_efi_nvram_entry(const BootConfig *c, char **ret_entry, char **ret_error) {
        _cleanup_free_ char *list = NULL, *after = NULL;
        _cleanup_strv_free_ char **old = NULL, **now = NULL;
        char part[16];
        int r;

        if (!boot_efivars_available(c->efivars)) {
                *ret_error = strprintf("no writable EFI variables at %s (the installer did not boot with UEFI)",
                                       c->efivars ? c->efivars : DEFAULT_EFIVARS);
                return -EOPNOTSUPP;
        }
        r = efibootmgr(c, &list, ret_error, NULL);
        if (r < 0)
                return r;
        r = boot_efi_parse_entries(list, BOOT_EFI_LABEL, &old);
        if (r < 0)
                return r;
        /* Entries of earlier installs point to ESPs that are gone. */
        for (size_t i = 0; old[i]; i++) {
                r = efibootmgr(c, NULL, ret_error, "-q", "-b", old[i], "-B", NULL);
                if (r < 0)
                        return r;
        }
        snprintf(part, sizeof part, "%u", c->esp_partition);
        r = efibootmgr(c, NULL, ret_error, "-q", "--create", "--disk", c->disk, "--part", part, "--loader",
                       BOOT_EFI_LOADER, "--label", BOOT_EFI_LABEL, NULL);
        if (r < 0)
                return r;
        r = efibootmgr(c, &after, ret_error, NULL);
        if (r < 0)
                return r;
        r = boot_efi_parse_entries(after, BOOT_EFI_LABEL, &now);
        if (r < 0)
                return r;
        if (strv_length(now) != 1) {
                *ret_error = strprintf("efibootmgr shows %zu entries labelled '%s' after creating one",
                                       strv_length(now), BOOT_EFI_LABEL);
                return -EIO;
        }
        *ret_entry = strprintf("Boot%s", now[0]);
        return *ret_entry ? 0 : -ENOMEM;
}
