/* SPDX-License-Identifier: GPL-2.0-or-later */
/* site-server: the site server (docs/site.md). "serve" runs the server
 * (http.c); every other command is the operator's client (cli.c). */

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "basic/log.h"
#include "basic/strutil.h"
#include "cli.h"
#include "http.h"

#define DEFAULT_LISTEN "127.0.0.1:8080"
#define DEFAULT_WWW "build/www"
#define DEFAULT_STATE "/var/lib/site-server"
#define DEFAULT_MAX_BODY (1024 * 1024)
#define DEFAULT_THREADS 4

static void help(FILE *f) {
        fputs("Usage: site-server serve [OPTIONS]\n"
              "       site-server COMMAND [ARGS] [--server URL] [--token-file F]\n"
              "\n"
              "The site server: the boot answers, the installers' reports and the\n"
              "operator's view of every machine of a site (docs/site.md).\n"
              "\n"
              "site-server serve\n"
              "  Serve the boot tree, answer network boots (GET /boot.ipxe,\n"
              "  /ipxe/answer), take events, inventories and logs from installers,\n"
              "  and serve the JSON API and the status pages. Runs until SIGTERM or\n"
              "  SIGINT. Prints \"listening on http://ADDRESS:PORT/\" once bound.\n"
              "\n"
              "  --listen ADDR:PORT     the address to bind, numeric: 127.0.0.1:8080 (the\n"
              "                         default), [::1]:8080, 10.0.2.100:80. Port 0 picks a\n"
              "                         free port. The read API is open: bind loopback or\n"
              "                         put a proxy with authentication in front.\n"
              "  --www DIR              the boot tree (ipxe/mkwww.sh's output); default\n"
              "                         build/www\n"
              "  --profiles DIR         the profiles, served as /profiles/; default\n"
              "                         WWW/profiles\n"
              "  --state-dir DIR        where the database and the operator token live;\n"
              "                         default /var/lib/site-server (created 0750)\n"
              "  --db URL               sqlite:PATH (default sqlite:STATE/site.db) or\n"
              "                         postgresql://... (several servers may share one)\n"
              "  --url URL              the base URL machines use to reach this server,\n"
              "                         e.g. http://10.0.2.100/; default http://LISTEN/\n"
              "  --policy install|discover\n"
              "                         what a machine seen for the first time does:\n"
              "                         install at once, or (the default) boot the\n"
              "                         installer in discover mode, send its inventory and\n"
              "                         wait for the operator (site-server release)\n"
              "  --append \"ARGS\"        extra kernel arguments for the installer\n"
              "  --operator-token-file F\n"
              "                         the operator's token; default STATE/operator.token,\n"
              "                         created (mode 0600, 32 random bytes as hex) when\n"
              "                         missing. Its SHA-256 is recorded in the store.\n"
              "  --threads N            worker threads and database connections (default 4)\n"
              "  --max-body BYTES       the largest event batch or inventory accepted\n"
              "                         (default 1 MiB; a log may be 4 times that)\n"
              "  --port-file F          write \"http://ADDRESS:PORT/\" to F once bound\n"
              "  --log-level LEVEL      error, warning, notice, info (default), debug\n"
              "\n"
              "Operator commands (a client of the API of a running server):\n"
              "  machines [--json]                  every machine and its state\n"
              "  show MACHINE [--json]              one machine: attempts, phases, audit\n"
              "  reinstall MACHINE                  install again at its next network boot\n"
              "  release MACHINE                    let a discovered, failed or held machine\n"
              "                                     go on (discovered/failed: install)\n"
              "  hold MACHINE [--message TEXT]      stop it at its next boot with a message\n"
              "  assign MACHINE PROFILE             install it with that profile (\"-\": the\n"
              "                                     installer's own lookup again)\n"
              "  forget MACHINE                     delete it and everything about it\n"
              "  inventory MACHINE                  its inventory (installer plan --inventory)\n"
              "  events MACHINE [--attempt N] [--json]\n"
              "  log MACHINE [--attempt N]          the installer's log of a failed attempt\n"
              "  MACHINE is the server's number, a MAC, a UUID, a serial or a hostname.\n"
              "  --server URL       default $SITE_SERVER, else http://127.0.0.1:8080/\n"
              "  --token-file F     default $SITE_TOKEN_FILE, else\n"
              "                     /var/lib/site-server/operator.token\n"
              "\n"
              "Exit status: 0 ok, 1 error, 2 usage, 3 not found, 4 refused (401/403),\n"
              "5 server unreachable. \"serve\" exits 0 after SIGTERM/SIGINT, 1 when it\n"
              "cannot start (address in use, unreadable tree, store error), 2 on usage.\n",
              f);
}

static int serve_main(int argc, char **argv) {
        enum {
                ARG_LISTEN = 0x100,
                ARG_WWW,
                ARG_PROFILES,
                ARG_STATE_DIR,
                ARG_DB,
                ARG_URL,
                ARG_POLICY,
                ARG_APPEND,
                ARG_TOKEN_FILE,
                ARG_THREADS,
                ARG_MAX_BODY,
                ARG_PORT_FILE,
                ARG_LOG_LEVEL,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "listen", required_argument, NULL, ARG_LISTEN },
                { "www", required_argument, NULL, ARG_WWW },
                { "profiles", required_argument, NULL, ARG_PROFILES },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "db", required_argument, NULL, ARG_DB },
                { "url", required_argument, NULL, ARG_URL },
                { "policy", required_argument, NULL, ARG_POLICY },
                { "append", required_argument, NULL, ARG_APPEND },
                { "operator-token-file", required_argument, NULL, ARG_TOKEN_FILE },
                { "threads", required_argument, NULL, ARG_THREADS },
                { "max-body", required_argument, NULL, ARG_MAX_BODY },
                { "port-file", required_argument, NULL, ARG_PORT_FILE },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                {},
        };
        ServerConfig c = {
                .listen = DEFAULT_LISTEN,
                .www = DEFAULT_WWW,
                .state_dir = DEFAULT_STATE,
                .policy = SITE_POLICY_DISCOVER,
                .threads = DEFAULT_THREADS,
                .max_body = DEFAULT_MAX_BODY,
        };
        int opt, lvl;
        uint64_t v;
        char *end;

        optind = 1;
        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (opt) {
                case 'h':
                        help(stdout);
                        return 0;
                case ARG_LISTEN: c.listen = optarg; break;
                case ARG_WWW: c.www = optarg; break;
                case ARG_PROFILES: c.profiles = optarg; break;
                case ARG_STATE_DIR: c.state_dir = optarg; break;
                case ARG_DB: c.db_url = optarg; break;
                case ARG_APPEND:
                        /* One line of the iPXE script: a newline would start a command. */
                        for (const char *p = optarg; *p; p++)
                                if ((unsigned char) *p < 0x20 || *p == 0x7f) {
                                        log_error("--append: no control characters (newlines) in kernel arguments");
                                        return 2;
                                }
                        c.append = optarg;
                        break;
                case ARG_TOKEN_FILE: c.operator_token_file = optarg; break;
                case ARG_PORT_FILE: c.port_file = optarg; break;
                case ARG_URL:
                        if (!startswith(optarg, "http://") && !startswith(optarg, "https://")) {
                                log_error("--url %s: not an http:// or https:// URL", optarg);
                                return 2;
                        }
                        if (strpbrk(optarg, " \t\n\"'$;|&<>`\\")) {
                                log_error("--url: no spaces, quotes or shell/iPXE specials in the URL");
                                return 2;
                        }
                        c.base_url = optarg;
                        break;
                case ARG_POLICY:
                        if (streq(optarg, "install"))
                                c.policy = SITE_POLICY_INSTALL;
                        else if (streq(optarg, "discover"))
                                c.policy = SITE_POLICY_DISCOVER;
                        else {
                                log_error("--policy %s: install or discover", optarg);
                                return 2;
                        }
                        break;
                case ARG_THREADS:
                        errno = 0;
                        v = strtoull(optarg, &end, 10);
                        if (errno || end == optarg || *end || v < 1 || v > 256) {
                                log_error("--threads %s: a number 1..256", optarg);
                                return 2;
                        }
                        c.threads = (unsigned) v;
                        break;
                case ARG_MAX_BODY:
                        if (parse_size(optarg, &v) < 0 || v < 1024 || v > 256 * MiB) {
                                log_error("--max-body %s: a size from 1KiB to 256MiB", optarg);
                                return 2;
                        }
                        c.max_body = v;
                        break;
                case ARG_LOG_LEVEL:
                        lvl = log_level_from_string(optarg);
                        if (lvl < 0) {
                                log_error("--log-level %s: error, warning, notice, info or debug", optarg);
                                return 2;
                        }
                        log_set_max_level((LogLevel) lvl);
                        break;
                default:
                        fprintf(stderr, "Try 'site-server --help'.\n");
                        return 2;
                }
        if (optind < argc) {
                log_error("serve: unexpected argument %s", argv[optind]);
                return 2;
        }
        if (!c.base_url && (startswith(c.listen, "0.0.0.0:") || startswith(c.listen, "[::]:"))) {
                log_error("--listen %s: machines cannot reach http://%s/; give --url with the address they use",
                          c.listen, c.listen);
                return 2;
        }
        return http_serve(&c) < 0 ? 1 : 0;
}

int main(int argc, char **argv) {
        if (argc < 2) {
                help(stderr);
                return 2;
        }
        if (streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help")) {
                help(stdout);
                return 0;
        }
        if (streq(argv[1], "serve"))
                return serve_main(argc - 1, argv + 1);
        if (argv[1][0] == '-') {
                log_error("Unknown option %s before the command. Try 'site-server --help'.", argv[1]);
                return 2;
        }
        return cli_main(argc - 1, argv + 1);
}
