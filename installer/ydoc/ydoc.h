/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A YAML (and therefore JSON) document loaded into a tree whose every node
 * knows its position in the source, so that validators can report
 * file:line:column. Built from libyaml's event stream; aliases are resolved
 * (into copies), duplicate mapping keys are errors, and every limit below is
 * checked while parsing, so a hostile document stops where it crosses one:
 * its cost is bounded by the limits, not by its size. */

#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"

typedef enum YNodeType {
        YNODE_SCALAR,
        YNODE_MAPPING,
        YNODE_SEQUENCE,
} YNodeType;

typedef struct YNode YNode;
struct YNode {
        YNodeType type;
        const char *file;      /* the YDoc's filename (borrowed: valid while that YDoc lives) */
        unsigned line, column; /* 1-based */
        char *value;           /* scalar text (never NULL for scalars) */
        bool plain;            /* scalar was unquoted (so "yes" != yes) */
        size_t n;              /* number of items or of key/value pairs */
        YNode **keys;          /* mapping: scalar keys */
        YNode **items;         /* mapping: values; sequence: items */
};

typedef struct YDoc {
        char *filename; /* as given, used in messages */
        YNode *root;    /* NULL for an empty document */
} YDoc;

/* Limits of one document (a profile or an included fragment). A deeper,
 * bigger or larger document is refused with FILE:LINE:COL of the node that
 * crossed the limit (the size before parsing, without a position). */
#define YDOC_MAX_DEPTH 64               /* levels of nested mappings and lists */
#define YDOC_MAX_NODES 100000           /* nodes, each alias counted as a copy */
#define YDOC_MAX_SIZE (4 * 1024 * 1024) /* bytes: 4 MiB, what fetch_to_buffer() allows */

/* Parse a file or a buffer holding exactly one YAML document. On a syntax
 * error, a crossed limit, invalid UTF-8 or a control character returns
 * -EINVAL and, if ret_error is set, a message of the form "FILE:LINE:COL: ..."
 * (the position of the offending byte or node; "FILE: ..." for the size).
 * ydoc_parse_file() reads only a regular file of at most YDOC_MAX_SIZE bytes
 * (a FIFO or a device is never opened for reading: -EBADFD; a directory:
 * -EISDIR; too large: -EFBIG); other errors: -errno. */
int ydoc_parse_file(const char *path, YDoc **ret, char **ret_error);
int ydoc_parse_string(const char *name, const char *data, size_t size, YDoc **ret, char **ret_error);
void ydoc_free(YDoc *d);
/* A copy of s safe to put in a message: at most max bytes of it, control
 * characters (and DEL) written as \xNN, "..." when cut. NULL only when out
 * of memory (s NULL gives ""). */
char *ydoc_escape(const char *s, size_t max);
/* Free a node and everything below it. Scalar text is wiped first (profiles
 * hold secrets). NULL is fine. */
void ynode_free(YNode *n);
DEFINE_POINTER_CLEANUP(YDoc, ydoc_free);
#define _cleanup_ydoc_ _cleanup_(ydoc_freep)

/* Mapping lookup; NULL when absent or when m is not a mapping. */
YNode *ynode_get(const YNode *m, const char *key);
/* Scalar text of a mapping entry, or NULL if absent or not a scalar. */
const char *ynode_get_str(const YNode *m, const char *key);

/* Scalar conversions, YAML 1.1/1.2 core style. Return 0 or -EINVAL. Only
 * plain (unquoted) scalars convert to booleans/null. */
int ynode_bool(const YNode *n, bool *ret);
int ynode_u64(const YNode *n, uint64_t *ret);
bool ynode_is_null(const YNode *n);

const char *ynode_type_name(YNodeType t);

/* An empty mapping node, for building merged trees. NULL when out of memory. */
YNode *ynode_new_mapping(const char *file, unsigned line, unsigned column);
/* Merge the mapping src into the mapping dst by moving src's nodes (nothing
 * is copied): for a key in both, two mappings are merged recursively and
 * anything else (scalar, list, null, or a mapping meeting a non-mapping) is
 * replaced by src's value; keys only in src are appended in src's order. A
 * replaced entry keeps its place in dst's order but takes src's key node, and
 * dst takes src's position (file, line, column): where it was last written.
 * src keeps its shape with the moved slots set to NULL; free it afterwards.
 * Returns 0, -EINVAL (not two mappings) or -ENOMEM (dst is then consistent
 * but partly merged). */
int ynode_merge(YNode *dst, YNode *src);
/* Remove (and free) the entry key from mapping m, if there is one. */
void ynode_remove(YNode *m, const char *key);

/* Write the tree below n to f as one YAML document (no "---" marker), with
 * libyaml's emitter. Scalars that were quoted in the source are emitted
 * quoted (multi-line ones as literal blocks), so that "yes" or "0755" stay
 * strings; plain scalars stay plain. Anchors, aliases (already resolved),
 * tags and comments are not reproduced. Returns 0, -EINVAL (a tree nested
 * deeper than YDOC_MAX_DEPTH, a non-scalar key, or text libyaml refuses),
 * -ENOMEM or -EIO (writing to f failed). */
int ydoc_emit(const YNode *n, FILE *f);
