/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Emitting a YNode tree as YAML, e.g. the profile's firstboot: mapping as
 * cloud-init user-data. libyaml chooses the layout; we only say which
 * scalars must not be plain, so that the document means the same when read
 * back. */
#include <yaml.h>

#include "ydoc/ydoc.h"

typedef struct Emitter {
        yaml_emitter_t e;
        int r; /* first error */
} Emitter;

static int emit_event(Emitter *em, yaml_event_t *ev, int init_ok) {
        if (!init_ok)
                return em->r = -ENOMEM;
        /* yaml_emitter_emit() takes ownership of the event, also on failure. */
        if (!yaml_emitter_emit(&em->e, ev)) {
                switch (em->e.error) {
                case YAML_MEMORY_ERROR:
                        em->r = -ENOMEM;
                        break;
                case YAML_WRITER_ERROR:
                        em->r = -EIO;
                        break;
                default:
                        em->r = -EINVAL;
                }
                return em->r;
        }
        return 0;
}

static int emit_scalar(Emitter *em, const YNode *n) {
        yaml_event_t ev;
        const char *value = n->value;
        yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
        bool plain = n->plain;

        if (plain && !*value)
                value = "null"; /* an empty plain scalar is null; libyaml would quote it in flow context */
        else if (!plain && strchr(value, '\n'))
                style = YAML_LITERAL_SCALAR_STYLE; /* falls back to double quotes where a block cannot go */

        /* plain_implicit=0 makes libyaml quote the scalar: it must not be
         * re-resolved as a bool, a number or null. */
        return emit_event(em, &ev,
                          yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *) value, (int) strlen(value),
                                                       plain, !plain, style));
}

static int emit_node(Emitter *em, const YNode *n, unsigned depth) {
        yaml_event_t ev;
        int r;

        if (!n || depth > YDOC_MAX_DEPTH)
                return em->r = -EINVAL;

        switch (n->type) {
        case YNODE_SCALAR:
                return emit_scalar(em, n);

        case YNODE_SEQUENCE:
                r = emit_event(em, &ev, yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_ANY_SEQUENCE_STYLE));
                for (size_t i = 0; r >= 0 && i < n->n; i++)
                        r = emit_node(em, n->items[i], depth + 1);
                if (r >= 0)
                        r = emit_event(em, &ev, yaml_sequence_end_event_initialize(&ev));
                return r;

        case YNODE_MAPPING:
                r = emit_event(em, &ev, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_ANY_MAPPING_STYLE));
                for (size_t i = 0; r >= 0 && i < n->n; i++) {
                        if (!n->keys[i] || n->keys[i]->type != YNODE_SCALAR)
                                return em->r = -EINVAL;
                        r = emit_node(em, n->keys[i], depth + 1);
                        if (r >= 0)
                                r = emit_node(em, n->items[i], depth + 1);
                }
                if (r >= 0)
                        r = emit_event(em, &ev, yaml_mapping_end_event_initialize(&ev));
                return r;
        }
        return em->r = -EINVAL;
}

int ydoc_emit(const YNode *n, FILE *f) {
        Emitter em = {};
        yaml_event_t ev;
        int r;

        if (!n || !f)
                return -EINVAL;
        if (!yaml_emitter_initialize(&em.e))
                return -ENOMEM;
        yaml_emitter_set_output_file(&em.e, f);
        yaml_emitter_set_encoding(&em.e, YAML_UTF8_ENCODING);
        yaml_emitter_set_unicode(&em.e, 1);  /* UTF-8 as is, not \u escapes */
        yaml_emitter_set_width(&em.e, -1);   /* never fold long lines (SSH keys, commands) */
        yaml_emitter_set_indent(&em.e, 2);

        r = emit_event(&em, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
        if (r >= 0)
                r = emit_event(&em, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
        if (r >= 0)
                r = emit_node(&em, n, 0);
        if (r >= 0)
                r = emit_event(&em, &ev, yaml_document_end_event_initialize(&ev, 1));
        if (r >= 0)
                r = emit_event(&em, &ev, yaml_stream_end_event_initialize(&ev));
        if (r >= 0 && !yaml_emitter_flush(&em.e))
                r = -EIO;
        yaml_emitter_delete(&em.e);
        if (r >= 0 && (fflush(f) != 0 || ferror(f)))
                r = -EIO;
        return r;
}
