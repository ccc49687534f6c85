/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cmdline/cmdline.h"

#include <ctype.h>

#include "basic/fileio.h"
#include "basic/strutil.h"
#include "medium/medium.h"

char *cmdline_uri_decode(const char *s) {
        StrBuf b = {};
        for (const char *p = s; *p; p++) {
                if (*p == '%') {
                        if (!isxdigit((unsigned char) p[1]) || !isxdigit((unsigned char) p[2])) {
                                strbuf_done(&b);
                                return NULL;
                        }
                        char hex[3] = { p[1], p[2], 0 };
                        char c = (char) strtol(hex, NULL, 16);
                        if (c == 0) {
                                strbuf_done(&b);
                                return NULL;
                        }
                        if (strbuf_append_n(&b, &c, 1) < 0)
                                return NULL;
                        p += 2;
                } else if (strbuf_append_n(&b, p, 1) < 0)
                        return NULL;
        }
        return strbuf_steal(&b);
}

/* Split into words; "a b" quoting as the kernel does (quotes removed). */
static int split_words(const char *line, char ***ret) {
        _cleanup_strv_free_ char **words = NULL;
        const char *p = line;

        for (;;) {
                StrBuf w = {};
                bool quoted = false;

                while (isspace((unsigned char) *p))
                        p++;
                if (!*p)
                        break;
                for (; *p && (quoted || !isspace((unsigned char) *p)); p++) {
                        if (*p == '"') {
                                quoted = !quoted;
                                continue;
                        }
                        if (strbuf_append_n(&w, p, 1) < 0)
                                return -ENOMEM;
                }
                char *s = strbuf_steal(&w);
                if (!s || strv_push(&words, s) < 0) {
                        free(s);
                        return -ENOMEM;
                }
        }
        if (!words && !(words = new0(char *, 1)))
                return -ENOMEM;
        *ret = TAKE_PTR(words);
        return 0;
}

const char *boot_mode_to_string(BootMode m) {
        return m == BOOT_MODE_DISCOVER ? "discover" : "install";
}

static int set_url(char **field, const char *key, const char *value, char **ret_error) {
        if (!startswith(value, "http://") && !startswith(value, "https://") && !startswith(value, "file://")) {
                if (ret_error)
                        *ret_error = strprintf("%s: expected an http://, https:// or file:// URL", key);
                return -EINVAL;
        }
        return free_and_strdup(field, value);
}

int cmdline_parse(const char *line, BootParams *ret, char **ret_error) {
        _cleanup_strv_free_ char **words = NULL;
        BootParams p = { .log_level = -1 };
        int r;

        r = split_words(line, &words);
        if (r < 0)
                return r;

        for (size_t i = 0; words[i]; i++) {
                const char *w = startswith(words[i], "inst."), *v;
                const char *bootif = startswith(words[i], "BOOTIF=");
                if (bootif && !p.mac) {
                        /* pxelinux's IPAPPEND 2: BOOTIF=01-aa-bb-cc-dd-ee-ff
                         * (01 = Ethernet). inst.mac= wins when both are given. */
                        char norm[18];
                        if (strlen(bootif) == 20 && startswith(bootif, "01-") && mac_normalize(bootif + 3, norm) >= 0) {
                                r = free_and_strdup(&p.mac, norm);
                                if (r < 0)
                                        goto fail;
                        }
                        continue;
                }
                if (!w)
                        continue;
                char *eq = strchr(words[i], '=');
                _cleanup_free_ char *key = eq ? strndup(words[i], (size_t) (eq - words[i])) : strdup(words[i]);
                if (!key) {
                        r = -ENOMEM;
                        goto fail;
                }
                v = eq ? eq + 1 : NULL;

                if (streq(key, "inst.profiles") && v)
                        r = set_url(&p.profiles_url, key, v, ret_error);
                else if (streq(key, "inst.profile") && v)
                        r = set_url(&p.profile_url, key, v, ret_error);
                else if (streq(key, "inst.report") && v)
                        r = set_url(&p.report_url, key, v, ret_error);
                else if (streq(key, "inst.wait") && v) {
                        /* Asked with the report token: never a file. */
                        if (!startswith(v, "http://") && !startswith(v, "https://")) {
                                if (ret_error)
                                        *ret_error = strprintf("inst.wait: expected an http:// or https:// URL");
                                r = -EINVAL;
                        } else
                                r = free_and_strdup(&p.wait_url, v);
                } else if (streq(key, "inst.mode") && v) {
                        if (streq(v, "install"))
                                p.mode = BOOT_MODE_INSTALL;
                        else if (streq(v, "discover"))
                                p.mode = BOOT_MODE_DISCOVER;
                        else {
                                if (ret_error)
                                        *ret_error = strprintf("inst.mode: expected install or discover, not '%s'", v);
                                r = -EINVAL;
                        }
                }
                else if (streq(key, "inst.medium") && v) {
                        if (medium_spec_parse(v, NULL, NULL) < 0) {
                                if (ret_error)
                                        *ret_error = strprintf("inst.medium: expected LABEL=NAME or UUID=UUID, not '%s'", v);
                                r = -EINVAL;
                        } else
                                r = free_and_strdup(&p.medium, v);
                } else if (streq(key, "inst.report.token") && v) {
                        /* It goes into an HTTP header: printable ASCII, no blanks. */
                        bool ok = *v;
                        for (const char *c = v; *c; c++)
                                ok = ok && *c > 0x20 && *c < 0x7f;
                        if (!ok) {
                                if (ret_error) /* never the value: it is a secret */
                                        *ret_error = strprintf("inst.report.token: must be printable ASCII without blanks");
                                r = -EINVAL;
                        } else
                                r = free_and_strdup(&p.report_token, v);
                } else if (streq(key, "inst.mac") && v) {
                        char norm[18];
                        if (!*v)
                                continue; /* iPXE expands an unset variable to "" */
                        if (mac_normalize(v, norm) < 0) {
                                if (ret_error)
                                        *ret_error = strprintf("inst.mac: '%s' is not a MAC address", v);
                                r = -EINVAL;
                        } else
                                r = free_and_strdup(&p.mac, norm);
                } else if (streq(key, "inst.uuid") && v) {
                        if (!*v)
                                continue;
                        r = free_and_strdup(&p.uuid, v);
                        for (char *c = p.uuid; r >= 0 && *c; c++)
                                *c = (char) tolower((unsigned char) *c);
                } else if (streq(key, "inst.serial") && v) {
                        char *d = cmdline_uri_decode(v);
                        if (!d) {
                                if (ret_error)
                                        *ret_error = strprintf("inst.serial: malformed %%-escape");
                                r = -EINVAL;
                        } else {
                                free(p.serial);
                                p.serial = *strstrip(d) ? d : (free(d), NULL);
                        }
                } else if (streq(key, "inst.finish") && v) {
                        if (!streq(v, "reboot") && !streq(v, "poweroff") && !streq(v, "shell")) {
                                if (ret_error)
                                        *ret_error = strprintf("inst.finish: expected reboot, poweroff or shell, not '%s'", v);
                                r = -EINVAL;
                        } else
                                r = free_and_strdup(&p.finish, v);
                } else if (streq(key, "inst.loglevel") && v) {
                        r = log_level_from_string(v);
                        if (r < 0 && ret_error)
                                *ret_error = strprintf("inst.loglevel: unknown level '%s'", v);
                        else
                                p.log_level = r;
                } else if (streq(key, "inst.debug") && !v)
                        p.log_level = LOG_DEBUG;
                else if (streq(key, "inst.dryrun") && !v)
                        p.dry_run = true;
                else if (streq(key, "inst.insecure") && !v)
                        p.insecure = true;
                else
                        r = strv_extend(&p.unknown, words[i]);
                if (r < 0)
                        goto fail;
        }
        *ret = p;
        return 0;
fail:
        cmdline_done(&p);
        return r;
}

int cmdline_read(BootParams *ret, char **ret_error) {
        _cleanup_free_ char *line = NULL;
        const char *env = getenv("INSTALLER_PROC_CMDLINE");
        int r;

        if (env)
                return cmdline_parse(env, ret, ret_error);
        r = read_one_line_file("/proc/cmdline", &line);
        if (r < 0) {
                if (ret_error)
                        *ret_error = strprintf("/proc/cmdline: %s", strerror(-r));
                return r;
        }
        return cmdline_parse(line, ret, ret_error);
}

void cmdline_done(BootParams *p) {
        free(p->profiles_url);
        free(p->profile_url);
        free(p->mac);
        free(p->uuid);
        free(p->serial);
        free(p->report_url);
        free(p->medium);
        if (p->report_token)
                explicit_bzero(p->report_token, strlen(p->report_token));
        free(p->report_token);
        free(p->finish);
        free(p->wait_url);
        strv_free(p->unknown);
        *p = (BootParams) { .log_level = -1 };
}
