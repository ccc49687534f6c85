/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fragments: "include: [role-web.yaml, site.yaml]". Each fragment is read
 * through an include loader (files offline, URLs on a booting machine),
 * expanded the same way (its own includes are relative to it), and merged:
 * the fragments in order, then the including document on top. Merging moves
 * nodes, so every node keeps the file, line and column it was written at and
 * errors found later name the fragment. The documents stay alive in the
 * Profile because nodes point to their file names. */
#include "basic/fileio.h"
#include "basic/log.h"
#include "profile/profile-internal.h"
#include "basic/url.h"

typedef struct Includer {
        Profile *p;
        ProfileIncludeFn fn;
        void *userdata;
        Checker *c;
        /* The documents being expanded, outermost (the profile) first: a
         * fragment that is one of them would include itself. */
        const char *chain[PROFILE_INCLUDE_MAX_DEPTH + 1];
        unsigned depth;         /* of the document being expanded; the profile is 0 */
        size_t n_loads;         /* calls of the loader: bounded, whether they succeed or not */
} Includer;

static int expand(Includer *in, YNode *root, YNode **ret);

static int add_fragment(Profile *p, YDoc *doc) {
        YDoc **v = reallocarray(p->fragments, p->n_fragments + 1, sizeof(YDoc *));

        if (!v)
                return -ENOMEM;
        p->fragments = v;
        p->fragments[p->n_fragments++] = doc;
        return 0;
}

static char *chain_text(const Includer *in, const char *last) {
        StrBuf b = {};

        for (unsigned i = 0; i <= in->depth; i++)
                if (strbuf_appendf(&b, "%s -> ", in->chain[i]) < 0) {
                        strbuf_done(&b);
                        return NULL;
                }
        if (strbuf_append(&b, last) < 0) {
                strbuf_done(&b);
                return NULL;
        }
        return strbuf_steal(&b);
}

static const char *load_failure(int r) {
        switch (r) {
        case -ENOENT:
                return "not found";
        case -EPROTONOSUPPORT:
                return "cannot be included from here (a profile read from a file includes files; a fetched "
                       "profile includes relative references and http:// or https:// URLs)";
        case -EFBIG:
                return "larger than 4 MiB, the limit of a profile or fragment";
        case -EBADFD:
                return "not a regular file (a FIFO, socket or device is never read)";
        case -EISDIR:
                return "is a directory";
        case -EKEYREJECTED: /* trust/: the loader logged why */
                return "its signature was refused";
        default:
                return strerror(-r);
        }
}

/* Read, parse and expand the fragment ref (item v of the include list).
 * Returns its tree in *ret (NULL when it contributes nothing or failed: the
 * problem is then recorded), or -ENOMEM. */
static int include_one(Includer *in, const YNode *v, const char *ref, YNode **ret) {
        _cleanup_free_ char *name = NULL, *data = NULL, *shown = url_redact(ref), *msg = NULL;
        YDoc *doc = NULL;
        YNode *root;
        size_t size = 0;
        int r;

        *ret = NULL;
        if (!shown)
                return -ENOMEM;
        if (in->depth >= PROFILE_INCLUDE_MAX_DEPTH) {
                ck_error(in->c, v, "cannot include '%s': includes nest deeper than %d levels", ck_quote(shown).s,
                         PROFILE_INCLUDE_MAX_DEPTH);
                return 0;
        }
        if (in->n_loads++ >= PROFILE_INCLUDE_MAX_FILES) {
                ck_error(in->c, v, "cannot include '%s': a profile may include at most %d fragments in all",
                         ck_quote(shown).s, PROFILE_INCLUDE_MAX_FILES);
                return 0;
        }

        r = in->fn(in->chain[in->depth], ref, &name, &data, &size, in->userdata);
        if (r == -ENOMEM)
                return r;
        if (r >= 0 && !name)
                r = -EINVAL; /* a loader that does not say what it read */
        if (r < 0) {
                ck_error(in->c, v, "cannot include '%s': %s", ck_quote(shown).s, load_failure(r));
                return 0;
        }
        for (unsigned i = 0; i <= in->depth; i++)
                if (streq(in->chain[i], name)) {
                        _cleanup_free_ char *chain = chain_text(in, name);
                        if (!chain)
                                return -ENOMEM;
                        ck_error(in->c, v, "include cycle: %s", chain);
                        explicit_bzero(data, size);
                        return 0;
                }

        r = ydoc_parse_string(name, data, size, &doc, &msg);
        explicit_bzero(data, size); /* fragments may hold secrets too */
        if (r == -EINVAL) {
                if (profile_add_syntax_error(in->c->errors, name, msg) < 0)
                        return -ENOMEM;
                in->c->n_errors++;
                return 0;
        }
        if (r < 0)
                return r;
        /* From here on nodes point to doc's file name: keep doc. */
        r = add_fragment(in->p, doc);
        if (r < 0) {
                ydoc_free(doc);
                return r;
        }

        root = TAKE_PTR(doc->root);
        if (!root)
                return 0; /* an empty fragment adds nothing */
        if (root->type != YNODE_MAPPING) {
                /* No key path: this is about the whole fragment. */
                r = profile_errors_add(in->c->errors, root->file, root->line, root->column, NULL,
                                       "a fragment must be a mapping, got %s", ynode_type_name(root->type));
                ynode_free(root);
                if (r < 0)
                        return r;
                in->c->n_errors++;
                return 0;
        }

        in->chain[++in->depth] = doc->filename;
        r = expand(in, root, ret);
        in->depth--;
        return r;
}

/* Expand the includes of root (a mapping, consumed) and return the merged
 * tree in *ret (NULL after problems, which are recorded). */
static int expand(Includer *in, YNode *root, YNode **ret) {
        const YNode *v = ck_value(root, "include");
        _cleanup_free_ char *saved = NULL;
        YNode *acc = NULL;
        size_t errors_before = in->c->n_errors;
        int r = 0;

        *ret = NULL;
        if (!v) {
                ynode_remove(root, "include"); /* "include:" with no value */
                *ret = root;
                return 0;
        }

        /* Key paths are relative to the document the include list is in. */
        if (in->c->path.len > 0 && !(saved = strdup(in->c->path.data))) {
                ynode_free(root);
                return -ENOMEM;
        }
        ck_pop(in->c, 0);
        ck_push_key(in->c, "include");

        if (!in->fn)
                ck_error(in->c, ck_key_node(root, "include"),
                         "include needs a loader: this profile was not read from a file or a URL, so "
                         "there is nothing to resolve 'include' against");
        else if (v->type == YNODE_MAPPING)
                ck_error(in->c, v, "expected a list of fragments, got a mapping");
        else {
                acc = ynode_new_mapping(root->file, root->line, root->column);
                if (!acc)
                        r = -ENOMEM;
                bool list = v->type == YNODE_SEQUENCE;
                for (size_t i = 0; r >= 0 && i < (list ? v->n : 1); i++) {
                        const YNode *item = list ? v->items[i] : v;
                        size_t m2 = list ? ck_push_index(in->c, i) : in->c->path.len;
                        const char *ref = ck_scalar(in->c, item);
                        YNode *sub = NULL;

                        if (ref && !ref[0])
                                ck_error(in->c, item, "an empty name cannot be included");
                        else if (ref)
                                r = include_one(in, item, ref, &sub);
                        if (r >= 0 && sub)
                                r = ynode_merge(acc, sub);
                        ynode_free(sub);
                        ck_pop(in->c, m2);
                }
        }
        ck_pop(in->c, 0);
        if (saved && strbuf_append(&in->c->path, saved) < 0)
                r = -ENOMEM;

        if (r >= 0 && in->c->n_errors == errors_before) {
                ynode_remove(root, "include");
                r = ynode_merge(acc, root);
                if (r >= 0)
                        *ret = TAKE_PTR(acc);
        }
        ynode_free(acc);
        ynode_free(root);
        return r;
}

int profile_resolve_includes(Profile *p, ProfileIncludeFn fn, void *userdata, ProfileErrors *errors) {
        _cleanup_(ck_done) Checker c = { .file = p->filename, .errors = errors };
        Includer in = { .p = p, .fn = fn, .userdata = userdata, .c = &c, .chain = { p->filename } };
        YNode *root = p->doc->root, *merged = NULL;
        int r;

        if (!root || root->type != YNODE_MAPPING || !ck_value(root, "include"))
                return 0; /* nothing to do; the checker reports a root that is not a mapping */

        p->doc->root = NULL;
        r = expand(&in, root, &merged);
        p->doc->root = merged;
        if (r < 0)
                return r;
        if (c.r < 0)
                return c.r;
        return c.n_errors > 0 ? -EINVAL : 0;
}

/* ---- the file loader ------------------------------------------------------------------------------ */

int profile_include_file(const char *base, const char *ref, char **ret_name, char **ret_data,
                         size_t *ret_size, void *userdata) {
        const char *dir = userdata;
        _cleanup_free_ char *name = NULL, *path = NULL;
        int r;

        if (!base || !ref || !ret_name || !ret_data || !ret_size)
                return -EINVAL;
        if (url_has_scheme(ref) || url_has_scheme(base))
                return -EPROTONOSUPPORT;
        r = url_resolve(base, ref, &name);
        if (r < 0)
                return r;
        path = dir && name[0] != '/' ? strprintf("%s/%s", dir, name) : strdup(name);
        if (!path)
                return -ENOMEM;
        r = read_regular_file(path, YDOC_MAX_SIZE, ret_data, ret_size);
        if (r < 0)
                return log_debug_errno(r, "Cannot read fragment %s: %m", path);
        *ret_name = TAKE_PTR(name);
        return 0;
}
