/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command-line layer: option tables and one call each. Only this file
 * decides the exit status. */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>

#include "basic/fileio.h"
#include "basic/interrupt.h"
#include "basic/log.h"
#include "basic/strutil.h"
#include "cmd_trust.h"
#include "cmdline/cmdline.h"
#include "fetch/fetch.h"
#include "hw/hw.h"
#include "image/manifest.h"
#include "install/install.h"
#include "plan/plan.h"
#include "profile/profile.h"
#include "report/report.h"
#include "target/target.h"
#include "trust/trust-profile.h"

#define VERSION "0.1"

static void help(FILE *f) {
        fputs("Usage: installer [--debug] COMMAND [OPTIONS]\n"
              "\n"
              "Bare-metal installer: detect the machine, fetch and validate its profile,\n"
              "plan the disk layout, and install.\n"
              "\n"
              "Commands:\n"
              "  inventory [--sysroot DIR] [--no-probe]\n"
              "        Print this machine's hardware inventory as JSON.\n"
              "  plan --profile FILE [--inventory FILE | --sysroot DIR] [--json] [--keys KEYRING]\n"
              "        Validate a profile and print what would be done. Writes nothing.\n"
              "  validate [--keys KEYRING] FILE...\n"
              "        Validate profiles; print every error as FILE:LINE:COL. With --keys,\n"
              "        FILE and every file it includes must have a good FILE.sig first.\n"
              "  render-network FILE --root DIR [--boot-mac MAC]\n"
              "        Validate the network section of FILE (a profile, or a netplan file\n"
              "        with only network:) and write what the installed system gets below\n"
              "        DIR: systemd-networkd files, or /etc/netplan/50-installer.yaml when\n"
              "        DIR/usr/sbin/netplan exists.\n"
              "  run [--sysroot DIR] [--dry-run] [--keys KEYRING]\n"
              "        What the boot image runs: read inst.* from the kernel command\n"
              "        line, fetch this machine's profile, plan and install. The\n"
              "        inventory goes to the report URL (inst.report= or the profile's).\n"
              "  discover [--sysroot DIR]\n"
              "        What the boot image runs with inst.mode=discover: detect the\n"
              "        hardware, upload the inventory to inst.report=, then ask\n"
              "        inst.wait=URL every 10 s until it answers {\"action\":\"reboot\"}\n"
              "        (exit 0). Writes nothing to any disk.\n"
              "  configure --profile FILE --root DIR [--mac MAC] [--no-chroot]\n"
              "        Write the profile's configuration of the installed system into DIR\n"
              "        (an extracted OS image) as the install does after the image: no\n"
              "        disk, no fstab entries, no bootloader. Runs the chroot steps\n"
              "        (packages, locale-gen, post_install) unless --no-chroot.\n"
              "  keygen [--name NAME] [--not-after YYYY-MM-DD] [--public] KEY\n"
              "        Make an Ed25519 signing key KEY (PEM, mode 0600; --public: use the\n"
              "        existing KEY) and print its trusted-keys line.\n"
              "  sign --key KEY FILE...\n"
              "        Write FILE.sig, a detached signature of FILE (docs/trust.md).\n"
              "  verify --keys KEYRING [FILE | URL]...\n"
              "        Check FILE against FILE.sig (URL against URL.sig); without FILE,\n"
              "        check the keyring and list its keys.\n"
              "  manifest [--chunk-size N] IMAGE [-o OUT]\n"
              "  manifest --check MANIFEST IMAGE\n"
              "        Write the manifest of an OS image (its length, its SHA-256 and that of\n"
              "        every chunk; N: bytes, or with K/M, a power of two from 64K to 64M,\n"
              "        default 4M) to OUT or stdout; or check IMAGE against MANIFEST chunk\n"
              "        by chunk (exit 7 at the first chunk that differs). See docs/manifest.md.\n"
              "  help, version\n"
              "\n"
              "Exit status: 0 ok, 1 failure, 2 usage, 3 invalid profile, 4 no valid plan,\n"
              "5 fetch failed, 6 install failed, 7 checksum mismatch, 8 the profile's match:\n"
              "does not fit this machine, 9 a signature was refused; 128+N: run, discover or configure stopped by signal N\n"
              "(SIGHUP 129, SIGINT 130, SIGTERM 143) after undoing what it set up.\n"
              "See docs/installer.md.\n",
              f);
}

static int usage_error(const char *fmt, ...) _printf_(1, 2);
static int usage_error(const char *fmt, ...) {
        va_list ap;
        fprintf(stderr, "installer: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nTry 'installer help'.\n");
        return EXIT_USAGE;
}

static int cmd_inventory(int argc, char **argv) {
        static const struct option opts[] = {
                { "sysroot", required_argument, NULL, 's' },
                { "no-probe", no_argument, NULL, 'n' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_inventory_ Inventory *inv = NULL;
        const char *sysroot = NULL;
        HwProbeFlags flags = HW_PROBE_SIGNATURES;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0)
                switch (c) {
                case 's': sysroot = optarg; break;
                case 'n': flags &= ~HW_PROBE_SIGNATURES; break;
                case 'h': help(stdout); return EXIT_OK;
                default: return EXIT_USAGE;
                }
        if (optind < argc)
                return usage_error("inventory: unexpected argument '%s'", argv[optind]);

        r = hw_inventory_detect(sysroot, flags, &inv);
        if (r < 0) {
                log_error_errno(r, "Hardware detection failed: %m");
                return EXIT_FAILURE_GENERIC;
        }
        hw_inventory_to_json(inv, stdout);
        return EXIT_OK;
}

static int cmd_plan(int argc, char **argv) {
        static const struct option opts[] = {
                { "profile", required_argument, NULL, 'p' },
                { "inventory", required_argument, NULL, 'i' },
                { "sysroot", required_argument, NULL, 's' },
                { "json", no_argument, NULL, 'j' },
                { "keys", required_argument, NULL, 'k' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_inventory_ Inventory *inv = NULL;
        _cleanup_profile_ Profile *profile = NULL;
        _cleanup_plan_ Plan *plan = NULL;
        _cleanup_(trust_keyring_freep) TrustKeyring *kr = NULL;
        _cleanup_free_ char *err = NULL, *sig_err = NULL;
        const char *profile_path = NULL, *inventory_path = NULL, *sysroot = NULL, *keys = NULL;
        size_t n_verified = 0;
        ProfileErrors errors = {};
        bool json = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "p:i:jh", opts, NULL)) >= 0)
                switch (c) {
                case 'p': profile_path = optarg; break;
                case 'i': inventory_path = optarg; break;
                case 's': sysroot = optarg; break;
                case 'j': json = true; break;
                case 'k': keys = optarg; break;
                case 'h': help(stdout); return EXIT_OK;
                default: return EXIT_USAGE;
                }
        if (!profile_path)
                return usage_error("plan: --profile FILE is required");
        if (inventory_path && sysroot)
                return usage_error("plan: --inventory and --sysroot exclude each other");
        if (optind < argc)
                return usage_error("plan: unexpected argument '%s'", argv[optind]);
        if (keys && (r = cmd_trust_keyring(keys, &kr)) != EXIT_OK)
                return r;

        if (inventory_path) {
                r = hw_inventory_load_json(inventory_path, &inv, &err);
                if (r < 0) {
                        log_error("%s", err ? err : strerror(-r));
                        return EXIT_USAGE;
                }
        } else {
                r = hw_inventory_detect(sysroot, HW_PROBE_SIGNATURES, &inv);
                if (r < 0) {
                        log_error_errno(r, "Hardware detection failed: %m");
                        return EXIT_FAILURE_GENERIC;
                }
        }

        r = trust_profile_load_file(kr, profile_path, &profile, &errors, &n_verified, &sig_err);
        if (trust_is_refusal(r) || (r < 0 && sig_err)) {
                profile_errors_print(stderr, &errors);
                profile_errors_done(&errors);
                log_error("%s", sig_err);
                return trust_is_refusal(r) ? EXIT_SIGNATURE : EXIT_FAILURE_GENERIC;
        }
        if (r >= 0 && kr)
                log_info("%s: signatures good (%zu document%s)", profile_path, n_verified, n_verified == 1 ? "" : "s");
        /* A relative image URL: shown relative to the profile file. */
        if (r >= 0)
                r = profile_image_resolve_url(profile, profile->image.url_document);
        if (r >= 0)
                r = profile_image_resolve_manifest(profile, profile->image.manifest_document);
        if (r < 0) {
                profile_errors_print(stderr, &errors);
                size_t n = errors.n;
                profile_errors_done(&errors);
                if (r == -ENOMEM || n == 0) {
                        log_error_errno(r, "%s: %m", profile_path);
                        return EXIT_FAILURE_GENERIC;
                }
                return EXIT_PROFILE_INVALID;
        }
        r = install_plan(inv, profile, false, &plan, &errors);
        if (r != EXIT_OK) {
                profile_errors_print(stderr, &errors);
                if (errors.n == 0)
                        log_error("%s: no plan", profile_path);
                profile_errors_done(&errors);
                return r;
        }
        if (json)
                plan_print_json(plan, stdout);
        else
                plan_print_text(plan, stdout);
        return EXIT_OK;
}

static int cmd_validate(int argc, char **argv) {
        static const struct option opts[] = {
                { "keys", required_argument, NULL, 'k' },
                {},
        };
        _cleanup_(trust_keyring_freep) TrustKeyring *kr = NULL;
        const char *keys = NULL;
        int c, ret = EXIT_OK;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (c) {
                case 'k': keys = optarg; break;
                default: return EXIT_USAGE;
                }
        if (optind >= argc)
                return usage_error("validate: give at least one profile file");
        if (keys && (ret = cmd_trust_keyring(keys, &kr)) != EXIT_OK)
                return ret;
        for (int i = optind; i < argc; i++) {
                _cleanup_profile_ Profile *p = NULL;
                _cleanup_free_ char *sig_err = NULL;
                ProfileErrors errors = {};
                size_t n_verified = 0;
                int r = trust_profile_load_file(kr, argv[i], &p, &errors, &n_verified, &sig_err);
                if (trust_is_refusal(r) || (r < 0 && sig_err)) {
                        profile_errors_print(stderr, &errors);
                        profile_errors_done(&errors);
                        log_error("%s", sig_err);
                        ret = trust_is_refusal(r) ? EXIT_SIGNATURE : ret == EXIT_OK ? EXIT_FAILURE_GENERIC : ret;
                } else if (r < 0) {
                        if (errors.n == 0)
                                log_error_errno(r, "%s: %m", argv[i]);
                        profile_errors_print(stderr, &errors);
                        profile_errors_done(&errors);
                        if (ret == EXIT_OK)
                                ret = EXIT_PROFILE_INVALID;
                } else if (kr)
                        printf("%s: valid, signatures good (%zu document%s)\n", argv[i], n_verified,
                               n_verified == 1 ? "" : "s");
                else
                        printf("%s: valid\n", argv[i]);
        }
        return ret;
}

/* Is the file a netplan file (only network:) rather than a profile? */
static bool is_netplan_file(const char *path) {
        _cleanup_(ydoc_freep) YDoc *doc = NULL;
        _cleanup_free_ char *err = NULL;

        if (ydoc_parse_file(path, &doc, &err) < 0 || !doc->root || doc->root->type != YNODE_MAPPING)
                return false;
        return doc->root->n == 1 && streq(doc->root->keys[0]->value, "network");
}

static int cmd_render_network(int argc, char **argv) {
        static const struct option opts[] = {
                { "root", required_argument, NULL, 'r' },
                { "boot-mac", required_argument, NULL, 'm' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_profile_ Profile *p = NULL;
        const char *root = NULL, *boot_mac = NULL;
        ProfileErrors errors = {};
        int c, r;

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0)
                switch (c) {
                case 'r': root = optarg; break;
                case 'm': boot_mac = optarg; break;
                case 'h': help(stdout); return EXIT_OK;
                default: return EXIT_USAGE;
                }
        if (!root)
                return usage_error("render-network: --root DIR is required");
        if (optind + 1 != argc)
                return usage_error("render-network: give exactly one FILE");

        const char *file = argv[optind];
        r = is_netplan_file(file) ? profile_load_network_file(file, &p, &errors) :
                                    profile_load_file(file, &p, &errors);
        if (r < 0) {
                profile_errors_print(stderr, &errors);
                bool invalid = errors.n > 0 && r == -EINVAL;
                profile_errors_done(&errors);
                if (!invalid) {
                        log_error_errno(r, "%s: %m", file);
                        return EXIT_FAILURE_GENERIC;
                }
                return EXIT_PROFILE_INVALID;
        }
        r = mkdir_p(root, 0755);
        if (r >= 0)
                r = target_write_network(root, p, boot_mac);
        if (r < 0) {
                log_error_errno(r, "Cannot write the network configuration below %s: %m", root);
                return EXIT_FAILURE_GENERIC;
        }
        return EXIT_OK;
}

static int cmd_configure(int argc, char **argv) {
        static const struct option opts[] = {
                { "profile", required_argument, NULL, 'p' },
                { "root", required_argument, NULL, 'r' },
                { "mac", required_argument, NULL, 'm' },
                { "no-chroot", no_argument, NULL, 'n' },
                {},
        };
        const char *profile = NULL, *root = NULL, *mac = NULL;
        _cleanup_profile_ Profile *p = NULL;
        _cleanup_free_ char *iid = NULL;
        ProfileErrors errors = {};
        bool chroot_steps = true;
        int c, r;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (c) {
                case 'p': profile = optarg; break;
                case 'r': root = optarg; break;
                case 'm': mac = optarg; break;
                case 'n': chroot_steps = false; break;
                default: return EXIT_USAGE;
                }
        if (!profile || !root || optind < argc)
                return usage_error("configure: give --profile FILE and --root DIR");
        r = profile_load_file(profile, &p, &errors);
        if (r < 0) {
                if (errors.n == 0)
                        log_error_errno(r, "%s: %m", profile);
                profile_errors_print(stderr, &errors);
                profile_errors_done(&errors);
                return EXIT_PROFILE_INVALID;
        }
        iid = strprintf("iid-%s-configure", p->hostname);
        if (!iid)
                return EXIT_FAILURE_GENERIC;
        InstallTarget t = { .root = root, .profile = p, .boot_mac = mac, .instance_id = iid, .chroot_steps = chroot_steps };
        r = install_configure(&t);
        if (r != EXIT_OK) {
                log_error("Configuring %s failed (exit status %d)", root, r);
                return r;
        }
        printf("%s: configured from %s\n", root, profile);
        return EXIT_OK;
}

/* "4194304", "4M", "4MiB", "64K", "64KiB". */
static int parse_chunk_size(const char *s, uint64_t *ret) {
        char *end;
        uint64_t v, mult = 1;

        if (!s || !(*s >= '0' && *s <= '9'))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0)
                return -EINVAL;
        if (streq(end, "K") || streq(end, "KiB"))
                mult = KiB;
        else if (streq(end, "M") || streq(end, "MiB"))
                mult = MiB;
        else if (*end)
                return -EINVAL;
        if (v > UINT64_MAX / mult)
                return -EINVAL;
        *ret = v * mult;
        return 0;
}

static int manifest_check(const char *manifest_path, const char *image_path) {
        _cleanup_(manifest_freep) Manifest *m = NULL, *got = NULL;
        _cleanup_free_ char *text = NULL, *built = NULL, *err = NULL;
        _cleanup_close_ int fd = -1;
        size_t size = 0, built_size = 0;
        char cs[32];
        int r;

        r = read_regular_file(manifest_path, MANIFEST_DOCUMENT_MAX, &text, &size);
        if (r < 0) {
                log_error_errno(r, "Cannot read %s: %m", manifest_path);
                return EXIT_FAILURE_GENERIC;
        }
        r = manifest_parse(manifest_path, text, size, &m, &err);
        if (r < 0) {
                log_error("%s", err ? err : strerror(-r));
                return r == -ENOMEM ? EXIT_FAILURE_GENERIC : EXIT_PROFILE_INVALID;
        }
        fd = open(image_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                log_error_errno(errno, "Cannot open %s: %m", image_path);
                return EXIT_FAILURE_GENERIC;
        }
        r = manifest_build_fd(fd, m->chunk_size, &built, &built_size, &err);
        if (r >= 0)
                r = manifest_parse(image_path, built, built_size, &got, &err);
        if (r < 0) {
                log_error("%s: %s", image_path, err ? err : strerror(-r));
                return EXIT_FAILURE_GENERIC;
        }
        for (uint64_t i = 0; i < m->n_chunks && i < got->n_chunks; i++)
                if (manifest_chunk_check(m, i, got->chunks[i]) < 0) {
                        uint64_t first = manifest_chunk_offset(m, i);
                        printf("%s: chunk %" PRIu64 " of %" PRIu64 " (bytes %" PRIu64 "-%" PRIu64
                               ") does not match %s\n",
                               image_path, i, m->n_chunks, first, first + manifest_chunk_length(got, i) - 1,
                               manifest_path);
                        return EXIT_CHECKSUM;
                }
        if (got->size != m->size) {
                printf("%s: %" PRIu64 " bytes, %s gives %" PRIu64 "\n", image_path, got->size, manifest_path, m->size);
                return EXIT_CHECKSUM;
        }
        printf("%s: %" PRIu64 " bytes, %" PRIu64 " chunk%s of %s, sha256 %s: matches %s\n", image_path, m->size,
               m->n_chunks, m->n_chunks == 1 ? "" : "s", manifest_format_chunk_size(m->chunk_size, cs, sizeof cs),
               m->sha256_hex, manifest_path);
        return EXIT_OK;
}

static int cmd_manifest(int argc, char **argv) {
        static const struct option opts[] = {
                { "chunk-size", required_argument, NULL, 'c' },
                { "output", required_argument, NULL, 'o' },
                { "check", required_argument, NULL, 'k' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *out = NULL, *check = NULL;
        _cleanup_free_ char *text = NULL, *err = NULL;
        _cleanup_close_ int fd = -1;
        uint64_t chunk_size = MANIFEST_CHUNK_SIZE_DEFAULT;
        size_t size = 0;
        int c, r;

        while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) >= 0)
                switch (c) {
                case 'c':
                        if (parse_chunk_size(optarg, &chunk_size) < 0)
                                return usage_error("manifest: --chunk-size '%s' is not a number of bytes (or with K, M)",
                                                   optarg);
                        break;
                case 'o': out = optarg; break;
                case 'k': check = optarg; break;
                case 'h': help(stdout); return EXIT_OK;
                default: return EXIT_USAGE;
                }
        if (argc - optind != 1)
                return usage_error("manifest: give one IMAGE file");
        if (check)
                return manifest_check(check, argv[optind]);

        fd = open(argv[optind], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                log_error_errno(errno, "Cannot open %s: %m", argv[optind]);
                return EXIT_FAILURE_GENERIC;
        }
        r = manifest_build_fd(fd, chunk_size, &text, &size, &err);
        if (r == -EINVAL)
                return usage_error("manifest: %s", err ? err : "bad chunk size");
        if (r < 0) {
                log_error("Cannot make the manifest of %s: %s", argv[optind], err ? err : strerror(-r));
                return EXIT_FAILURE_GENERIC;
        }
        if (!out) {
                fwrite(text, 1, size, stdout);
                return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILURE_GENERIC;
        }
        r = write_file_atomic(out, text, size, 0644);
        if (r < 0) {
                log_error_errno(r, "Cannot write %s: %m", out);
                return EXIT_FAILURE_GENERIC;
        }
        return EXIT_OK;
}

/* run and discover: read the kernel command line, turn events on, run, and
 * end the events with the exit status. */
static int run_booted(const char *command, int argc, char **argv) {
        static const struct option opts[] = {
                { "sysroot", required_argument, NULL, 's' },
                { "dry-run", no_argument, NULL, 'n' },
                { "keys", required_argument, NULL, 'k' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        bool discover = streq(command, "discover");
        InstallOptions o = { .print_inventory = true };
        _cleanup_free_ char *err = NULL;
        BootParams bp;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0)
                switch (c) {
                case 's': o.sysroot = optarg; break;
                case 'n':
                        if (discover)
                                return usage_error("discover: unknown option '--dry-run' (discover never writes)");
                        o.dry_run = true;
                        break;
                case 'k': /* instead of the boot image's keyring: for tests and rehearsals */
                        if (discover)
                                return usage_error("discover: unknown option '--keys' (discover fetches no profile)");
                        o.keys_path = optarg;
                        break;
                case 'h': help(stdout); return EXIT_OK;
                default: return EXIT_USAGE;
                }
        if (optind < argc)
                return usage_error("%s: unexpected argument '%s'", command, argv[optind]);

        r = cmdline_read(&bp, &err);
        if (r < 0) {
                log_error("Kernel command line: %s", err ? err : strerror(-r));
                return EXIT_USAGE;
        }
        if (!discover && bp.mode == BOOT_MODE_DISCOVER) {
                /* Never install a machine that was booted to be discovered. */
                log_error("Kernel command line: inst.mode=discover: this machine is to be discovered, not installed "
                          "(run 'installer discover')");
                cmdline_done(&bp);
                return EXIT_USAGE;
        }
        if (bp.log_level >= 0)
                log_set_max_level((LogLevel) bp.log_level);

        /* Events from here on (docs/events.md); the command line's secrets
         * are scrubbed from everything printed. */
        (void) report_secret_add_url(bp.profiles_url);
        (void) report_secret_add_url(bp.profile_url);
        (void) report_secret_add_url(bp.wait_url);
        r = report_begin(command, o.sysroot, bp.uuid, bp.mac);
        if (r < 0)
                log_warning_errno(r, "Cannot start event reporting, going on without: %m");
        if (bp.report_url) {
                r = report_set_target(bp.report_url, bp.report_token);
                if (r < 0)
                        log_warning_errno(r, "Cannot start the report sender, going on without: %m");
        } else if (discover)
                (void) report_set_target(NULL, NULL); /* no profile will name one: stop queueing */
        /* The key only: a mistyped secret parameter must not reach the console. */
        for (size_t i = 0; bp.unknown && bp.unknown[i]; i++)
                log_warning("Ignoring unknown kernel parameter '%.*s'", (int) strcspn(bp.unknown[i], "="),
                            bp.unknown[i]);

        r = discover ? install_discover(&bp, &o) : install_run(&bp, &o);
        if (r != EXIT_OK) /* the finish event carries the exit status: 128+N after signal N */
                r = interrupt_exit_status(r);
        r = report_end(r);
        cmdline_done(&bp);
        return r;
}

static int cmd_run(int argc, char **argv) {
        return run_booted("run", argc, argv);
}

static int cmd_discover(int argc, char **argv) {
        return run_booted("discover", argc, argv);
}

int main(int argc, char **argv) {
        static const struct {
                const char *name;
                int (*run)(int argc, char **argv);
        } commands[] = {
                { "inventory", cmd_inventory },
                { "plan", cmd_plan },
                { "validate", cmd_validate },
                { "run", cmd_run },
                { "discover", cmd_discover },
                { "render-network", cmd_render_network },
                { "configure", cmd_configure },
                { "keygen", cmd_keygen },
                { "sign", cmd_sign },
                { "verify", cmd_verify },
                { "manifest", cmd_manifest },
        };
        int i = 1, r;

        setvbuf(stdout, NULL, _IOLBF, 0);
        while (i < argc && argv[i][0] == '-') {
                if (streq(argv[i], "--debug"))
                        log_set_max_level(LOG_DEBUG);
                else if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
                        help(stdout);
                        return EXIT_OK;
                } else if (streq(argv[i], "--version")) {
                        printf("installer %s\n", VERSION);
                        return EXIT_OK;
                } else
                        return usage_error("unknown option '%s'", argv[i]);
                i++;
        }
        if (i >= argc) {
                help(stderr);
                return EXIT_USAGE;
        }
        if (streq(argv[i], "help")) {
                help(stdout);
                return EXIT_OK;
        }
        if (streq(argv[i], "version")) {
                printf("installer %s\n", VERSION);
                return EXIT_OK;
        }
        for (size_t k = 0; k < ELEMENTSOF(commands); k++)
                if (streq(argv[i], commands[k].name)) {
                        if (fetch_global_init() < 0) {
                                log_error("Cannot initialise libcurl");
                                return EXIT_FAILURE_GENERIC;
                        }
                        /* run and configure write, discover waits: a signal unwinds
                         * them like a failure and they exit 128 + its number
                         * (basic/interrupt.h). */
                        bool writes = streq(argv[i], "run") || streq(argv[i], "configure") ||
                                      streq(argv[i], "discover");
                        if (writes && interrupt_install() < 0) {
                                log_error("Cannot install the signal handlers");
                                return EXIT_FAILURE_GENERIC;
                        }
                        optind = 1;
                        r = commands[k].run(argc - i, argv + i);
                        fetch_global_done();
                        if (writes && r != EXIT_OK)
                                r = interrupt_exit_status(r);
                        return r;
                }
        return usage_error("unknown command '%s'", argv[i]);
}
