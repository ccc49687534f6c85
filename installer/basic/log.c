/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "basic/log.h"

#include <stdlib.h>

static LogLevel max_level = LOG_INFO;
static LogHook log_hook;

void log_set_hook(LogHook hook) {
        log_hook = hook;
}

void log_set_max_level(LogLevel level) {
        max_level = level;
}

LogLevel log_get_max_level(void) {
        return max_level;
}

int log_level_from_string(const char *s) {
        static const struct {
                const char *name;
                LogLevel level;
        } table[] = {
                { "err", LOG_ERR },       { "error", LOG_ERR },   { "warning", LOG_WARNING },
                { "notice", LOG_NOTICE }, { "info", LOG_INFO },   { "debug", LOG_DEBUG },
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(s, table[i].name))
                        return table[i].level;
        return -EINVAL;
}

int log_internal(LogLevel level, int error, const char *fmt, ...) {
        int saved_errno = errno;
        if (error < 0)
                error = -error;

        if (level <= max_level) {
                char buf[4096];
                va_list ap;

                /* %m refers to the error passed in, not to whatever errno is. */
                errno = error;
                va_start(ap, fmt);
                vsnprintf(buf, sizeof(buf), fmt, ap);
                va_end(ap);

                const char *prefix = level <= LOG_ERR ? "error: " :
                                     level == LOG_WARNING ? "warning: " :
                                     level == LOG_DEBUG ? "debug: " : "";
                if (log_hook)
                        log_hook(level, buf);
                fprintf(stderr, "%s%s\n", prefix, buf);
                fflush(stderr);
        }
        errno = saved_errno;
        return -error;
}
