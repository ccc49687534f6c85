/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fetch: the retry policy of every download (the image, fragments, files,
 * keys, reports): attempts, the whole transfer's deadline, the minimum rate
 * and the window it is judged over. docs/profile.md, "fetch". */
#include <errno.h>

#include "profile/profile-internal.h"

/* "90", "90s", "15m", "6h", "7d" -> seconds; -EINVAL when malformed,
 * -ERANGE when too large. */
static int parse_seconds(const char *s, uint64_t *ret) {
        static const struct {
                const char *suffix;
                uint64_t factor;
        } units[] = { { "", 1 }, { "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 } };
        size_t digits = strspn(s, "0123456789");
        uint64_t v = 0;

        if (digits == 0)
                return -EINVAL;
        if (digits > 12)
                return -ERANGE;
        for (size_t i = 0; i < digits; i++)
                v = v * 10 + (uint64_t) (s[i] - '0');
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (streq(s + digits, units[i].suffix)) {
                        *ret = v * units[i].factor;
                        return 0;
                }
        return -EINVAL;
}

/* A duration between min and max seconds; false after reporting. */
static bool ck_seconds(Checker *c, const YNode *v, uint64_t min, uint64_t max, const char *range, uint64_t *ret) {
        const char *s = ck_scalar(c, v);
        uint64_t u = 0;
        int r;

        if (!s)
                return false;
        r = parse_seconds(s, &u);
        if (r == -EINVAL) {
                ck_error(c, v, "invalid duration '%s' (expected seconds, or a number with s, m, h or d, for example 90s, 15m, 6h)",
                         ck_quote(s).s);
                return false;
        }
        if (r < 0 || u < min || u > max) {
                ck_error(c, v, "duration '%s' is out of range (%s)", ck_quote(s).s, range);
                return false;
        }
        *ret = u;
        return true;
}

static void parse_attempts(Checker *c, const YNode *v, void *userdata) {
        uint64_t u;

        if (ck_uint(c, v, PROFILE_FETCH_ATTEMPTS_MIN, PROFILE_FETCH_ATTEMPTS_MAX, &u))
                ((ProfileFetch *) userdata)->attempts = (unsigned) u;
}

static void parse_deadline(Checker *c, const YNode *v, void *userdata) {
        uint64_t u;

        if (ck_seconds(c, v, PROFILE_FETCH_DEADLINE_MIN_S, PROFILE_FETCH_DEADLINE_MAX_S, "10s to 7d", &u))
                ((ProfileFetch *) userdata)->deadline_s = u;
}

static void parse_min_rate(Checker *c, const YNode *v, void *userdata) {
        const char *s = ck_scalar(c, v);
        uint64_t u;

        /* Bytes per second: a number, or a size such as 64KiB. */
        if (!s || !profile_parse_byte_size(c, v, &u))
                return;
        if (u < PROFILE_FETCH_MIN_RATE_MIN || u > PROFILE_FETCH_MIN_RATE_MAX) {
                ck_error(c, v, "rate '%s' is out of range (1 to 1000000000 bytes per second)", ck_quote(s).s);
                return;
        }
        ((ProfileFetch *) userdata)->min_rate = u;
}

static void parse_rate_window(Checker *c, const YNode *v, void *userdata) {
        uint64_t u;

        if (ck_seconds(c, v, PROFILE_FETCH_RATE_WINDOW_MIN_S, PROFILE_FETCH_RATE_WINDOW_MAX_S, "5s to 1h", &u))
                ((ProfileFetch *) userdata)->rate_window_s = (unsigned) u;
}

void profile_parse_fetch(Checker *c, const YNode *v, void *userdata) {
        static const Field fields[] = {
                { "attempts", parse_attempts, false },
                { "deadline", parse_deadline, false },
                { "min_rate", parse_min_rate, false },
                { "rate_window", parse_rate_window, false },
        };

        (void) ck_fields(c, v, fields, ELEMENTSOF(fields), &((Profile *) userdata)->fetch);
}
