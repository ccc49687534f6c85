/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Software RAID1 with mdadm: create the arrays of the plan, and describe
 * them for the installed system's /etc/mdadm/mdadm.conf. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/process.h"
#include "basic/strutil.h"
#include "disk/disk-internal.h"
#include "disk/disk.h"

#define MDADM "/sbin/mdadm"
#define MODPROBE "/sbin/modprobe"

int disk_load_modules(char *const modules[], char **ret_error) {
        _cleanup_free_ char *out = NULL;
        size_t n = 0;
        int r;

        for (; modules[n]; n++)
                ;
        _cleanup_free_ char **argv = new0(char *, n + 3);
        if (!argv)
                return -ENOMEM;
        argv[0] = (char *) MODPROBE;
        argv[1] = (char *) "-a";
        for (size_t i = 0; i < n; i++)
                argv[i + 2] = modules[i];
        r = process_run(argv, NULL, &out);
        if (r < 0)
                return disk_error(ret_error, r, "modprobe -a failed: %s", out && *out ? out : strerror(-r));
        return 0;
}

int disk_md_create(const char *name, const char *metadata, char *const members[], size_t n_members,
                   const char *homehost, char **ret_error) {
        _cleanup_free_ char *dev = strprintf("/dev/%s", name), *level_opt = strdup("--level=1"),
                            *meta_opt = strprintf("--metadata=%s", metadata), *n_opt = strprintf("--raid-devices=%zu", n_members),
                            *home_opt = strprintf("--homehost=%s", homehost ? homehost : "any"),
                            *name_opt = strprintf("--name=%s", name), *out = NULL;
        int r;

        if (!dev || !level_opt || !meta_opt || !n_opt || !home_opt || !name_opt || n_members == 0 || n_members > 8)
                return n_members == 0 || n_members > 8 ? -EINVAL : -ENOMEM;
        char *argv[16] = { (char *) MDADM, (char *) "--create", dev, (char *) "--run", meta_opt, level_opt, n_opt,
                           home_opt, name_opt };
        size_t k = 9;
        for (size_t i = 0; i < n_members; i++)
                argv[k++] = members[i];
        argv[k] = NULL;
        r = process_run(argv, NULL, &out);
        if (r < 0)
                return disk_error(ret_error, r, "mdadm --create %s (metadata %s) failed: %s", dev, metadata,
                                  out && *out ? out : strerror(-r));
        return 0;
}

int disk_md_conf_line(const char *name, char **ret_line, char **ret_error) {
        _cleanup_free_ char *dev = strprintf("/dev/%s", name), *out = NULL;
        int r;

        if (!dev)
                return -ENOMEM;
        char *argv[] = { (char *) MDADM, (char *) "--detail", (char *) "--brief", dev, NULL };
        r = process_run(argv, NULL, &out);
        if (r < 0)
                return disk_error(ret_error, r, "mdadm --detail --brief %s failed: %s", dev,
                                  out && *out ? out : strerror(-r));
        /* "ARRAY /dev/md0 metadata=1.2 name=host:md0 UUID=..." (one line;
         * newer mdadm may print warnings first). */
        const char *line = strstr(out, "ARRAY ");
        if (!line)
                return disk_error(ret_error, -EPROTO, "mdadm --detail --brief %s printed no ARRAY line: %s", dev, out);
        size_t len = strcspn(line, "\n");
        *ret_line = strndup(line, len);
        return *ret_line ? 0 : -ENOMEM;
}

int disk_md_stop(const char *name, char **ret_error) {
        _cleanup_free_ char *dev = strprintf("/dev/%s", name), *out = NULL;
        int r;

        if (!dev)
                return -ENOMEM;
        char *argv[] = { (char *) MDADM, (char *) "--stop", dev, NULL };
        /* Part of an unwind: runs after a signal too (basic/interrupt.h). */
        r = process_run_opts(argv, &(ProcessOptions) { .cleanup = true }, &out);
        if (r < 0)
                return disk_error(ret_error, r, "mdadm --stop %s failed: %s", dev, out && *out ? out : strerror(-r));
        return 0;
}

int disk_md_set_sync_speed_max(const char *name, const char *value) {
        _cleanup_free_ char *path = strprintf("/sys/block/%s/md/sync_speed_max", name);
        _cleanup_close_ int fd = -1;

        if (!path)
                return -ENOMEM;
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return write_all(fd, value, strlen(value));
}

int disk_md_sync_status(const char *name, char **ret) {
        _cleanup_free_ char *action = NULL, *completed = NULL, *speed = NULL, *base = strprintf("/sys/block/%s/md", name),
                            *p_action = NULL, *p_completed = NULL, *p_speed = NULL;
        unsigned long long done, total;
        int r;

        if (!base)
                return -ENOMEM;
        p_action = strprintf("%s/sync_action", base);
        p_completed = strprintf("%s/sync_completed", base);
        p_speed = strprintf("%s/sync_speed", base);
        if (!p_action || !p_completed || !p_speed)
                return -ENOMEM;
        r = read_one_line_file(p_action, &action);
        if (r < 0)
                return r;
        /* "none" when idle, else "DONE / TOTAL" in sectors. */
        if (read_one_line_file(p_completed, &completed) >= 0 && sscanf(completed, "%llu / %llu", &done, &total) == 2 &&
            total > 0) {
                (void) read_one_line_file(p_speed, &speed);
                *ret = strprintf("%s: %s %.1f%% (%llu of %llu MiB), %s KiB/s", name, action, 100.0 * (double) done / (double) total,
                                 done / 2048, total / 2048, speed ? speed : "?");
        } else if (completed && !streq(completed, "none"))
                *ret = strprintf("%s: %s %s", name, action, completed); /* "delayed": another array on the disks first */
        else
                *ret = strprintf("%s: %s", name, action);
        return *ret ? 0 : -ENOMEM;
}
