/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "answer.h"

#include <ctype.h>
#include <microhttpd.h>

#include "auth.h"
#include "basic/log.h"
#include "basic/strutil.h"

const char *answer_kind_to_string(AnswerKind k) {
        switch (k) {
        case ANSWER_INSTALL: return "install";
        case ANSWER_DISCOVER: return "discover";
        case ANSWER_LOCAL: return "local";
        case ANSWER_HOLD: return "hold";
        }
        return "?";
}

MachineState answer_initial_state(SitePolicy policy) {
        return policy == SITE_POLICY_INSTALL ? MACHINE_READY : MACHINE_DISCOVERED;
}

static AnswerKind decide_state(MachineState s) {
        switch (s) {
        case MACHINE_DISCOVERED:
                return ANSWER_DISCOVER;
        case MACHINE_READY:
        case MACHINE_INSTALLING: /* an unfinished attempt (power cut, reset): a new one */
                return ANSWER_INSTALL;
        case MACHINE_INSTALLED:
                return ANSWER_LOCAL;
        case MACHINE_FAILED:
        case MACHINE_HELD:
        default:
                return ANSWER_HOLD;
        }
}

AnswerKind answer_decide(const Machine *m, SitePolicy policy) {
        return decide_state(m ? m->state : answer_initial_state(policy));
}

char *answer_ipxe_safe(const char *text) {
        StrBuf b = {};
        size_t n = 0;

        if (!text)
                text = "";
        for (const unsigned char *p = (const unsigned char *) text; *p && n < 200; p++, n++) {
                char c = (char) *p;
                if (*p < 0x20 || *p > 0x7e || strchr("$\"'\\|&;#`{}", c))
                        c = '_';
                if (strbuf_append_n(&b, &c, 1) < 0) {
                        strbuf_done(&b);
                        return NULL;
                }
        }
        if (strbuf_append(&b, "") < 0) {
                strbuf_done(&b);
                return NULL;
        }
        return strbuf_steal(&b);
}

#define ANSWER_QUERY "mac=${netX/mac}&uuid=${uuid}&serial=${serial:uristring}&platform=${platform}&arch=${buildarch}"

char *answer_script_boot(const AnswerScript *c) {
        return strprintf("#!ipxe\n"
                         "# The site server's boot script (site-server, docs/site.md): DHCP,\n"
                         "# then ask the server what this machine does.\n"
                         "echo Site boot from %1$s\n"
                         "isset ${ip} && goto dhcp_ok\n"
                         "set tries:int32 0\n"
                         ":dhcp\n"
                         "dhcp && goto dhcp_ok\n"
                         "inc tries\n"
                         "iseq ${tries} 10 && goto failed\n"
                         "echo DHCP failed (${tries}/10), retrying...\n"
                         "sleep 3\n"
                         "goto dhcp\n"
                         ":dhcp_ok\n"
                         "echo ${netX/ifname} ${netX/mac} ${netX/ip}\n"
                         "chain --replace --autofree %1$sipxe/answer?" ANSWER_QUERY " || goto failed\n"
                         ":failed\n"
                         "echo Site boot FAILED, rebooting in 30 s\n"
                         "sleep 30\n"
                         "reboot\n",
                         c->base_url);
}

char *answer_script_installer(const AnswerScript *c, int64_t machine_id, const char *token,
                              const char *profile, bool discover) {
        _cleanup_free_ char *profiles = NULL, *mode = NULL;

        profiles = profile ? strprintf("inst.profile=%sprofiles/%s", c->base_url, profile)
                           : strprintf("inst.profiles=%sprofiles/", c->base_url);
        mode = discover ? strprintf(" inst.mode=discover inst.wait=%sapi/v1/machines/%" PRId64 "/next",
                                    c->base_url, machine_id)
                        : strdup("");
        if (!profiles || !mode)
                return NULL;
        return strprintf("#!ipxe\n"
                         "# site-server: %2$s (machine %3$" PRId64 ")\n"
                         "echo Site server: %2$s, machine %3$" PRId64 "\n"
                         "kernel %1$svmlinuz initrd=initrd.img console=tty0 console=ttyS0,115200 %4$s"
                         " inst.mac=${netX/mac} inst.uuid=${uuid} inst.serial=${serial:uristring}"
                         " inst.report=%1$sapi/v1/machines/%3$" PRId64 "/report inst.report.token=%5$s%6$s"
                         "%7$s%8$s ${extra_args} || goto failed\n"
                         "initrd %1$sinitrd.img || goto failed\n"
                         "boot || goto failed\n"
                         ":failed\n"
                         "echo Installer boot FAILED, asking again in 30 s\n"
                         "sleep 30\n"
                         "chain --replace --autofree %1$sipxe/answer?" ANSWER_QUERY "\n",
                         c->base_url, discover ? "discover" : "install", machine_id, profiles, token, mode,
                         c->append && *c->append ? " " : "", c->append ? c->append : "");
}

char *answer_script_local(const char *platform) {
        if (streq_lit(platform, "efi"))
                /* Back to the firmware, which tries the next boot entry: the disk. */
                return strdup("#!ipxe\n"
                              "# site-server: installed, boot the local disk (UEFI: next boot entry)\n"
                              "echo Site server: installed, booting the local disk\n"
                              "exit\n");
        return strdup("#!ipxe\n"
                      "# site-server: installed, boot the local disk (BIOS: the first hard disk)\n"
                      "echo Site server: installed, booting the local disk\n"
                      "sanboot --no-describe --drive 0x80 || exit\n");
}

char *answer_script_hold(const AnswerScript *c, const char *message) {
        _cleanup_free_ char *safe = answer_ipxe_safe(message);

        if (!safe)
                return NULL;
        return strprintf("#!ipxe\n"
                         "# site-server: held\n"
                         "echo Site server: this machine is held:\n"
                         "echo %2$s\n"
                         "echo Asking again in 30 s...\n"
                         "sleep 30\n"
                         "chain --replace --autofree %1$sipxe/answer?" ANSWER_QUERY "\n",
                         c->base_url, safe);
}

char *answer_hold_message(const Machine *m, const Attempt *attempt) {
        if (m->state == MACHINE_FAILED) {
                _cleanup_free_ char *status = NULL;
                if (attempt && attempt->exit_status >= 0)
                        status = strprintf("exit status %d", attempt->exit_status);
                else
                        status = strdup("it did not finish");
                if (!status)
                        return NULL;
                return strprintf("install %d failed in phase %s: %s. site-server reinstall|release %" PRId64,
                                 attempt ? attempt->number : 0, m->phase ? m->phase : "unknown",
                                 m->last_error ? m->last_error : status, m->id);
        }
        if (m->message)
                return strdup(m->message);
        return strprintf("held by the operator. site-server release %" PRId64, m->id);
}

/* ---- GET /boot.ipxe and GET /ipxe/answer (the store around the decision) ---- */

void answer_handle_boot(Request *r) {
        AnswerScript c = { .base_url = r->server->base_url, .append = r->server->config->append };
        char *s = answer_script_boot(&c);

        if (!s)
                return http_refuse(r, 500, "out of memory");
        http_respond(r, 200, "text/plain; charset=utf-8", s, strlen(s));
}

/* An SMBIOS UUID as iPXE prints it, lower-cased; NULL for placeholders. */
static char *arg_uuid(const char *s) {
        bool zeros = true, effs = true;
        char *u;

        if (!s || strlen(s) != 36)
                return NULL;
        for (size_t i = 0; i < 36; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash ? s[i] != '-' : !isxdigit((unsigned char) s[i]))
                        return NULL;
                if (!dash) {
                        zeros = zeros && s[i] == '0';
                        effs = effs && (s[i] == 'f' || s[i] == 'F');
                }
        }
        if (zeros || effs)
                return NULL;
        u = strdup(s);
        for (char *p = u; p && *p; p++)
                *p = (char) tolower((unsigned char) *p);
        return u;
}

/* An SMBIOS serial; NULL for empty, unprintable, or vendor placeholders. */
static char *arg_serial(const char *s) {
        static const char *const placeholders[] = {
                "to be filled by o.e.m.", "default string", "system serial number", "not specified",
                "none", "n/a", "na", "0", "123456789", "0123456789", "serial", "chassis serial number",
        };
        bool blank = true;

        if (!s || strlen(s) > 128)
                return NULL;
        for (const char *p = s; *p; p++) {
                if ((unsigned char) *p < 0x20 || (unsigned char) *p > 0x7e)
                        return NULL;
                if (*p != ' ' && *p != '0' && *p != '.' && *p != '-')
                        blank = false;
        }
        if (blank || strstr(s, "${"))
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(placeholders); i++)
                if (strcasecmp(s, placeholders[i]) == 0)
                        return NULL;
        return strdup(s);
}

static void machine_clear(Machine *m) {
        machine_done(m);
        memset(m, 0, sizeof(*m));
}

void answer_handle_answer(Request *r) {
        Server *srv = r->server;
        AnswerScript c = { .base_url = srv->base_url, .append = srv->config->append };
        const char *mac_arg = http_arg(r, "mac"), *platform_arg = http_arg(r, "platform");
        _cleanup_free_ char *uuid = arg_uuid(http_arg(r, "uuid")), *serial = arg_serial(http_arg(r, "serial"));
        _cleanup_free_ char *script = NULL;
        const char *platform = NULL;
        char mac[18];
        Machine m = {};
        bool found = false;
        int64_t now = now_usec();
        Store *s;
        int e;

        if (!mac_arg)
                return http_refuse(r, 400, "mac= missing");
        if (mac_normalize(mac_arg, mac) < 0)
                return http_refuse(r, 400, "mac= is not a MAC address");
        if (streq_lit(platform_arg, "pcbios") || streq_lit(platform_arg, "efi"))
                platform = platform_arg;

        s = http_store(r);
        for (int tries = 0; tries < 3 && !found; tries++) {
                e = store_machine_find(s, mac, uuid, serial, &m);
                if (e >= 0) {
                        found = true;
                        e = store_machine_seen(s, m.id, uuid, serial, platform, now);
                        if (e >= 0) {
                                int64_t id = m.id;
                                machine_clear(&m);
                                e = store_machine_get(s, id, &m);
                        }
                        break;
                }
                if (e != -ENOENT)
                        break;
                e = store_machine_create(s, mac, uuid, serial, platform, answer_initial_state(srv->config->policy),
                                         now, &m);
                if (e >= 0) {
                        found = true;
                        log_info("New machine %" PRId64 ": mac %s%s%s, %s", m.id, mac, uuid ? " uuid " : "",
                                 uuid ?: "", machine_state_to_string(m.state));
                } else if (e != -EEXIST)
                        break; /* -EEXIST: another request created it just now: find it */
        }
        if (!found || e < 0) {
                log_error("Boot answer for %s: the store failed: %s", mac, store_error(s));
                machine_clear(&m);
                http_store_release(r, s);
                return http_refuse(r, 500, "store error");
        }
        AnswerKind kind = answer_decide(&m, srv->config->policy);
        switch (kind) {
        case ANSWER_INSTALL:
        case ANSWER_DISCOVER: {
                char token[AUTH_TOKEN_HEX + 1], digest[AUTH_SHA256_HEX + 1];
                int64_t attempt_id = 0;
                bool discover = kind == ANSWER_DISCOVER;

                e = auth_token_new(token, digest);
                if (e >= 0)
                        e = store_attempt_begin(s, m.id, discover ? ATTEMPT_DISCOVER : ATTEMPT_INSTALL,
                                                m.profile ? m.profile : "lookup", digest, now, &attempt_id);
                if (e >= 0)
                        script = answer_script_installer(&c, m.id, token, discover ? NULL : m.profile, discover);
                explicit_bzero(token, sizeof(token));
                if (e < 0)
                        log_error("Boot answer for machine %" PRId64 ": cannot begin an attempt: %s", m.id,
                                  store_error(s));
                else
                        log_info("Machine %" PRId64 " (%s): %s, attempt %" PRId64, m.id, mac,
                                 answer_kind_to_string(kind), attempt_id);
                break;
        }
        case ANSWER_LOCAL:
                script = answer_script_local(platform ? platform : m.platform);
                break;
        case ANSWER_HOLD: {
                Attempt *list = NULL, *last = NULL;
                size_t n = 0;
                _cleanup_free_ char *msg = NULL;

                if (m.state == MACHINE_FAILED && store_attempt_list(s, m.id, &list, &n) >= 0)
                        for (size_t i = 0; i < n; i++)
                                if (list[i].id == m.current_install)
                                        last = &list[i];
                msg = answer_hold_message(&m, last);
                attempt_list_free(list, n);
                script = msg ? answer_script_hold(&c, msg) : NULL;
                break;
        }
        }
        http_store_release(r, s);
        machine_clear(&m);
        if (e < 0)
                return http_refuse(r, 500, "store error");
        if (!script)
                return http_refuse(r, 500, "out of memory");
        size_t len = strlen(script);
        http_respond(r, 200, "text/plain; charset=utf-8", TAKE_PTR(script), len);
}
