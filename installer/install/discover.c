/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `installer discover`: a machine that the site server does not know what to
 * do with yet reports its hardware and waits until the server releases it
 * (docs/installer.md, docs/boot.md). Nothing is written to any disk. */
#include <time.h>

#include "basic/interrupt.h"
#include "basic/log.h"
#include "basic/strutil.h"
#include "fetch/fetch.h"
#include "install/install.h"
#include "report/report.h"
#include "ydoc/ydoc.h"

#define ANSWER_MAX_SIZE (64 * 1024)

int install_discover_parse_answer(const char *data, size_t size, DiscoverAction *ret_action, char **ret_state,
                                  char **ret_error) {
        _cleanup_ydoc_ YDoc *doc = NULL;
        const char *action, *state;
        int r;

        r = ydoc_parse_string("answer", data, size, &doc, ret_error);
        if (r < 0)
                return r;
        if (!doc->root || doc->root->type != YNODE_MAPPING) {
                if (ret_error)
                        *ret_error = strprintf("the answer is not a JSON object");
                return -EBADMSG;
        }
        action = ynode_get_str(doc->root, "action");
        if (!action || (!streq(action, "wait") && !streq(action, "reboot"))) {
                _cleanup_free_ char *safe = action ? ydoc_escape(action, 32) : NULL;
                if (ret_error)
                        *ret_error = action ? strprintf("unknown action \"%s\"", safe ? safe : "?") :
                                              strprintf("the answer has no \"action\"");
                return -EBADMSG;
        }
        state = ynode_get_str(doc->root, "state");
        if (ret_state) {
                *ret_state = NULL;
                if (state && !(*ret_state = ydoc_escape(state, 64)))
                        return -ENOMEM;
        }
        *ret_action = streq(action, "reboot") ? DISCOVER_REBOOT : DISCOVER_WAIT;
        return 0;
}

static uint64_t now_sec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec;
}

/* Sleep secs seconds, in steps of one so that a signal ends it soon. */
static int sleep_interruptible(unsigned secs) {
        for (unsigned i = 0; i < secs; i++) {
                if (interrupt_check() < 0)
                        return -ECANCELED;
                struct timespec ts = { .tv_sec = 1 };
                (void) nanosleep(&ts, NULL);
        }
        return interrupt_check();
}

int install_discover(const BootParams *bp, const InstallOptions *opts) {
        _cleanup_inventory_ Inventory *inv = NULL;
        _cleanup_free_ char *safe = NULL;
        uint64_t last_print = 0;
        bool printed = false;
        unsigned polls = 0;
        Phase ph;
        int r;

        r = install_detect(bp, opts, &inv);
        if (r != EXIT_OK)
                return r;
        if (!bp->wait_url) {
                report_info("discover: no inst.wait=URL: the inventory is reported, nothing to wait for");
                return EXIT_OK;
        }

        safe = fetch_url_redact(bp->wait_url);
        if (!safe)
                return log_error_errno(-ENOMEM, "Out of memory"), EXIT_FAILURE_GENERIC;
        report_phase_begin(&ph, "discover", "asking %s every %u s until the site server releases this machine", safe,
                           DISCOVER_POLL_SEC);
        for (;; polls++) {
                _cleanup_free_ char *data = NULL, *err = NULL, *state = NULL, *line = NULL;
                DiscoverAction action = DISCOVER_WAIT;
                size_t size = 0;
                FetchOptions fo = { .attempts = 1, .timeout_sec = DISCOVER_REQUEST_TIMEOUT_SEC,
                                    .max_size = ANSWER_MAX_SIZE, .bearer_token = bp->report_token };

                if (polls > 0 && sleep_interruptible(DISCOVER_POLL_SEC) < 0)
                        break;
                r = fetch_to_buffer(bp->wait_url, &fo, &data, &size, &err);
                if (interrupt_check() < 0)
                        break;
                if (r >= 0) {
                        _cleanup_free_ char *perr = NULL;
                        r = install_discover_parse_answer(data, size, &action, &state, &perr);
                        if (r < 0 && r != -ENOMEM) {
                                err = strprintf("%s: %s", safe, perr ? perr : "malformed answer");
                                r = -EBADMSG;
                        }
                }
                if (r >= 0 && action == DISCOVER_REBOOT)
                        return report_phase_end(&ph, 0, "the site server released this machine (state %s): rebooting",
                                                state ? state : "?"),
                               EXIT_OK;

                /* Waiting (or the server cannot be asked): a line at most once a minute. */
                if (r >= 0)
                        line = strprintf("discover: waiting for the site server to release this machine (state %s)",
                                         state ? state : "?");
                else
                        line = strprintf("discover: cannot ask the site server (%s); asking again every %u s",
                                         err ? err : strerror(-r), DISCOVER_POLL_SEC);
                if (line && (!printed || now_sec() - last_print >= DISCOVER_MESSAGE_SEC)) {
                        if (r >= 0)
                                report_info("%s", line);
                        else
                                log_warning("%s", line);
                        printed = true;
                        last_print = now_sec();
                }
        }
        return report_phase_end(&ph, log_error_errno(-ECANCELED, "Stopped by a signal while waiting"), NULL),
               EXIT_FAILURE_GENERIC;
}
