/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The system sections of a profile: groups, ssh, files, packages, apt,
 * post_install, timezone, locale, keyboard and ntp. Only the form is checked
 * here (the profile is validated before anything is touched); what depends
 * on the image (does the time zone exist, does a group) is checked when the
 * target is configured. file URLs may carry credentials: messages show them
 * redacted. */
#include <ctype.h>

#include "profile/profile-internal.h"
#include "basic/url.h"

#define ID_MAX 59999u      /* Debian's UID_MAX/GID_MAX; 65534 is nobody */

/* ---- validators ------------------------------------------------------------ */

static bool chars_in(const char *s, const char *extra) {
        for (; *s; s++)
                if (!isalnum((unsigned char) *s) && !strchr(extra, *s))
                        return false;
        return true;
}

/* "Europe/Berlin", "UTC", "America/Argentina/Buenos_Aires", "Etc/GMT+5". */
static const char *check_timezone(const char *s) {
        if (!*s || strlen(s) > 64)
                return "must be 1 to 64 characters";
        if (s[0] == '/' || endswith(s, "/") || strstr(s, "//"))
                return "must be a zone name such as 'Europe/Berlin' (no leading or trailing '/')";
        if (!chars_in(s, "/_+-"))
                return "may only contain letters, digits, '/', '_', '+' and '-'";
        for (const char *p = s; *p;) {
                size_t n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return "must not contain '..'";
                if (p[0] == '-' || p[0] == '.')
                        return "a component must not start with '-' or '.'";
                p += n;
                if (*p == '/')
                        p++;
        }
        return NULL;
}

/* "C", "POSIX", "C.UTF-8", "en_US.UTF-8", "de_DE@euro", "sr_RS.UTF-8@latin". */
static const char *check_locale(const char *s) {
        const char *p = s;

        if (streq(s, "C") || streq(s, "POSIX") || streq(s, "C.UTF-8") || streq(s, "C.utf8"))
                return NULL;
        if (strlen(s) > 64)
                return "is too long";
        size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz");
        if (n < 2 || n > 3)
                return "must look like 'en_US.UTF-8' (language_TERRITORY.CODESET)";
        p += n;
        if (*p == '_') {
                p++;
                n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
                if (n < 2 || n > 3)
                        return "must look like 'en_US.UTF-8' (the territory is upper case)";
                p += n;
        }
        if (*p == '.') {
                p++;
                n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");
                if (n == 0)
                        return "has an empty codeset after '.'";
                p += n;
        }
        if (*p == '@') {
                p++;
                n = strspn(p, "abcdefghijklmnopqrstuvwxyz");
                if (n == 0)
                        return "has an empty modifier after '@'";
                p += n;
        }
        return *p ? "must look like 'en_US.UTF-8' (language_TERRITORY.CODESET@modifier)" : NULL;
}

/* XKB names and option lists: "us", "de,us", "pc105", "nodeadkeys", "grp:alt_shift_toggle,ctrl:nocaps". */
static const char *check_xkb(const char *s) {
        if (strlen(s) > 128)
                return "is too long";
        if (!chars_in(s, "_-,:()+"))
                return "may only contain letters, digits and _ - , : ( ) +";
        return NULL;
}

/* Debian package names (policy 5.6.1), optionally "=VERSION" or "/SUITE". */
static const char *check_package(const char *s) {
        size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789+.-");

        if (n < 2 || !isalnum((unsigned char) s[0]))
                return "must be a Debian package name (a-z, 0-9, '+', '-', '.'; at least 2 characters)";
        if (s[n] == 0)
                return NULL;
        if ((s[n] == '=' || s[n] == '/') && s[n + 1] && chars_in(s + n + 1, "+.~:-"))
                return NULL;
        return "must be NAME, NAME=VERSION or NAME/SUITE";
}

static const char *check_ntp_server(const char *s) {
        if (profile_check_ip(s) == NULL)
                return NULL;
        return profile_check_domain(s);
}

/* An absolute path that names the same file written any other way. */
static const char *check_file_path(const char *s) {
        const char *why = profile_check_abs_path(s);

        if (why)
                return why;
        if (streq(s, "/") || endswith(s, "/"))
                return "must name a file, not a directory";
        if (strstr(s, "//") || strstr(s, "/./") || strstr(s, "/../") || endswith(s, "/.") || endswith(s, "/.."))
                return "must be normalised (no '//', '.' or '..' components)";
        return NULL;
}

/* A user or group name, or a number. */
/* A user or group name, or a numeric id. (uid_t) -1 = 4294967295 means "no
 * change" to chown() and 65535 is (uint16_t) -1 for 16-bit interfaces: both
 * are reserved, as systemd's uid_is_valid() has it. */
static const char *check_owner(const char *s) {
        if (*s == '-' || *s == '+')
                return "must be a name or an id from 0 to 4294967294 (no sign)";
        if (*s && strspn(s, "0123456789") == strlen(s)) {
                unsigned long long id;
                errno = 0;
                id = strtoull(s, NULL, 10);
                if (errno != 0 || strlen(s) > 10 || id > 4294967294ULL)
                        return "is out of range: a numeric id is 0 to 4294967294 ((uid_t) -1 is reserved)";
                if (id == 65535)
                        return "is reserved: 65535 is (uint16_t) -1, not a usable id";
                return NULL;
        }
        return profile_check_user_name(s);
}

static const char *check_suite(const char *s) {
        if (!*s || strlen(s) > 64 || !chars_in(s, "-_.") )
                return "must be a suite or code name such as 'bookworm'";
        return NULL;
}

/* ---- groups -------------------------------------------------------------------- */

typedef struct GroupState {
        ProfileGroup *group;
} GroupState;

static void parse_group_name(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "group name", profile_check_user_name, &((GroupState *) userdata)->group->name);
}

static void parse_group_gid(Checker *c, const YNode *v, void *userdata) {
        ProfileGroup *g = ((GroupState *) userdata)->group;
        uint64_t u;

        if (ck_uint(c, v, 1, ID_MAX, &u)) {
                g->gid = (uint32_t) u;
                g->has_gid = true;
        }
}

static void parse_group_system(Checker *c, const YNode *v, void *userdata) {
        ck_bool(c, v, &((GroupState *) userdata)->group->system);
}

static const Field group_fields[] = {
        { "name", parse_group_name, true },
        { "gid", parse_group_gid, false },
        { "system", parse_group_system, false },
};

void profile_parse_groups(Checker *c, const YNode *v, void *userdata) {
        Profile *p = userdata;

        if (!ck_type(c, v, YNODE_SEQUENCE) || v->n == 0)
                return;
        p->groups = new0(ProfileGroup, v->n);
        if (!p->groups) {
                ck_oom(c);
                return;
        }
        p->n_groups = v->n;
        for (size_t i = 0; i < v->n; i++) {
                size_t mark = ck_push_index(c, i);
                GroupState gs = { .group = &p->groups[i] };
                const YNode *item = v->items[i];

                gs.group->line = item->line;
                gs.group->column = item->column;
                if (ck_fields(c, item, group_fields, ELEMENTSOF(group_fields), &gs)) {
                        for (size_t j = 0; gs.group->name && j < i; j++)
                                if (streq_ptr(p->groups[j].name, gs.group->name))
                                        ck_error_key(c, ck_value(item, "name"), "name",
                                                     "group '%s' is already defined by groups[%zu]", gs.group->name, j);
                        if (gs.group->system && gs.group->has_gid && gs.group->gid >= 1000)
                                ck_error_key(c, ck_value(item, "gid"), "gid",
                                             "a system group has a GID below 1000 (Debian's SYS_GID_MAX is 999)");
                }
                ck_pop(c, mark);
        }
}

/* ---- ssh ------------------------------------------------------------------------- */

static const char *const permit_root_login_names[] = { "no", "prohibit-password", "yes" };

static void parse_ssh_permit_root_login(Checker *c, const YNode *v, void *userdata) {
        ProfileSsh *s = userdata;
        bool b;
        int i;

        /* YAML 1.1 reads a bare no/yes as a boolean: take it as meant. */
        if (v->type == YNODE_SCALAR && ynode_bool(v, &b) >= 0) {
                s->permit_root_login = b ? PERMIT_ROOT_LOGIN_YES : PERMIT_ROOT_LOGIN_NO;
                return;
        }
        i = ck_enum(c, v, "permit_root_login value", permit_root_login_names, ELEMENTSOF(permit_root_login_names));
        if (i >= 0)
                s->permit_root_login = (PermitRootLogin) (i + 1);
}

static void parse_ssh_password_authentication(Checker *c, const YNode *v, void *userdata) {
        ProfileSsh *s = userdata;

        if (ck_bool(c, v, &s->password_authentication))
                s->has_password_authentication = true;
}

static const Field ssh_fields[] = {
        { "permit_root_login", parse_ssh_permit_root_login, false },
        { "password_authentication", parse_ssh_password_authentication, false },
};

void profile_parse_ssh(Checker *c, const YNode *v, void *userdata) {
        ck_fields(c, v, ssh_fields, ELEMENTSOF(ssh_fields), &((Profile *) userdata)->ssh);
}

/* ---- files ----------------------------------------------------------------------- */

static void parse_file_path(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "file path", check_file_path, &((ProfileFile *) userdata)->path);
}

static void parse_file_content(Checker *c, const YNode *v, void *userdata) {
        const char *s = ck_scalar(c, v);

        if (s)
                ck_strdup(c, s, &((ProfileFile *) userdata)->content);
}

static void parse_file_url(Checker *c, const YNode *v, void *userdata) {
        const char *s = ck_scalar(c, v), *why;

        if (!s)
                return;
        why = profile_check_url(s);
        if (why) {
                _cleanup_free_ char *safe = url_redact(s);
                ck_error(c, v, "invalid file URL '%s': %s", safe ? ck_quote(safe).s : "?", why);
                return;
        }
        ck_strdup(c, s, &((ProfileFile *) userdata)->url);
}

static void parse_file_sha256(Checker *c, const YNode *v, void *userdata) {
        ck_sha256(c, v, &((ProfileFile *) userdata)->sha256);
}

static void parse_file_owner(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "owner", check_owner, &((ProfileFile *) userdata)->owner);
}

static void parse_file_group(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "group", check_owner, &((ProfileFile *) userdata)->group);
}

static void parse_file_mode(Checker *c, const YNode *v, void *userdata) {
        ProfileFile *f = userdata;
        const char *s = ck_scalar(c, v);
        unsigned long m;
        char *end;

        if (!s)
                return;
        /* Always octal, as chmod reads it: "0644", "644", "0755", "1777". */
        errno = 0;
        m = strtoul(s, &end, 8);
        if (!*s || *end || errno || m > 07777 || s[0] == '-' || s[0] == '+') {
                ck_error(c, v, "invalid mode '%s': expected an octal mode such as \"0644\" (quote it)",
                         ck_quote(s).s);
                return;
        }
        f->mode = (uint32_t) m;
}

static const Field file_fields[] = {
        { "path", parse_file_path, true },
        { "content", parse_file_content, false },
        { "url", parse_file_url, false },
        { "sha256", parse_file_sha256, false },
        { "owner", parse_file_owner, false },
        { "group", parse_file_group, false },
        { "mode", parse_file_mode, false },
};

void profile_parse_files(Checker *c, const YNode *v, void *userdata) {
        Profile *p = userdata;

        if (!ck_type(c, v, YNODE_SEQUENCE) || v->n == 0)
                return;
        p->files = new0(ProfileFile, v->n);
        if (!p->files) {
                ck_oom(c);
                return;
        }
        p->n_files = v->n;
        for (size_t i = 0; i < v->n; i++) {
                size_t mark = ck_push_index(c, i);
                ProfileFile *f = &p->files[i];
                const YNode *item = v->items[i];

                f->line = item->line;
                f->column = item->column;
                f->mode = 0644;
                if (ck_fields(c, item, file_fields, ELEMENTSOF(file_fields), f)) {
                        bool content = ck_present_key(item, "content"), url = ck_present_key(item, "url");
                        if (content == url)
                                ck_error(c, item, "give either 'content' or 'url' (with 'sha256'), %s",
                                         content ? "not both" : "one of them");
                        else if (url && !ck_present_key(item, "sha256"))
                                ck_error_key(c, ck_key_node(item, "url"), "url",
                                             "a file fetched from a URL needs its 'sha256'");
                        else if (content && ck_present_key(item, "sha256"))
                                ck_error_key(c, ck_key_node(item, "sha256"), "sha256",
                                             "'sha256' goes with 'url', not with 'content'");
                        for (size_t j = 0; f->path && j < i; j++)
                                if (streq_ptr(p->files[j].path, f->path))
                                        ck_error_key(c, ck_value(item, "path"), "path",
                                                     "'%s' is already written by files[%zu]", ck_quote(f->path).s, j);
                }
                ck_pop(c, mark);
        }
}

/* ---- packages and apt --------------------------------------------------------------- */

void profile_parse_packages(Checker *c, const YNode *v, void *userdata) {
        ck_strv(c, v, "package", true, check_package, &((Profile *) userdata)->packages);
}

static void parse_apt_mirror(Checker *c, const YNode *v, void *userdata) {
        const char *s = ck_scalar(c, v), *why;

        if (!s)
                return;
        why = profile_check_url(s);
        if (!why && startswith(s, "file://"))
                why = "must be an http:// or https:// URL";
        if (!why) {
                const char *auth = strstr(s, "://") + 3;
                if (memchr(auth, '@', strcspn(auth, "/?#")))
                        why = "must not hold credentials (it is written into the target's apt sources; "
                              "put them in /etc/apt/auth.conf.d/ with files:)";
                else if (strpbrk(s, "?#"))
                        why = "must not hold a query or fragment ('?...', '#...'): the mirror is written into "
                              "the target's world-readable apt sources, and apt appends paths to it; put "
                              "credentials in /etc/apt/auth.conf.d/ with files: (mode 0600)";
        }
        if (why) {
                _cleanup_free_ char *safe = url_redact(s);
                ck_error(c, v, "invalid apt mirror '%s': %s", safe ? ck_quote(safe).s : "?", why);
                return;
        }
        ck_strdup(c, s, &((Profile *) userdata)->apt_mirror);
}

static void parse_apt_suite(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "apt suite", check_suite, &((Profile *) userdata)->apt_suite);
}

static const Field apt_fields[] = {
        { "mirror", parse_apt_mirror, true },
        { "suite", parse_apt_suite, false },
};

void profile_parse_apt(Checker *c, const YNode *v, void *userdata) {
        ck_fields(c, v, apt_fields, ELEMENTSOF(apt_fields), userdata);
}

/* ---- post_install ---------------------------------------------------------------------- */

static void parse_command_run(Checker *c, const YNode *v, void *userdata) {
        ProfileCommand *cmd = userdata;
        const char *s = ck_scalar(c, v);

        if (!s)
                return;
        if (!*s) {
                ck_error(c, v, "the command is empty");
                return;
        }
        if (strlen(s) > PROFILE_COMMAND_MAX) {
                ck_error(c, v, "the command is %zu bytes; at most %d fit in one argument of /bin/sh -c "
                         "(Linux MAX_ARG_STRLEN): put a long script into files: and run that",
                         strlen(s), PROFILE_COMMAND_MAX);
                return;
        }
        ck_strdup(c, s, &cmd->run);
}

static void parse_command_optional(Checker *c, const YNode *v, void *userdata) {
        ck_bool(c, v, &((ProfileCommand *) userdata)->optional);
}

static const Field command_fields[] = {
        { "run", parse_command_run, true },
        { "optional", parse_command_optional, false },
};

void profile_parse_post_install(Checker *c, const YNode *v, void *userdata) {
        Profile *p = userdata;

        if (!ck_type(c, v, YNODE_SEQUENCE) || v->n == 0)
                return;
        p->post_install = new0(ProfileCommand, v->n);
        if (!p->post_install) {
                ck_oom(c);
                return;
        }
        p->n_post_install = v->n;
        for (size_t i = 0; i < v->n; i++) {
                size_t mark = ck_push_index(c, i);
                ProfileCommand *cmd = &p->post_install[i];
                const YNode *item = v->items[i];

                cmd->line = item->line;
                cmd->column = item->column;
                if (item->type == YNODE_SCALAR)
                        parse_command_run(c, item, cmd);
                else if (item->type == YNODE_MAPPING)
                        ck_fields(c, item, command_fields, ELEMENTSOF(command_fields), cmd);
                else
                        ck_error(c, item, "expected a command (a string) or {run: COMMAND, optional: BOOL}, got %s",
                                 ynode_type_name(item->type));
                ck_pop(c, mark);
        }
}

/* ---- timezone, locale, keyboard, ntp ------------------------------------------------------ */

void profile_parse_timezone(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "timezone", check_timezone, &((Profile *) userdata)->timezone);
}

void profile_parse_locale(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "locale", check_locale, &((Profile *) userdata)->locale);
}

static void parse_kb_layout(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "keyboard layout", check_xkb, &((ProfileKeyboard *) userdata)->layout);
}
static void parse_kb_model(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "keyboard model", check_xkb, &((ProfileKeyboard *) userdata)->model);
}
static void parse_kb_variant(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "keyboard variant", check_xkb, &((ProfileKeyboard *) userdata)->variant);
}
static void parse_kb_options(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "keyboard options", check_xkb, &((ProfileKeyboard *) userdata)->options);
}

static const Field keyboard_fields[] = {
        { "layout", parse_kb_layout, true },
        { "model", parse_kb_model, false },
        { "variant", parse_kb_variant, false },
        { "options", parse_kb_options, false },
};

void profile_parse_keyboard(Checker *c, const YNode *v, void *userdata) {
        Profile *p = userdata;

        if (ck_fields(c, v, keyboard_fields, ELEMENTSOF(keyboard_fields), &p->keyboard))
                p->has_keyboard = true;
}

void profile_parse_ntp(Checker *c, const YNode *v, void *userdata) {
        ck_strv(c, v, "NTP server", true, check_ntp_server, &((Profile *) userdata)->ntp);
}

/* ---- bootloader ------------------------------------------------------------------------------ */

/* Added to the installed kernel's command line after the installer's own
 * "root=UUID=... ro console=tty0 console=ttyS0,115200n8": one line in
 * extlinux.conf, a BLS entry's options and /etc/kernel/cmdline. Linux takes
 * 2048 bytes on x86; the installer's part needs about 100. */
static const char *check_kernel_append(const char *s) {
        if (!*s || strlen(s) > 1024)
                return "must be 1 to 1024 characters";
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p < 0x20 || (unsigned char) *p > 0x7e)
                        return "may only contain printable ASCII characters and spaces (no newline or tab)";
        /* The kernel (lib/cmdline.c next_arg()) strips a leading '"' from an
         * argument and lets quotes hide spaces, so "root=X" sets root; an
         * initramfs shell splits /proc/cmdline at spaces whatever the quotes,
         * so x="a root=b" gives it root=b". Refuse root= wherever either
         * reading could find it: at the start or after a space or a quote. */
        for (const char *p = s; (p = strstr(p, "root=")); p++)
                if (p == s || p[-1] == ' ' || p[-1] == '"' || p[-1] == '\'')
                        return "must not set root= (also not inside quotes): the installer sets root=UUID= to "
                               "the installed root filesystem";
        return NULL;
}

static void parse_bootloader_append(Checker *c, const YNode *v, void *userdata) {
        ck_validated(c, v, "kernel arguments", check_kernel_append, &((Profile *) userdata)->kernel_append);
}

static const Field bootloader_fields[] = {
        { "append", parse_bootloader_append, false },
};

void profile_parse_bootloader(Checker *c, const YNode *v, void *userdata) {
        ck_fields(c, v, bootloader_fields, ELEMENTSOF(bootloader_fields), userdata);
}

/* ---- across sections ------------------------------------------------------------------------ */

void profile_check_system(Checker *c, const YNode *root, Profile *p) {
        /* A user name taken by a group of groups: (each user gets a private group). */
        for (size_t i = 0; i < p->n_groups; i++)
                for (size_t j = 0; p->groups[i].name && j < p->n_users; j++)
                        if (streq_ptr(p->users[j].name, p->groups[i].name) && !streq(p->groups[i].name, "root")) {
                                static const YNode unknown = {};
                                YNode at = unknown;
                                at.line = p->groups[i].line;
                                at.column = p->groups[i].column;
                                ck_error_key(c, &at, "groups", "group '%s' has the name of users[%zu]: every user "
                                             "gets a private group of its own name", p->groups[i].name, j);
                        }
        /* Packages go to the first boot without a mirror: one list only. */
        const YNode *fb = ck_value(root, "firstboot");
        if (p->packages && fb && fb->type == YNODE_MAPPING && ck_present_key(fb, "packages") && !p->apt_mirror)
                ck_error_key(c, ck_key_node(fb, "packages"), "firstboot.packages",
                             "give packages either in the top-level 'packages:' or in firstboot, not both");
}

void profile_system_done(Profile *p) {
        for (size_t i = 0; i < p->n_groups; i++)
                free(p->groups[i].name);
        free(p->groups);
        for (size_t i = 0; i < p->n_files; i++) {
                ProfileFile *f = &p->files[i];
                free(f->path);
                free(f->content);
                free(f->url);
                free(f->sha256);
                free(f->owner);
                free(f->group);
        }
        free(p->files);
        strv_free(p->packages);
        free(p->apt_mirror);
        free(p->apt_suite);
        for (size_t i = 0; i < p->n_post_install; i++)
                free(p->post_install[i].run);
        free(p->post_install);
        free(p->timezone);
        free(p->locale);
        free(p->keyboard.layout);
        free(p->keyboard.model);
        free(p->keyboard.variant);
        free(p->keyboard.options);
        strv_free(p->ntp);
        free(p->kernel_append);
}
