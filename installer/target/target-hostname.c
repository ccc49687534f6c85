/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /etc/hostname and /etc/hosts, the Debian way: the short name in
 * /etc/hostname, and 127.0.1.1 for the name so that "hostname --fqdn" works
 * without DNS. */
#include "basic/log.h"
#include "target/target-internal.h"

bool target_hostname_is_safe(const char *s) {
        size_t n = s ? strlen(s) : 0;

        return n > 0 && n <= 253 && s[0] != '.' && s[0] != '-' && s[n - 1] != '.' &&
               s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.")] == 0;
}

int target_write_hostname(const char *root, const char *hostname) {
        _cleanup_close_ int rootfd = -1;
        _cleanup_free_ char *shortname = NULL, *hostname_file = NULL;
        _cleanup_(target_buf_free) TargetBuf hosts = {};
        int r;

        if (!target_hostname_is_safe(hostname))
                return log_debug_errno(-EINVAL, "Refusing to write an invalid hostname");
        shortname = strndup(hostname, strcspn(hostname, "."));
        hostname_file = strprintf("%s\n", shortname ?: "");
        if (!shortname || !hostname_file)
                return -ENOMEM;

        r = target_buf_open(&hosts);
        if (r < 0)
                return r;
        fputs("# Written by the installer.\n"
              "127.0.0.1\tlocalhost\n",
              hosts.f);
        if (streq(shortname, hostname))
                fprintf(hosts.f, "127.0.1.1\t%s\n", hostname);
        else
                fprintf(hosts.f, "127.0.1.1\t%s %s\n", hostname, shortname);
        fputs("\n"
              "# The following lines are desirable for IPv6 capable hosts\n"
              "::1\t\tlocalhost ip6-localhost ip6-loopback\n"
              "ff02::1\t\tip6-allnodes\n"
              "ff02::2\t\tip6-allrouters\n",
              hosts.f);
        r = target_buf_done(&hosts);
        if (r < 0)
                return r;

        rootfd = target_root_open(root);
        if (rootfd < 0)
                return rootfd;
        r = target_write_file(rootfd, "/etc/hostname", hostname_file, strlen(hostname_file), 0644, 0, 0);
        if (r < 0)
                return r;
        return target_write_file(rootfd, "/etc/hosts", hosts.data, hosts.size, 0644, 0, 0);
}
