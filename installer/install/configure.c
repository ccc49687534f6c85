/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The installed system's configuration from the profile, one path for both
 * `installer run` (apply.c, on the freshly written target) and `installer
 * configure --root DIR` (an unpacked image): configure, files, packages,
 * locale, post-install, in that order, each a phase. */
#include "basic/log.h"
#include "basic/strutil.h"
#include "basic/url.h"
#include "install/install.h"
#include "report/report.h"
#include "target/target.h"

static int failed(Phase *ph, int r, const char *what) {
        log_error("%s: %s", what, strerror(-r));
        return report_phase_end(ph, r, NULL);
}

static int step_configure(const InstallTarget *t) {
        const Profile *p = t->profile;
        TargetConfig cfg = {
                .profile = p,
                .mounts = t->mounts,
                .n_mounts = t->n_mounts,
                .boot_mac = t->boot_mac,
                .instance_id = t->instance_id,
        };
        Phase ph;
        int r;

        report_phase_begin(&ph, "configure", "hostname %s, %zu user%s", p->hostname, p->n_users, p->n_users == 1 ? "" : "s");
        r = target_configure(t->root, &cfg);
        if (r < 0)
                return failed(&ph, r, "Configuring the installed system failed");
        return report_phase_end(&ph, 0, "%shostname, network, groups and users, machine-id, time zone/locale/keyboard/NTP/sshd "
                                "policy, first boot written", t->n_mounts > 0 ? "fstab, " : "");
}

/* After the configuration (the accounts the files belong to exist). */
static int step_files(const InstallTarget *t) {
        const Profile *p = t->profile;
        Phase ph;
        int r;

        if (p->n_files == 0)
                return 0;
        report_phase_begin(&ph, "files", "%zu file%s", p->n_files, p->n_files == 1 ? "" : "s");
        r = target_write_files(t->root, p);
        if (r < 0)
                return failed(&ph, r, "Writing the profile's files failed");
        return report_phase_end(&ph, 0, NULL);
}

static int step_packages(const InstallTarget *t) {
        const Profile *p = t->profile;
        size_t n = strv_length(p->packages);
        Phase ph;
        int r;

        if (n > 0 && !p->apt_mirror) {
                report_info("packages: %zu package%s left to the first boot (no apt mirror in the profile)", n,
                            n == 1 ? "" : "s");
                n = 0;
        }
        if (n > 0) {
                _cleanup_free_ char *safe = url_redact(p->apt_mirror);
                report_phase_begin(&ph, "packages", "%zu package%s from %s", n, n == 1 ? "" : "s", safe ?: "?");
                r = target_install_packages(t->root, p);
                if (r < 0)
                        return failed(&ph, r, "Installing packages in the target failed");
                report_phase_end(&ph, 0, NULL);
        }
        if (p->locale) {
                report_phase_begin(&ph, "locale", "%s", p->locale);
                r = target_generate_locale(t->root, p);
                if (r < 0)
                        return failed(&ph, r, "Generating the locale failed");
                report_phase_end(&ph, 0, NULL);
        }
        return 0;
}

static int step_post_install(const InstallTarget *t) {
        const Profile *p = t->profile;
        size_t n_failed = 0;
        Phase ph;
        int r;

        if (p->n_post_install == 0)
                return 0;
        report_phase_begin(&ph, "post-install", "%zu command%s in the target", p->n_post_install,
                           p->n_post_install == 1 ? "" : "s");
        r = target_run_post_install(t->root, p, &n_failed);
        if (r < 0)
                return failed(&ph, r, "A post_install command failed");
        if (n_failed > 0)
                return report_phase_end(&ph, 0, "%zu optional command%s failed", n_failed, n_failed == 1 ? "" : "s");
        return report_phase_end(&ph, 0, NULL);
}

int install_configure(const InstallTarget *t) {
        int r;

        r = step_configure(t);
        if (r < 0)
                return EXIT_INSTALL_FAILED;
        r = step_files(t);
        if (r < 0)
                return r == -EBADMSG ? EXIT_CHECKSUM : r == -EKEYREJECTED ? EXIT_SIGNATURE : EXIT_INSTALL_FAILED;
        if (!t->chroot_steps)
                return EXIT_OK;
        r = step_packages(t);
        if (r >= 0)
                r = step_post_install(t);
        return r < 0 ? EXIT_INSTALL_FAILED : EXIT_OK;
}
