/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Logging. Library-like modules log at debug level only; the command layer
 * and the phase runner report. Messages go to stderr, one line each. */

#include <stdarg.h>

#include "basic/macro.h"

typedef enum LogLevel {
        LOG_ERR = 3,
        LOG_WARNING = 4,
        LOG_NOTICE = 5,
        LOG_INFO = 6,
        LOG_DEBUG = 7,
} LogLevel;

void log_set_max_level(LogLevel level);
LogLevel log_get_max_level(void);
/* Called with every message that is printed (after the level filter),
 * without the "error: " prefix, before it is printed. Used by installer/report
 * to turn log lines into events. NULL removes the hook. */
typedef void (*LogHook)(LogLevel level, const char *message);
void log_set_hook(LogHook hook);

/* Parse "debug", "info", ... Returns -EINVAL for unknown names. */
int log_level_from_string(const char *s);

/* Always returns -abs(error) (or 0 if error is 0), so a caller can write
 * "return log_error_errno(r, ...)". %m in fmt prints strerror(error). */
int log_internal(LogLevel level, int error, const char *fmt, ...) _printf_(3, 4);

#define log_debug(...) log_internal(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_internal(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...) log_internal(LOG_DEBUG, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_internal(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_internal(LOG_ERR, (e), __VA_ARGS__)
