/* SPDX-License-Identifier: GPL-2.0-or-later */
/* First boot without cloud-init: an image that has no /usr/bin/cloud-init
 * gets a systemd oneshot unit that runs the profile's first-boot commands
 * (firstboot.runcmd, and packages: when the installer could not install
 * them) once:
 *
 *   /etc/systemd/system/installer-firstboot.service   (enabled: multi-user.target.wants)
 *   /usr/local/lib/installer/firstboot.sh             (0700: the commands may hold secrets)
 *   /var/lib/installer/firstboot.pending              (the marker)
 *
 * The unit runs only while the marker exists; the script removes it (and
 * writes firstboot.done) after every command succeeded, so a first boot
 * that is interrupted or fails runs all of them again at the next boot.
 * Other firstboot: keys need cloud-init: they are reported and left out. */
#include "basic/log.h"
#include "target/target-internal.h"

#define FB_UNIT "installer-firstboot.service"
#define FB_UNIT_PATH "/etc/systemd/system/" FB_UNIT
#define FB_WANTS "/etc/systemd/system/multi-user.target.wants/" FB_UNIT
#define FB_SCRIPT "/usr/local/lib/installer/firstboot.sh"
#define FB_STATE "/var/lib/installer"
#define FB_PENDING FB_STATE "/firstboot.pending"
#define FB_DONE FB_STATE "/firstboot.done"

static const char fb_unit[] =
        "# Written by the installer: the profile's first-boot commands, for an image\n"
        "# without cloud-init. Runs at every boot until all of them succeeded once.\n"
        "[Unit]\n"
        "Description=Installer first-boot commands\n"
        "ConditionPathExists=" FB_PENDING "\n"
        "Wants=network-online.target\n"
        "After=network-online.target\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        "ExecStart=" FB_SCRIPT "\n"
        "RemainAfterExit=yes\n"
        "StandardOutput=journal+console\n"
        "StandardError=journal+console\n"
        "TimeoutStartSec=infinity\n"
        "\n"
        "[Install]\n"
        "WantedBy=multi-user.target\n";

/* 'text' with every ' written as '\'' : safe as one shell word. */
static void shell_quote(FILE *f, const char *s) {
        fputc('\'', f);
        for (; *s; s++)
                if (*s == '\'')
                        fputs("'\\''", f);
                else
                        fputc(*s, f);
        fputc('\'', f);
}

static int write_command(FILE *f, const YNode *cmd, size_t i) {
        fprintf(f, "echo 'installer-firstboot: command %zu'\n", i);
        if (cmd->type == YNODE_SCALAR) {
                /* A string: run by sh, as cloud-init's runcmd does. */
                fputs("/bin/sh -c ", f);
                shell_quote(f, cmd->value);
                fputc('\n', f);
                return 0;
        }
        if (cmd->type != YNODE_SEQUENCE || cmd->n == 0)
                return -EINVAL;
        /* A list: argv, no shell. */
        for (size_t j = 0; j < cmd->n; j++) {
                if (cmd->items[j]->type != YNODE_SCALAR)
                        return -EINVAL;
                if (j > 0)
                        fputc(' ', f);
                shell_quote(f, cmd->items[j]->value);
        }
        fputc('\n', f);
        return 0;
}

int target_write_firstboot_unit(const char *root, const Profile *p) {
        _cleanup_(target_buf_free) TargetBuf b = {};
        _cleanup_close_ int rootfd = -1;
        const YNode *runcmd = NULL;
        bool packages = p && p->packages && p->packages[0] && !p->apt_mirror;
        int r;

        if (!p)
                return -EINVAL;
        rootfd = target_root_open(root);
        if (rootfd < 0)
                return rootfd;
        r = target_exists(rootfd, "/usr/bin/cloud-init");
        if (r < 0 && r != -ENOENT)
                return r;
        if (r > 0)
                return 0; /* cloud-init reads the NoCloud seed */

        if (p->firstboot)
                for (size_t i = 0; i < p->firstboot->n; i++) {
                        const char *key = p->firstboot->keys[i]->value;
                        if (streq(key, "runcmd"))
                                runcmd = p->firstboot->items[i];
                        else
                                log_warning("The target image has no cloud-init: firstboot.%s is not applied "
                                            "(only runcmd is, by " FB_UNIT ")", key);
                }
        if (runcmd && runcmd->type != YNODE_SEQUENCE)
                return log_error_errno(-EINVAL, "firstboot.runcmd must be a list");
        if ((!runcmd || runcmd->n == 0) && !packages)
                return 0;

        r = target_buf_open(&b);
        if (r < 0)
                return r;
        fputs("#!/bin/sh\n"
              "# Written by the installer from the profile (firstboot.runcmd, packages:).\n"
              "# Run by " FB_UNIT " while " FB_PENDING " exists;\n"
              "# the marker goes only when every command succeeded.\n"
              "set -e\n"
              "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n", b.f);
        if (packages) {
                fputs("export DEBIAN_FRONTEND=noninteractive\n"
                      "echo 'installer-firstboot: installing packages'\n"
                      "apt-get -q update\n"
                      "apt-get -q -y install", b.f);
                for (size_t i = 0; p->packages[i]; i++) {
                        fputc(' ', b.f);
                        shell_quote(b.f, p->packages[i]);
                }
                fputc('\n', b.f);
        }
        for (size_t i = 0; runcmd && i < runcmd->n; i++) {
                r = write_command(b.f, runcmd->items[i], i);
                if (r < 0)
                        return log_error_errno(r, "firstboot.runcmd[%zu] must be a string or a list of strings", i);
        }
        fputs("rm -f " FB_PENDING "\n"
              "date -u +%Y-%m-%dT%H:%M:%SZ > " FB_DONE "\n"
              "echo 'installer-firstboot: done'\n", b.f);
        r = target_buf_done(&b);
        if (r < 0)
                return r;

        r = target_write_file(rootfd, FB_SCRIPT, b.data, b.size, 0700, 0, 0);
        if (r >= 0)
                r = target_write_file(rootfd, FB_UNIT_PATH, fb_unit, strlen(fb_unit), 0644, 0, 0);
        if (r >= 0)
                r = target_symlink(rootfd, FB_WANTS, FB_UNIT_PATH);
        if (r >= 0)
                r = target_write_file(rootfd, FB_PENDING, "", 0, 0644, 0, 0);
        if (r < 0)
                return r;
        log_debug("firstboot: no cloud-init in the target; " FB_UNIT " runs %zu command%s", runcmd ? runcmd->n : 0,
                  runcmd && runcmd->n == 1 ? "" : "s");
        return 0;
}
