/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Loading a profile: parse the YAML, walk it section by section, collect
 * every problem, and hand back either a complete Profile or the list of
 * problems. The sections live in profile-disk.c, profile-users.c and
 * profile-network.c; the walk itself in profile-check.c. */
#include <ctype.h>

#include "basic/log.h"
#include "profile/profile-internal.h"
#include "profile/url.h"

#define PROFILE_VERSION 1

/* ---- image ------------------------------------------------------------------- */

static const char *const image_format_names[] = { "tar", "tar.gz", "tar.xz", "tar.zst" };

static void parse_image_url(Checker *c, const YNode *v, void *userdata) {
        ProfileImage *img = userdata;
        const char *s = ck_scalar(c, v), *why;

        if (!s)
                return;
        why = profile_check_url(s);
        if (why) {
                /* Never print credentials, tokens in the query, or the like. */
                _cleanup_free_ char *safe = url_redact(s);
                ck_error(c, v, "invalid image URL '%s': %s", safe ? ck_quote(safe).s : "?", why);
                return;
        }
        ck_strdup(c, s, &img->url);
}

static void parse_image_sha256(Checker *c, const YNode *v, void *userdata) {
        ProfileImage *img = userdata;
        const char *s = ck_scalar(c, v), *why;

        if (!s)
                return;
        why = profile_check_sha256(s);
        if (why) {
                ck_error(c, v, "invalid sha256 '%s': %s", ck_quote(s).s, why);
                return;
        }
        if (!ck_strdup(c, s, &img->sha256))
                return;
        for (char *p = img->sha256; *p; p++)
                *p = (char) tolower((unsigned char) *p);
}

static void parse_image_format(Checker *c, const YNode *v, void *userdata) {
        ProfileImage *img = userdata;
        int i = ck_enum(c, v, "image format", image_format_names, ELEMENTSOF(image_format_names));

        if (i >= 0)
                ck_strdup(c, image_format_names[i], &img->format);
}

static const Field image_fields[] = {
        { "url", parse_image_url, true },
        { "sha256", parse_image_sha256, true },
        { "format", parse_image_format, false },
};

static void parse_image(Checker *c, const YNode *v, void *userdata) {
        ProfileImage *img = &((Profile *) userdata)->image;

        if (!ck_fields(c, v, image_fields, ELEMENTSOF(image_fields), img))
                return;
        if (img->url && !ck_value(v, "format") && !url_image_format(img->url)) {
                _cleanup_free_ char *safe = url_redact(img->url);
                ck_error_key(c, ck_value(v, "url"), "url",
                             "cannot tell the image format from '%s': name the file *.tar, *.tar.gz, *.tgz, "
                             "*.tar.xz, *.txz, *.tar.zst or *.tzst, or set image.format",
                             safe ? ck_quote(safe).s : "?");
        }
}

/* ---- top level ------------------------------------------------------------------- */

static void parse_version(Checker *c, const YNode *v, void *userdata) {
        Profile *p = userdata;
        uint64_t u;

        if (!ck_type(c, v, YNODE_SCALAR))
                return;
        if (ynode_u64(v, &u) < 0 || u != PROFILE_VERSION) {
                ck_error(c, v, "unsupported profile version '%s'; this installer reads 'version: %d'",
                         ck_quote(v->value).s, PROFILE_VERSION);
                return;
        }
        p->version = (unsigned) u;
}

static void parse_hostname(Checker *c, const YNode *v, void *userdata) {
        Profile *p = userdata;
        const char *s = ck_scalar(c, v), *why;

        if (!s)
                return;
        why = profile_check_hostname(s);
        if (why)
                ck_error(c, v, "invalid hostname '%s': %s", ck_quote(s).s, why);
        else
                ck_strdup(c, s, &p->hostname);
}

static void parse_disk(Checker *c, const YNode *v, void *userdata) {
        profile_check_disk_section(c, v, &((Profile *) userdata)->disk);
}

static void parse_users(Checker *c, const YNode *v, void *userdata) {
        profile_check_users_section(c, v, userdata);
}

static void parse_network(Checker *c, const YNode *v, void *userdata) {
        profile_check_network_section(c, v, &((Profile *) userdata)->network);
}

static void parse_firstboot(Checker *c, const YNode *v, void *userdata) {
        /* cloud-config user-data, passed through as written. */
        if (ck_type(c, v, YNODE_MAPPING))
                ((Profile *) userdata)->firstboot = (YNode *) v;
}

static const Field profile_fields[] = {
        { "version", parse_version, true },
        { "hostname", parse_hostname, true },
        { "disk", parse_disk, true },
        { "image", parse_image, true },
        { "users", parse_users, false },
        { "network", parse_network, false },
        { "firstboot", parse_firstboot, false },
};

/* Report in source order, like a compiler: stable insertion sort of the
 * errors this run added (there are few). */
static void sort_errors(ProfileErrors *e, size_t from) {
        for (size_t i = from + 1; i < e->n; i++) {
                ProfileError x = e->v[i];
                size_t j = i;

                for (; j > from && (e->v[j - 1].line > x.line ||
                                    (e->v[j - 1].line == x.line && e->v[j - 1].column > x.column)); j--)
                        e->v[j] = e->v[j - 1];
                e->v[j] = x;
        }
}

static int profile_check(Profile *p, ProfileErrors *errors) {
        static const YNode start = { .line = 1, .column = 1 };
        Checker c = { .file = p->filename, .errors = errors };
        size_t from = errors->n;
        int r;

        if (!p->doc->root)
                ck_error(&c, &start, "the profile is empty; it needs at least version, hostname, disk and image");
        else
                ck_fields(&c, p->doc->root, profile_fields, ELEMENTSOF(profile_fields), p);

        sort_errors(errors, from);
        r = c.r < 0 ? c.r : c.n_errors > 0 ? -EINVAL : 0;
        ck_done(&c);
        return r;
}

/* ---- loading ------------------------------------------------------------------------ */

/* ydoc reports "NAME:LINE:COL: MESSAGE"; keep the position apart. */
static int add_syntax_error(ProfileErrors *e, const char *name, const char *msg) {
        const char *rest = msg ? startswith(msg, name) : NULL;
        unsigned line = 0, column = 0;
        int off = 0;

        if (rest && sscanf(rest, ":%u:%u: %n", &line, &column, &off) == 2 && off > 0)
                msg = rest + off;
        else
                line = column = 0;
        return profile_errors_add(e, name, line, column, NULL, "%s", msg ?: "invalid YAML");
}

/* Takes ownership of doc. */
static int profile_from_doc(YDoc *doc, const char *name, Profile **ret, ProfileErrors *errors) {
        _cleanup_profile_ Profile *p = NULL;
        int r;

        p = new0(Profile, 1);
        if (!p) {
                ydoc_free(doc);
                return -ENOMEM;
        }
        p->doc = doc;
        p->filename = strdup(name);
        if (!p->filename)
                return -ENOMEM;

        r = profile_check(p, errors);
        if (r < 0)
                return r;
        log_debug("Profile %s: hostname %s, %zu partitions, %zu users, %zu ethernets", name, p->hostname,
                  p->disk.n_partitions, p->n_users, p->network.n_ethernets);
        *ret = TAKE_PTR(p);
        return 0;
}

static int profile_load(const char *name, const char *path, const char *data, size_t size, Profile **ret,
                        ProfileErrors *errors) {
        _cleanup_(profile_errors_done) ProfileErrors local = {};
        _cleanup_free_ char *msg = NULL;
        YDoc *doc = NULL;
        int r;

        if (!ret)
                return -EINVAL;
        if (!errors)
                errors = &local;

        r = path ? ydoc_parse_file(path, &doc, &msg) : ydoc_parse_string(name, data, size, &doc, &msg);
        if (r == -EINVAL) {
                if (add_syntax_error(errors, name, msg) < 0)
                        return -ENOMEM;
                return -EINVAL;
        }
        if (r < 0)
                return log_debug_errno(r, "Failed to read profile %s: %m", name);
        return profile_from_doc(doc, name, ret, errors);
}

int profile_load_file(const char *path, Profile **ret, ProfileErrors *errors) {
        if (!path)
                return -EINVAL;
        return profile_load(path, path, NULL, 0, ret, errors);
}

int profile_load_string(const char *name, const char *data, size_t size, Profile **ret,
                        ProfileErrors *errors) {
        if (!data)
                return -EINVAL;
        return profile_load(name ?: "profile", NULL, data, size, ret, errors);
}

void profile_free(Profile *p) {
        if (!p)
                return;
        free(p->hostname);
        profile_disk_done(&p->disk);
        free(p->image.url);
        free(p->image.sha256);
        free(p->image.format);
        profile_users_done(p->users, p->n_users);
        profile_network_done(&p->network);
        free(p->filename);
        ydoc_free(p->doc);
        free(p);
}
