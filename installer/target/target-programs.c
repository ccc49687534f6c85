/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Programs in the target, run in a chroot of it (target_chroot_run: /proc,
 * /sys, /dev mounted for the duration): packages from the profile's apt
 * mirror, locale-gen for the profile's locale, and the post_install
 * commands. Every line of their output is logged as it arrives. */
#include "basic/url.h"
#include "basic/log.h"
#include "target/target-internal.h"

#define POLICY_RC_D "/usr/sbin/policy-rc.d"
#define APT_LIST "/etc/apt/sources.list.d/installer.list"

typedef struct LineLog {
        const char *what;
} LineLog;

static void log_line(const char *line, void *userdata) {
        const LineLog *l = userdata;
        log_info("%s: %s", l->what, line);
}

/* timeout_s: 0 for the default of the program's kind (basic/process.h). */
static int run_logged(const char *root, const char *what, unsigned timeout_s, char *const argv[]) {
        LineLog l = { .what = what };

        return target_chroot_run_timeout(root, argv, timeout_s, log_line, &l, NULL);
}

/* VERSION_CODENAME= of the target's /etc/os-release. */
static int target_codename(int rootfd, char **ret) {
        _cleanup_free_ char *data = NULL;
        int r;

        r = target_read_file(rootfd, "/etc/os-release", &data, NULL);
        if (r == -ENOENT)
                r = target_read_file(rootfd, "/usr/lib/os-release", &data, NULL);
        if (r < 0)
                return r;
        for (char *l = data; l && *l;) {
                const char *v = startswith(l, "VERSION_CODENAME=");
                if (v) {
                        size_t n = strcspn(v, "\n");
                        if (*v == '"' && n >= 2)
                                v++, n -= 2;
                        if (n == 0)
                                break;
                        *ret = strndup(v, n);
                        return *ret ? 0 : -ENOMEM;
                }
                l = strchr(l, '\n');
                if (l)
                        l++;
        }
        return -ENODATA;
}

static int install_packages(const char *root, int rootfd, const Profile *p) {
        _cleanup_free_ char *suite = NULL, *list = NULL, *safe_mirror = url_redact(p->apt_mirror);
        char **argv = NULL;
        bool policy_created = false;
        size_t n = 0;
        int r;

        if (p->apt_suite)
                suite = strdup(p->apt_suite);
        else if ((r = target_codename(rootfd, &suite)) < 0)
                return log_error_errno(r, "Cannot tell the target's release for apt (no VERSION_CODENAME in "
                                       "/etc/os-release); set apt.suite");
        if (!suite || !safe_mirror)
                return -ENOMEM;
        if (strpbrk(p->apt_mirror, " \t\n\r") || strpbrk(suite, " \t\n\r"))
                return -EINVAL;
        /* The list is world-readable: validation refuses credentials and a
         * query in the mirror; never write one that slipped through. */
        if (url_has_credentials(p->apt_mirror) || strpbrk(p->apt_mirror, "?#"))
                return log_error_errno(-EINVAL, "The apt mirror %s holds credentials or a query; they do not "
                                       "belong in the world-readable %s", safe_mirror, APT_LIST);
        list = strprintf("# Written by the installer from the profile (apt: mirror).\ndeb %s %s main\n", p->apt_mirror,
                         suite);
        if (!list)
                return -ENOMEM;
        r = target_write_file(rootfd, APT_LIST, list, strlen(list), 0644, 0, 0);
        if (r < 0)
                return r;
        /* No service may start in the chroot. */
        r = target_exists(rootfd, POLICY_RC_D);
        if (r == 0) {
                static const char policy[] = "#!/bin/sh\n# Written by the installer for the time it installs packages.\nexit 101\n";
                r = target_write_file(rootfd, POLICY_RC_D, policy, strlen(policy), 0755, 0, 0);
                policy_created = r >= 0;
        }
        if (r < 0)
                return r;

        /* Only the installer's mirror: the image's own sources may be
         * unreachable from here. --error-on=any: a mirror that cannot be
         * read is an error here, not a warning (apt 2.1.16 and later). */
        char *const update[] = { "/usr/bin/apt-get", "-q", "-o", "Dir::Etc::SourceList=" APT_LIST, "-o",
                                 "Dir::Etc::SourceParts=-", "update", "--error-on=any", NULL };
        r = run_logged(root, "apt-get update", p->timeout_packages_s, update);
        if (r < 0) {
                log_error_errno(r, "apt-get update in the target failed (mirror %s, suite %s)", safe_mirror, suite);
                goto out;
        }
        static const char *const head[] = { "/usr/bin/apt-get", "-q", "-y", "-o", ("Dir::Etc::SourceList=" APT_LIST),
                                            "-o", "Dir::Etc::SourceParts=-", "install" };
        argv = new0(char *, ELEMENTSOF(head) + strv_length(p->packages) + 1);
        if (!argv) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < ELEMENTSOF(head); i++)
                argv[n++] = (char *) head[i];
        for (size_t i = 0; p->packages[i]; i++)
                argv[n++] = p->packages[i];
        r = run_logged(root, "apt-get install", p->timeout_packages_s, argv);
        if (r < 0)
                log_error_errno(r, "apt-get install in the target failed");
        free(argv);
        if (r >= 0) {
                char *const clean[] = { "/usr/bin/apt-get", "-q", "clean", NULL };
                (void) run_logged(root, "apt-get clean", p->timeout_packages_s, clean);
        }
out:
        if (policy_created)
                (void) target_unlink(rootfd, POLICY_RC_D);
        return r;
}

int target_install_packages(const char *root, const Profile *p) {
        _cleanup_close_ int rootfd = -1;

        if (!p)
                return -EINVAL;
        if (!p->packages || !p->packages[0] || !p->apt_mirror)
                return 0; /* none, or the first boot installs them (target_write_seed) */
        rootfd = target_root_open(root);
        if (rootfd < 0)
                return rootfd;
        return install_packages(root, rootfd, p);
}

int target_generate_locale(const char *root, const Profile *p) {
        _cleanup_close_ int rootfd = -1;
        int r;

        if (!p || !p->locale || streq(p->locale, "C") || streq(p->locale, "POSIX") || startswith(p->locale, "C."))
                return 0;
        rootfd = target_root_open(root);
        if (rootfd < 0)
                return rootfd;
        r = target_exists(rootfd, "/usr/sbin/locale-gen");
        if (r <= 0)
                return r < 0 ? r : log_error_errno(-ENOENT, "Locale %s: the target image has no locale-gen "
                                                   "(the locales package)", p->locale);
        char *const argv[] = { "/usr/sbin/locale-gen", NULL };
        r = run_logged(root, "locale-gen", 0, argv);
        if (r < 0)
                return log_error_errno(r, "locale-gen in the target failed");
        return 0;
}

int target_run_post_install(const char *root, const Profile *p, size_t *ret_failed_optional) {
        size_t failed = 0;
        int r;

        if (!p)
                return -EINVAL;
        for (size_t i = 0; i < p->n_post_install; i++) {
                const ProfileCommand *c = &p->post_install[i];
                char what[48];

                if (!c->run)
                        return -EINVAL;
                snprintf(what, sizeof what, "post_install[%zu]", i);
                char *const argv[] = { "/bin/sh", "-c", c->run, NULL };
                r = run_logged(root, what, p->timeout_post_install_s, argv);
                if (r == -EPROTO || r == -ENOENT || r == -EINTR || r == -ETIME) {
                        if (c->optional) {
                                log_warning("%s failed (%s); it is optional, the install goes on", what,
                                            r == -EPROTO ? "non-zero exit" : r == -ENOENT ? "cannot run /bin/sh" :
                                            r == -ETIME ? "timed out" : "killed");
                                failed++;
                                continue;
                        }
                        return log_error_errno(r, "%s (line %u of the profile) failed: %s", what, c->line,
                                               r == -EPROTO ? "non-zero exit status" : r == -ENOENT ? "no /bin/sh in the target" :
                                               r == -ETIME ? "timed out (timeouts: post_install)" : "killed by a signal");
                }
                if (r == -ECANCELED)
                        return log_error_errno(r, "%s (line %u of the profile) stopped: the installer caught a signal",
                                               what, c->line);
                if (r < 0)
                        return log_error_errno(r, "%s: cannot run it in the target: %m", what);
        }
        if (ret_failed_optional)
                *ret_failed_optional = failed;
        return 0;
}
