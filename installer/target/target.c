/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Configuring the installed system: every step, in order. */
#include "basic/log.h"
#include "target/target-internal.h"

int target_configure(const char *root, const TargetConfig *cfg) {
        int r;

        if (!root || !cfg || !cfg->profile)
                return -EINVAL;

        r = target_write_fstab(root, cfg->mounts, cfg->n_mounts);
        if (r < 0)
                return log_debug_errno(r, "Writing /etc/fstab failed: %m");
        if (cfg->profile->hostname) {
                r = target_write_hostname(root, cfg->profile->hostname);
                if (r < 0)
                        return log_debug_errno(r, "Writing the hostname failed: %m");
        }
        r = target_write_network(root, cfg->profile, cfg->boot_mac);
        if (r < 0)
                return log_debug_errno(r, "Writing the network configuration failed: %m");
        r = target_write_users(root, cfg->profile);
        if (r < 0)
                return log_debug_errno(r, "Writing the accounts failed: %m");
        r = target_reset_machine_id(root);
        if (r < 0)
                return log_debug_errno(r, "Resetting the machine identity failed: %m");
        r = target_write_seed(root, cfg->profile, cfg->instance_id);
        if (r < 0)
                return log_debug_errno(r, "Writing the cloud-init seed failed: %m");
        r = target_write_system(root, cfg->profile);
        if (r < 0)
                return log_debug_errno(r, "Writing the time zone, locale, keyboard, NTP or sshd settings failed: %m");
        r = target_write_firstboot_unit(root, cfg->profile);
        if (r < 0)
                return log_debug_errno(r, "Writing the first-boot unit failed: %m");
        log_debug("Configured the target in %s", root);
        return 0;
}
