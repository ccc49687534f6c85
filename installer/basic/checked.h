/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Checked arithmetic on uint64_t sizes (libc only). Each helper returns true
 * and stores the result in *ret when it is exact, false (leaving *ret
 * untouched) when it would wrap; callers turn false into a positioned error
 * (the plan) or -EOVERFLOW. Sizes that come from a profile or an inventory
 * go through these, never through bare + and *. */

#include <stdbool.h>
#include <stdint.h>

#include "basic/macro.h"

_warn_unused_result_ static inline bool u64_add(uint64_t a, uint64_t b, uint64_t *ret) {
        uint64_t r;
        if (__builtin_add_overflow(a, b, &r))
                return false;
        *ret = r;
        return true;
}

_warn_unused_result_ static inline bool u64_mul(uint64_t a, uint64_t b, uint64_t *ret) {
        uint64_t r;
        if (__builtin_mul_overflow(a, b, &r))
                return false;
        *ret = r;
        return true;
}

/* *acc += v, checked. */
_warn_unused_result_ static inline bool u64_add_to(uint64_t *acc, uint64_t v) {
        return u64_add(*acc, v, acc);
}

/* v rounded up to a multiple of align (align > 0): false when that is
 * beyond UINT64_MAX. */
_warn_unused_result_ static inline bool u64_align_up(uint64_t v, uint64_t align, uint64_t *ret) {
        uint64_t r = v % align;
        return r == 0 ? (*ret = v, true) : u64_add(v - r, align, ret);
}

/* ceil(v / d), d > 0: never overflows. */
static inline uint64_t u64_div_round_up(uint64_t v, uint64_t d) {
        return v / d + (v % d != 0);
}

/* floor(v * num / den) without an intermediate overflow for num <= den
 * (percentages): v / den * num + v % den * num / den. den > 0; false when
 * the result (num > den) does not fit. */
_warn_unused_result_ static inline bool u64_scale(uint64_t v, uint64_t num, uint64_t den, uint64_t *ret) {
        uint64_t hi, lo;
        if (!u64_mul(v / den, num, &hi) || !u64_mul(v % den, num, &lo))
                return false;
        return u64_add(hi, lo / den, ret);
}
