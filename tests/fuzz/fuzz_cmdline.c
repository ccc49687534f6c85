/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: the kernel command line parser (installer/cmdline/).
 *
 * An input is one command line (what /proc/cmdline holds; a NUL byte ends it
 * early, as it would in the kernel's copy). It is parsed with cmdline_parse();
 * on success the result is checked: every URL field starts with a scheme the
 * parser accepts, the MAC is normalised (17 characters, lower-case hex and
 * colons), the UUID is lower case, the token is printable ASCII, the finish
 * action is one of three words. A refusal (-EINVAL) comes with a message.
 * cmdline_uri_decode() is fuzzed on the same
 * bytes: a decoded string is never longer than its input and holds no NUL.
 *
 * Built and run by `make fuzz` (see docs/testing.md). Replay one input:
 *   build/fuzz/fuzz_cmdline FILE */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/log.h"
#include "basic/strutil.h"
#include "cmdline/cmdline.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        if (!getenv("FUZZ_VERBOSE"))
                log_set_max_level((LogLevel) (LOG_ERR - 1));
        return 0;
}

static void check_url(const char *u) {
        if (u && !startswith(u, "http://") && !startswith(u, "https://") && !startswith(u, "file://"))
                abort();
}

static void check_params(const BootParams *p) {
        check_url(p->profiles_url);
        check_url(p->profile_url);
        check_url(p->report_url);
        if (p->mac) {
                if (strlen(p->mac) != 17)
                        abort();
                for (size_t i = 0; i < 17; i++) {
                        char c = p->mac[i];
                        if (i % 3 == 2 ? c != ':' : !(isdigit((unsigned char) c) || (c >= 'a' && c <= 'f')))
                                abort();
                }
        }
        for (const char *c = p->uuid; c && *c; c++)
                if (isupper((unsigned char) *c))
                        abort();
        for (const char *c = p->report_token; c && *c; c++)
                if (*c <= 0x20 || *c >= 0x7f)
                        abort();
        if (p->report_token && !*p->report_token)
                abort();
        if (p->finish && !streq(p->finish, "reboot") && !streq(p->finish, "poweroff") && !streq(p->finish, "shell"))
                abort();
        if (p->log_level < -1 || p->log_level > LOG_DEBUG)
                abort();
        for (size_t i = 0; p->unknown && p->unknown[i]; i++)
                if (!startswith(p->unknown[i], "inst."))
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *line = strndup((const char *) data, size);
        _cleanup_free_ char *error = NULL, *decoded = NULL;
        BootParams p;
        int r;

        if (!line)
                return 0;
        r = cmdline_parse(line, &p, &error);
        if (r >= 0) {
                if (error)
                        abort(); /* an error message without an error */
                check_params(&p);
                cmdline_done(&p);
        } else if (r == -EINVAL) {
                if (!error)
                        abort(); /* refused without saying which word */
        } else if (r != -ENOMEM)
                abort();

        decoded = cmdline_uri_decode(line);
        if (decoded && strlen(decoded) > strlen(line))
                abort();
        return 0;
}
