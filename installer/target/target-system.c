/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Time zone, locale, keyboard, NTP servers and the sshd policy, written the
 * way Debian 12 keeps them:
 *   /etc/localtime -> /usr/share/zoneinfo/ZONE, /etc/timezone    (tzdata)
 *   /etc/default/locale, /etc/locale.gen                          (locales)
 *   /etc/default/keyboard                                        (keyboard-configuration,
 *                                                                 read by systemd-localed too)
 *   /etc/systemd/timesyncd.conf.d/50-installer.conf              (systemd-timesyncd)
 *   /etc/ssh/sshd_config.d/50-installer.conf                     (Debian's sshd_config
 *                                                                 includes sshd_config.d/ first)
 * Debian has no /etc/vconsole.conf: console-setup reads /etc/default/keyboard. */
#include "basic/log.h"
#include "target/target-internal.h"

#define ZONEINFO "/usr/share/zoneinfo"
#define SSHD_DROPIN "/etc/ssh/sshd_config.d/50-installer.conf"
#define TIMESYNCD_DROPIN "/etc/systemd/timesyncd.conf.d/50-installer.conf"

/* Values go into shell-style files inside double quotes: nothing that could
 * end the quotes or the line. The profile checked the form already. */
static bool is_value_safe(const char *s) {
        for (; s && *s; s++)
                if (*s == '"' || *s == '\\' || *s == '$' || *s == '`' || (unsigned char) *s < ' ' || *s == 0x7f)
                        return false;
        return true;
}

static int write_timezone(int rootfd, const char *tz) {
        _cleanup_free_ char *zone = NULL, *data = NULL;
        struct stat st;
        int r;

        if (!is_value_safe(tz) || strstr(tz, "..") || tz[0] == '/')
                return log_debug_errno(-EINVAL, "system: invalid time zone");
        zone = strprintf(ZONEINFO "/%s", tz);
        if (!zone)
                return -ENOMEM;
        r = target_exists(rootfd, zone);
        if (r < 0 && r != -ENOENT && r != -ENOTDIR)
                return r;
        if (r <= 0 || target_lstat(rootfd, zone, &st) < 0 || S_ISDIR(st.st_mode))
                return log_error_errno(-ENOENT, "Time zone '%s' is not in the target image (no zone file %s; is "
                                       "tzdata installed?)", tz, zone);
        r = target_symlink(rootfd, "/etc/localtime", zone);
        if (r < 0)
                return r;
        data = strprintf("%s\n", tz);
        if (!data)
                return -ENOMEM;
        r = target_write_file(rootfd, "/etc/timezone", data, strlen(data), 0644, 0, 0);
        if (r >= 0)
                log_debug("system: time zone %s", tz);
        return r;
}

static bool locale_is_builtin(const char *l) {
        return streq(l, "C") || streq(l, "POSIX") || streq(l, "C.UTF-8") || streq(l, "C.utf8");
}

/* The charmap of a locale name as locale.gen wants it: "en_US.UTF-8" ->
 * "UTF-8"; without a codeset, glibc's default for the language is ISO-8859-1. */
static const char *locale_charmap(const char *l) {
        const char *dot = strchr(l, '.');
        static char buf[64];

        if (!dot)
                return "ISO-8859-1";
        snprintf(buf, sizeof buf, "%.*s", (int) strcspn(dot + 1, "@"), dot + 1);
        return buf;
}

/* Make sure "LOCALE CHARMAP" is an active line of /etc/locale.gen; the
 * programs step runs locale-gen. Returns 1 if locale-gen is needed. */
static int enable_locale(int rootfd, const char *locale) {
        _cleanup_free_ char *data = NULL, *want = NULL;
        _cleanup_(strbuf_done) StrBuf out = {};
        struct stat st = {};
        bool found = false;
        int r;

        want = strprintf("%s %s", locale, locale_charmap(locale));
        if (!want)
                return -ENOMEM;
        r = target_read_file(rootfd, "/etc/locale.gen", &data, &st);
        if (r == -ENOENT)
                return log_error_errno(-ENOENT, "Locale '%s' needs the locales package in the target image "
                                       "(/etc/locale.gen is missing)", locale);
        if (r < 0)
                return r;
        for (char *p = data; *p;) {
                size_t n = strcspn(p, "\n");
                _cleanup_free_ char *line = strndup(p, n);
                const char *l;

                if (!line)
                        return -ENOMEM;
                l = line;
                if (startswith(l, "# "))
                        l += 2;
                if (streq(l, want)) {
                        found = true;
                        l = want;
                } else
                        l = line;
                if (strbuf_append(&out, l) < 0 || strbuf_append(&out, "\n") < 0)
                        return -ENOMEM;
                p += n;
                if (*p)
                        p++;
        }
        if (!found && (strbuf_append(&out, want) < 0 || strbuf_append(&out, "\n") < 0))
                return -ENOMEM;
        r = target_write_file(rootfd, "/etc/locale.gen", out.data, out.len, st.st_mode & 07777 ?: 0644, 0, 0);
        return r < 0 ? r : 1;
}

static int write_locale(int rootfd, const char *locale) {
        _cleanup_free_ char *data = NULL;
        int r;

        if (!is_value_safe(locale) || strchr(locale, ' ') || strchr(locale, '/'))
                return log_debug_errno(-EINVAL, "system: invalid locale");
        if (!locale_is_builtin(locale)) {
                r = enable_locale(rootfd, locale);
                if (r < 0)
                        return r;
        }
        data = strprintf("# Written by the installer from the profile (locale:).\nLANG=%s\n", locale);
        if (!data)
                return -ENOMEM;
        return target_write_file(rootfd, "/etc/default/locale", data, strlen(data), 0644, 0, 0);
}

static int write_keyboard(int rootfd, const ProfileKeyboard *k) {
        _cleanup_free_ char *data = NULL;

        if (!is_value_safe(k->layout) || !is_value_safe(k->model) || !is_value_safe(k->variant) ||
            !is_value_safe(k->options))
                return log_debug_errno(-EINVAL, "system: invalid keyboard setting");
        data = strprintf("# KEYBOARD CONFIGURATION FILE\n"
                         "# Written by the installer from the profile (keyboard:); see keyboard(5).\n\n"
                         "XKBMODEL=\"%s\"\nXKBLAYOUT=\"%s\"\nXKBVARIANT=\"%s\"\nXKBOPTIONS=\"%s\"\n\n"
                         "BACKSPACE=\"guess\"\n",
                         k->model ?: "pc105", k->layout ?: "us", k->variant ?: "", k->options ?: "");
        if (!data)
                return -ENOMEM;
        return target_write_file(rootfd, "/etc/default/keyboard", data, strlen(data), 0644, 0, 0);
}

static int write_ntp(int rootfd, char *const *servers) {
        _cleanup_(target_buf_free) TargetBuf b = {};
        int r;

        r = target_buf_open(&b);
        if (r < 0)
                return r;
        fputs("# Written by the installer from the profile (ntp:).\n[Time]\nNTP=", b.f);
        for (size_t i = 0; servers[i]; i++) {
                if (!*servers[i] || strpbrk(servers[i], " \t\n\r#;"))
                        return log_debug_errno(-EINVAL, "system: invalid NTP server");
                fprintf(b.f, "%s%s", i > 0 ? " " : "", servers[i]);
        }
        fputs("\n", b.f);
        r = target_buf_done(&b);
        if (r < 0)
                return r;
        return target_write_file(rootfd, TIMESYNCD_DROPIN, b.data, b.size, 0644, 0, 0);
}

static int write_sshd(int rootfd, const ProfileSsh *s) {
        static const char *const prl[] = {
                [PERMIT_ROOT_LOGIN_NO] = "no",
                [PERMIT_ROOT_LOGIN_PROHIBIT_PASSWORD] = "prohibit-password",
                [PERMIT_ROOT_LOGIN_YES] = "yes",
        };
        _cleanup_(target_buf_free) TargetBuf b = {};
        int r;

        if (s->permit_root_login == PERMIT_ROOT_LOGIN_UNSET && !s->has_password_authentication)
                return 0;
        if ((unsigned) s->permit_root_login >= ELEMENTSOF(prl))
                return -EINVAL;
        r = target_buf_open(&b);
        if (r < 0)
                return r;
        fputs("# Written by the installer from the profile (ssh:).\n"
              "# sshd takes the first value it reads: this file must sort before other drop-ins.\n", b.f);
        if (s->permit_root_login != PERMIT_ROOT_LOGIN_UNSET)
                fprintf(b.f, "PermitRootLogin %s\n", prl[s->permit_root_login]);
        if (s->has_password_authentication) {
                fprintf(b.f, "PasswordAuthentication %s\n", s->password_authentication ? "yes" : "no");
                /* Otherwise PAM asks for the password through keyboard-interactive. */
                if (!s->password_authentication)
                        fputs("KbdInteractiveAuthentication no\n", b.f);
        }
        r = target_buf_done(&b);
        if (r < 0)
                return r;
        return target_write_file(rootfd, SSHD_DROPIN, b.data, b.size, 0644, 0, 0);
}

int target_write_system(const char *root, const Profile *p) {
        _cleanup_close_ int rootfd = -1;
        int r;

        if (!p)
                return -EINVAL;
        rootfd = target_root_open(root);
        if (rootfd < 0)
                return rootfd;
        if (p->timezone) {
                r = write_timezone(rootfd, p->timezone);
                if (r < 0)
                        return r;
        }
        if (p->locale) {
                r = write_locale(rootfd, p->locale);
                if (r < 0)
                        return r;
        }
        if (p->has_keyboard) {
                r = write_keyboard(rootfd, &p->keyboard);
                if (r < 0)
                        return r;
        }
        if (p->ntp && p->ntp[0]) {
                r = write_ntp(rootfd, p->ntp);
                if (r < 0)
                        return r;
        }
        return write_sshd(rootfd, &p->ssh);
}
