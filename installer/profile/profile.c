/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Loading a profile: parse the YAML, walk it section by section, collect
 * every problem, and hand back either a complete Profile or the list of
 * problems. The sections live in profile-disk.c, profile-users.c and
 * profile-network.c; the walk itself in profile-check.c. */
#include <ctype.h>

#include "basic/log.h"
#include "profile/profile-internal.h"
#include "basic/url.h"

#define PROFILE_VERSION 1

/* ---- image ------------------------------------------------------------------- */

static const char *const image_format_names[] = { "tar", "tar.gz", "tar.xz", "tar.zst" };

/* An absolute URL, or a reference relative to the document that holds it
 * (RFC 3986, like include:), resolved by profile_image_resolve_url() once
 * that document's URL is known. */
static void parse_url_or_reference(Checker *c, const YNode *v, const char *what, char **ret_url,
                                   char **ret_document) {
        const char *s = ck_scalar(c, v), *why;

        if (!s)
                return;
        why = url_has_scheme(s) ? profile_check_url(s) : profile_check_url_reference(s);
        if (why) {
                /* Never print credentials, tokens in the query, or the like. */
                _cleanup_free_ char *safe = url_redact(s);
                ck_error(c, v, "invalid %s URL '%s': %s", what, safe ? ck_quote(safe).s : "?", why);
                return;
        }
        if (ck_strdup(c, s, ret_url) && v->file)
                ck_strdup(c, v->file, ret_document);
}

static void parse_image_url(Checker *c, const YNode *v, void *userdata) {
        ProfileImage *img = userdata;
        parse_url_or_reference(c, v, "image", &img->url, &img->url_document);
}

static void parse_image_manifest(Checker *c, const YNode *v, void *userdata) {
        ProfileImage *img = userdata;
        parse_url_or_reference(c, v, "image manifest", &img->manifest, &img->manifest_document);
}

static void parse_image_sha256(Checker *c, const YNode *v, void *userdata) {
        ck_sha256(c, v, &((ProfileImage *) userdata)->sha256);
}

static void parse_image_format(Checker *c, const YNode *v, void *userdata) {
        ProfileImage *img = userdata;
        int i = ck_enum(c, v, "image format", image_format_names, ELEMENTSOF(image_format_names));

        if (i >= 0)
                ck_strdup(c, image_format_names[i], &img->format);
}

static void parse_image_insecure_no_checksum(Checker *c, const YNode *v, void *userdata) {
        ck_bool(c, v, &((ProfileImage *) userdata)->insecure_no_checksum);
}

static void parse_image(Checker *c, const YNode *v, void *userdata) {
        ProfileImage *img = &((Profile *) userdata)->image;
        const YNode *insecure = ck_value(v, "insecure_no_checksum");
        bool skip = false;

        /* sha256 is required unless the profile explicitly gives up the
         * check, or names a manifest (which gives the sha256). */
        if (insecure)
                (void) ynode_bool(insecure, &skip);
        if (ck_value(v, "manifest"))
                skip = true;
        const Field image_fields[] = {
                { "url", parse_image_url, true },
                { "sha256", parse_image_sha256, !skip },
                { "manifest", parse_image_manifest, false },
                { "format", parse_image_format, false },
                { "insecure_no_checksum", parse_image_insecure_no_checksum, false },
        };

        if (!ck_fields(c, v, image_fields, ELEMENTSOF(image_fields), img))
                return;
        if (img->insecure_no_checksum && ck_value(v, "sha256"))
                ck_error_key(c, ck_key_node(v, "insecure_no_checksum"), "insecure_no_checksum",
                             "'insecure_no_checksum: true' and a sha256 exclude each other: with a sha256 "
                             "the image is always verified; remove one of them");
        if (img->insecure_no_checksum && ck_value(v, "manifest"))
                ck_error_key(c, ck_key_node(v, "insecure_no_checksum"), "insecure_no_checksum",
                             "'insecure_no_checksum: true' and a manifest exclude each other: with a manifest "
                             "every chunk of the image is verified; remove one of them");
        if (img->url && !ck_value(v, "format") && !url_image_format(img->url)) {
                _cleanup_free_ char *safe = url_redact(img->url);
                ck_error_key(c, ck_value(v, "url"), "url",
                             "cannot tell the image format from '%s': name the file *.tar, *.tar.gz, *.tgz, "
                             "*.tar.xz, *.txz, *.tar.zst or *.tzst, or set image.format",
                             safe ? ck_quote(safe).s : "?");
        }
}

bool profile_image_url_is_relative(const Profile *p) {
        return p && p->image.url && !url_has_scheme(p->image.url);
}

bool profile_image_manifest_is_relative(const Profile *p) {
        return p && p->image.manifest && !url_has_scheme(p->image.manifest);
}

static int resolve_reference(char **url, const char *document_url) {
        _cleanup_free_ char *abs = NULL;
        int r;

        if (!*url || url_has_scheme(*url))
                return 0;
        if (!document_url)
                return -EINVAL;
        r = url_resolve(document_url, *url, &abs);
        if (r < 0)
                return r;
        /* Against a URL: the result must be one the installer can fetch. A
         * file path (installer plan --profile FILE) stays a path. */
        if (url_has_scheme(abs) && profile_check_url(abs))
                return -EINVAL;
        free(*url);
        *url = TAKE_PTR(abs);
        return 0;
}

int profile_image_resolve_url(Profile *p, const char *document_url) {
        return resolve_reference(&p->image.url, document_url);
}

int profile_image_resolve_manifest(Profile *p, const char *document_url) {
        return resolve_reference(&p->image.manifest, document_url);
}

/* ---- report ------------------------------------------------------------------- */

static void parse_report_url(Checker *c, const YNode *v, void *userdata) {
        ProfileReport *rep = userdata;
        const char *s = ck_scalar(c, v), *why;

        if (!s)
                return;
        why = profile_check_url(s);
        if (!why && !startswith(s, "http://") && !startswith(s, "https://"))
                why = "events are sent over http:// or https:// only";
        if (why) {
                _cleanup_free_ char *safe = url_redact(s);
                ck_error(c, v, "invalid report URL '%s': %s", safe ? ck_quote(safe).s : "?", why);
                return;
        }
        ck_strdup(c, s, &rep->url);
}

static void parse_report_token(Checker *c, const YNode *v, void *userdata) {
        ProfileReport *rep = userdata;
        const char *s = ck_scalar(c, v);
        bool ok;

        if (!s)
                return;
        /* It goes into an HTTP header. Never quote it: it is a secret. */
        ok = *s;
        for (const char *p = s; *p; p++)
                ok = ok && *p > 0x20 && *p < 0x7f;
        if (!ok) {
                ck_error(c, v, "invalid report token: must be printable ASCII without blanks (not shown: it is a secret)");
                return;
        }
        ck_strdup(c, s, &rep->token);
}

static void parse_report(Checker *c, const YNode *v, void *userdata) {
        static const Field report_fields[] = {
                { "url", parse_report_url, true },
                { "token", parse_report_token, false },
        };
        ck_fields(c, v, report_fields, ELEMENTSOF(report_fields), &((Profile *) userdata)->report);
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

static void parse_raid(Checker *c, const YNode *v, void *userdata) {
        profile_check_raid_section(c, v, userdata);
}

static void parse_lvm(Checker *c, const YNode *v, void *userdata) {
        profile_check_lvm_section(c, v, userdata);
}

static void parse_users(Checker *c, const YNode *v, void *userdata) {
        profile_check_users_section(c, v, userdata);
}

static void parse_network(Checker *c, const YNode *v, void *userdata) {
        profile_check_network_section(c, v, &((Profile *) userdata)->network);
}

static void parse_match(Checker *c, const YNode *v, void *userdata) {
        profile_check_match_section(c, v, &((Profile *) userdata)->match);
}

static void parse_include(Checker *c, const YNode *v, void *userdata) {
        /* Resolved before the check (profile-include.c); never reached with a value. */
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
        { "match", parse_match, false },
        { "include", parse_include, false },
        { "groups", profile_parse_groups, false },
        { "ssh", profile_parse_ssh, false },
        { "files", profile_parse_files, false },
        { "packages", profile_parse_packages, false },
        { "apt", profile_parse_apt, false },
        { "post_install", profile_parse_post_install, false },
        { "timezone", profile_parse_timezone, false },
        { "locale", profile_parse_locale, false },
        { "keyboard", profile_parse_keyboard, false },
        { "ntp", profile_parse_ntp, false },
        { "bootloader", profile_parse_bootloader, false },
        { "report", parse_report, false },
        { "raid", parse_raid, false },
        { "lvm", parse_lvm, false },
        { "timeouts", profile_parse_timeouts, false },
        { "fetch", profile_parse_fetch, false },
        { "tls", profile_parse_tls, false },
};

/* Files in the order they were read: the profile, then its fragments. */
static size_t file_rank(const Profile *p, const char *file) {
        for (size_t i = 0; file && i < p->n_fragments; i++)
                if (streq(p->fragments[i]->filename, file))
                        return i + 1;
        return 0;
}

static bool error_before(const Profile *p, const ProfileError *a, const ProfileError *b) {
        size_t fa = file_rank(p, a->file), fb = file_rank(p, b->file);

        if (fa != fb)
                return fa < fb;
        return a->line < b->line || (a->line == b->line && a->column < b->column);
}

/* Report in source order, like a compiler: stable insertion sort of the
 * errors this run added (there are few), by file, line and column. */
static void sort_errors(const Profile *p, ProfileErrors *e, size_t from) {
        for (size_t i = from + 1; i < e->n; i++) {
                ProfileError x = e->v[i];
                size_t j = i;

                for (; j > from && error_before(p, &x, &e->v[j - 1]); j--)
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
        else if (ck_fields(&c, p->doc->root, profile_fields, ELEMENTSOF(profile_fields), p)) {
                profile_check_system(&c, p->doc->root, p);
                profile_check_storage(&c, p->doc->root, p);
        }

        sort_errors(p, errors, from);
        r = c.r < 0 ? c.r : c.n_errors > 0 ? -EINVAL : 0;
        ck_done(&c);
        return r;
}

/* ---- loading ------------------------------------------------------------------------ */

int profile_add_syntax_error(ProfileErrors *e, const char *name, const char *msg) {
        const char *rest = msg ? startswith(msg, name) : NULL;
        unsigned line = 0, column = 0;
        int off = 0;

        if (rest && sscanf(rest, ":%u:%u: %n", &line, &column, &off) == 2 && off > 0)
                msg = rest + off;
        else {
                line = column = 0;
                if (rest && startswith(rest, ": "))
                        msg = rest + 2; /* "NAME: ..." without a position (the size) */
        }
        return profile_errors_add(e, name, line, column, NULL, "%s", msg ?: "invalid YAML");
}

/* Takes ownership of doc. */
static int profile_from_doc(YDoc *doc, const char *name, ProfileIncludeFn fn, void *userdata, Profile **ret,
                            ProfileErrors *errors) {
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

        /* Problems with the fragments themselves (missing, a cycle, bad
         * YAML) leave no complete document to check. */
        size_t from = errors->n;
        r = profile_resolve_includes(p, fn, userdata, errors);
        sort_errors(p, errors, from);
        if (r < 0)
                return r;
        r = profile_check(p, errors);
        if (r < 0)
                return r;
        if (p->n_fragments > 0)
                log_debug("Profile %s: %zu fragment%s merged", name, p->n_fragments, p->n_fragments == 1 ? "" : "s");
        log_debug("Profile %s: hostname %s, %zu partitions, %zu users, %zu network interfaces", name,
                  p->hostname, p->disk.n_partitions, p->n_users, p->network.n_interfaces);
        *ret = TAKE_PTR(p);
        return 0;
}

static int profile_load(const char *name, const char *path, const char *data, size_t size, ProfileIncludeFn fn,
                        void *userdata, Profile **ret, ProfileErrors *errors) {
        _cleanup_(profile_errors_done) ProfileErrors local = {};
        _cleanup_free_ char *msg = NULL;
        YDoc *doc = NULL;
        int r;

        if (!ret)
                return -EINVAL;
        if (!errors)
                errors = &local;

        r = path ? ydoc_parse_file(path, &doc, &msg) : ydoc_parse_string(name, data, size, &doc, &msg);
        /* Not a regular file, or too large: a problem of the profile given. */
        if (r == -EINVAL || r == -EFBIG || r == -EBADFD || r == -EISDIR) {
                if (profile_add_syntax_error(errors, name, msg) < 0)
                        return -ENOMEM;
                return -EINVAL;
        }
        if (r < 0)
                return log_debug_errno(r, "Failed to read profile %s: %m", name);
        return profile_from_doc(doc, name, fn, userdata, ret, errors);
}

int profile_load_file(const char *path, Profile **ret, ProfileErrors *errors) {
        if (!path)
                return -EINVAL;
        return profile_load(path, path, NULL, 0, profile_include_file, NULL, ret, errors);
}

int profile_load_string(const char *name, const char *data, size_t size, Profile **ret,
                        ProfileErrors *errors) {
        return profile_load_string_full(name, data, size, NULL, NULL, ret, errors);
}

int profile_load_string_full(const char *name, const char *data, size_t size, ProfileIncludeFn fn,
                             void *userdata, Profile **ret, ProfileErrors *errors) {
        if (!data)
                return -EINVAL;
        return profile_load(name ?: "profile", NULL, data, size, fn, userdata, ret, errors);
}

void profile_free(Profile *p) {
        if (!p)
                return;
        free(p->hostname);
        profile_disk_done(&p->disk);
        profile_storage_done(p);
        free(p->image.url);
        free(p->image.url_document);
        free(p->image.sha256);
        free(p->image.format);
        free(p->image.manifest);
        free(p->image.manifest_document);
        profile_users_done(p->users, p->n_users);
        profile_network_done(&p->network);
        profile_match_done(&p->match);
        profile_system_done(p);
        free(p->report.url);
        if (p->report.token)
                explicit_bzero(p->report.token, strlen(p->report.token));
        free(p->report.token);
        profile_tls_done(&p->tls);
        free(p->filename);
        /* The merged tree points to the fragments' file names: free it first. */
        ydoc_free(p->doc);
        for (size_t i = 0; i < p->n_fragments; i++)
                ydoc_free(p->fragments[i]);
        free(p->fragments);
        free(p);
}
