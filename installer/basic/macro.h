/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Small macros used everywhere. libc only. */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _warn_unused_result_ __attribute__((warn_unused_result))

#define streq(a, b) (strcmp((a), (b)) == 0)
#define streq_ptr(a, b) ((a) && (b) ? streq((a), (b)) : (a) == (b))
/* a may be NULL, lit is a string literal. */
#define streq_lit(a, lit) ((a) && streq((a), (lit)))

#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define MIN(a, b) ((a) < (b) ? (a) : (b))

#define KiB ((uint64_t) 1024)
#define MiB (KiB * 1024)
#define GiB (MiB * 1024)
#define TiB (GiB * 1024)

/* Cleanup helpers, after systemd's cleanup-fundamental.h. Every destructor
 * accepts NULL / -1. */
static inline void freep(void *p) {
        free(*(void **) p);
}
static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Define a cleanup function for a pointer type, NULL-safe. */
#define DEFINE_POINTER_CLEANUP(type, func)                \
        static inline void func##p(type **p) {            \
                if (*p)                                   \
                        func(*p);                         \
        }

/* Take ownership: return the pointer and set the variable to NULL. */
#define TAKE_PTR(p)                          \
        ({                                   \
                __typeof__(p) _tmp_ = (p);   \
                (p) = NULL;                  \
                _tmp_;                       \
        })
#define TAKE_FD(fd)                  \
        ({                           \
                int _fd_ = (fd);     \
                (fd) = -1;           \
                _fd_;                \
        })

/* Allocation that cannot fail silently: callers check for NULL and return
 * -ENOMEM; these only make the common forms shorter. */
#define new0(type, n) ((type *) calloc((n), sizeof(type)))
