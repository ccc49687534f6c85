/* SPDX-License-Identifier: GPL-2.0-or-later */
/* LUKS2 volumes in the installed system: the key file of each under
 * /etc/cryptsetup-keys.d (0400 root, directory 0700) and /etc/crypttab, so
 * that systemd-cryptsetup unlocks them at boot without a prompt. */
#include <fcntl.h>
#include <unistd.h>

#include "basic/log.h"
#include "target/target-internal.h"

#define KEYS_DIR "/etc/cryptsetup-keys.d"

static bool crypttab_field_ok(const char *s) {
        if (!s || !*s)
                return false;
        for (; *s; s++)
                if ((unsigned char) *s <= ' ' || *s == 0x7f || *s == '#')
                        return false;
        return true;
}

int target_write_crypttab(const char *root, const TargetCrypt *v, size_t n) {
        _cleanup_close_ int rootfd = -1, etcfd = -1, keysfd = -1;
        _cleanup_(target_buf_free) TargetBuf b = {};
        int r;

        for (size_t i = 0; i < n; i++)
                if (!crypttab_field_ok(v[i].name) || !crypttab_field_ok(v[i].luks_uuid) || strchr(v[i].name, '/') ||
                    !v[i].key || v[i].key_size == 0)
                        return log_debug_errno(-EINVAL, "crypttab: invalid entry %zu", i);
        rootfd = target_root_open(root);
        if (rootfd < 0)
                return rootfd;
        etcfd = target_open_dir(rootfd, "/etc", CHASE_MKDIR);
        if (etcfd < 0)
                return etcfd;
        r = target_mkdir_at(etcfd, "cryptsetup-keys.d", 0700, 0, 0);
        if (r < 0)
                return r;
        keysfd = target_open_dir(rootfd, KEYS_DIR, 0);
        if (keysfd < 0)
                return keysfd;
        /* An existing directory (from the image) is made root's alone too. */
        if (fchmod(keysfd, 0700) < 0 || fchown(keysfd, 0, 0) < 0)
                return -errno;

        r = target_buf_open(&b);
        if (r < 0)
                return r;
        fprintf(b.f, "# /etc/crypttab: written by the installer. See crypttab(5).\n"
                     "# <target name>\t<source device>\t<key file>\t<options>\n");
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *key_name = strprintf("%s.key", v[i].name);
                if (!key_name)
                        return -ENOMEM;
                r = target_write_at(keysfd, key_name, v[i].key, v[i].key_size, 0400, 0, 0);
                if (r < 0)
                        return log_debug_errno(r, "Cannot write %s/%s: %m", KEYS_DIR, key_name);
                fprintf(b.f, "%s\tUUID=%s\t%s/%s\tluks\n", v[i].name, v[i].luks_uuid, KEYS_DIR, key_name);
        }
        r = target_buf_done(&b);
        if (r < 0)
                return r;
        return target_write_at(etcfd, "crypttab", b.data, b.size, 0644, 0, 0);
}
