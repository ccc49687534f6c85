/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cloud-init, NoCloud datasource: the seed that the installed system's first
 * boot reads from /var/lib/cloud/seed/nocloud/. Only the profile's
 * firstboot: cloud-config goes there; the network and the accounts are
 * written by the installer itself, so cloud-init is told to leave the
 * network alone. */
#include "basic/log.h"
#include "target/target-internal.h"

#define SEED_DIR "/var/lib/cloud/seed/nocloud"

static const char cloud_cfg[] =
        "# Written by the installer.\n"
        "# The NoCloud seed is in " SEED_DIR "/ (meta-data, user-data).\n"
        "datasource_list: [ NoCloud, None ]\n"
        "# The network is configured by the installer in /etc/systemd/network/;\n"
        "# cloud-init must not write its own (it would add a DHCP fallback).\n"
        "network: {config: disabled}\n"
        "# The accounts are created by the installer from the profile's users:;\n"
        "# no distribution default user (users: in firstboot: still applies).\n"
        "# Not 'users: []': cloud-init 22.4's schema check rejects an empty list\n"
        "# and warns of an invalid cloud-config at every boot.\n"
        "system_info: {default_user: null}\n";

/* instance-id goes into YAML unquoted: keep it to characters that cannot
 * mean anything else there. */
static bool instance_id_is_safe(const char *s) {
        size_t n = s ? strlen(s) : 0;

        return n > 0 && n <= 128 && s[0] != '-' &&
               s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")] == 0;
}

int target_write_seed(const char *root, const Profile *p, const char *instance_id) {
        _cleanup_close_ int rootfd = -1;
        _cleanup_(target_buf_free) TargetBuf meta = {}, user = {};
        int r;

        if (!p)
                return -EINVAL;
        if (!instance_id_is_safe(instance_id))
                return log_debug_errno(-EINVAL, "seed: invalid cloud-init instance-id");
        if (p->hostname && !target_hostname_is_safe(p->hostname))
                return log_debug_errno(-EINVAL, "seed: invalid hostname");
        if (p->firstboot && p->firstboot->type != YNODE_MAPPING)
                return log_debug_errno(-EINVAL, "seed: firstboot is not a mapping");

        r = target_buf_open(&meta);
        if (r < 0)
                return r;
        fprintf(meta.f, "instance-id: %s\n", instance_id);
        if (p->hostname)
                fprintf(meta.f, "local-hostname: %s\n", p->hostname);
        r = target_buf_done(&meta);
        if (r < 0)
                return r;

        r = target_buf_open(&user);
        if (r < 0)
                return r;
        fputs("#cloud-config\n", user.f);
        bool first_boot_packages = p->packages && p->packages[0] && !p->apt_mirror;
        if (p->firstboot && p->firstboot->n > 0) {
                r = ydoc_emit(p->firstboot, user.f);
                if (r < 0)
                        return log_debug_errno(r, "seed: cannot write firstboot as YAML: %m");
        } else if (!first_boot_packages)
                fputs("{}\n", user.f);
        /* Without a mirror for the installer, packages: is installed by the
         * first boot (cloud-init updates the package lists first). The
         * profile refuses firstboot.packages next to it. */
        if (first_boot_packages) {
                fputs("packages:\n", user.f);
                for (size_t i = 0; p->packages[i]; i++) {
                        if (strpbrk(p->packages[i], " \t\n\r\"'#{}[],&*!|>%@`"))
                                return log_debug_errno(-EINVAL, "seed: invalid package name");
                        fprintf(user.f, "- %s\n", p->packages[i]);
                }
        }
        r = target_buf_done(&user);
        if (r < 0)
                return r;

        rootfd = target_root_open(root);
        if (rootfd < 0)
                return rootfd;
        r = target_write_file(rootfd, SEED_DIR "/meta-data", meta.data, meta.size, 0644, 0, 0);
        if (r < 0)
                return r;
        /* user-data may hold secrets (passwords, tokens in runcmd): root only. */
        r = target_write_file(rootfd, SEED_DIR "/user-data", user.data, user.size, 0600, 0, 0);
        if (r < 0)
                return r;
        return target_write_file(rootfd, "/etc/cloud/cloud.cfg.d/99-installer.cfg", cloud_cfg,
                                 strlen(cloud_cfg), 0644, 0, 0);
}
