# Bare-metal installer: top-level build.
#
#   make deps       install the Debian 12 packages the build needs (root)
#   make            build the installer, the boot kernel and the initramfs
#   make demo       PXE-boot a QEMU machine from build/www and install it
#   make check      run every test; last line "N passed, N failed"
#   make unit-asan  build the unit tests under ASan and UBSan (run by make check)
#   make installer-asan  the installer under ASan and UBSan, build/asan/installer
#                   (make check runs the cli tests against it)
#   make server-asan  the site server under ASan and UBSan, build/asan/site-server
#                   (SITE_SERVER_BIN=build/asan/site-server tests/server/X.sh);
#                   make server-asan-tests: its C tests, build/asan/tests/server/
#   make fuzz       fuzz the profile loader, the plan, the inventory loader,
#                   the netplan renderer, the kernel command line parser and
#                   the manifest, keyring and signature parsers
#                   (libFuzzer, clang); FUZZ_SECONDS=600 per target by
#                   default, FUZZ_TARGETS to pick some. See docs/testing.md.
#   make image      build the demo Debian 12 OS image (debootstrap, root) and
#                   its manifest, build/image/debian12.tar.zst.manifest
#   make bench      run the benchmarks, write docs/benchmarks.md (make bench-site:
#                   only the site server's load test)
#   make server     the site server, build/server/site-server (docs/site.md)
#   make serve [SITE_POLICY=install|discover] [SITE_LISTEN=127.0.0.1:8080]
#                   run it for build/www, state in build/site; prints the
#                   status page's address
#   make check-site the site server's tests: its C tests and scripts, then
#                   its three QEMU tests (tests/vm/90-92, not in make check)
#   make check-long the three longest installer QEMU tests, not in make check
#                   (80-raid1, 41-usb-uefi, 60-try-pass; ~20-30 minutes)
#   make check-faults  every network fault kind, one QEMU netboot each
#   make powercut   the power-cut matrix: 25 cut points, one install each
#   make try PROFILE=FILE [INVENTORY=JSON] [FIRMWARE=bios|uefi] [DISKS="8G ..."]
#                   [MEM=MB] [MAC=MAC] [DRYRUN=1] [DEMO_IMAGE=1] [IMAGE=FILE]
#                   rehearse a profile in QEMU (qemu/try.sh); PASS/FAIL verdict
#   make secureboot Debian's signed shim and GRUB (build/secureboot, pinned in
#                   rootfs/versions.lock) and the Secure Boot network boot in
#                   build/www: DHCP boot file shimx64.efi (docs/secureboot.md)
#   make check-secureboot  tests/vm/31-secureboot.sh: OVMF with Secure Boot,
#                   network and USB boot, an unsigned kernel refused
#   make dnsmasq-conf IFACE=eth1 SERVER=http://192.0.2.10/ [SUBNET=192.0.2.0/24] [SECUREBOOT=1]
#                   proxy-DHCP + TFTP configuration for a real site
#                   (ipxe/mkdnsmasq.sh -> build/dnsmasq/dnsmasq.conf, tftp/)
#   make ... SITE_CA=ca.pem  pin the site CA for https in the initramfs and the
#                   USB medium (docs/tls.md)
#   make SITE_KEYS=trusted.keys  put the site's trusted signing keys into the
#                   initramfs (/etc/installer/trusted.keys), so onto the USB
#                   medium too: profiles, fragments, files and LUKS key files
#                   must then be signed (docs/trust.md). Default: no keys.
#   make SIGN_KEY=site.key  sign the profiles make www and make usb publish
#                   (installer sign; make a key with installer keygen)
#   make usb PROFILE=path   the installer medium build/usb/installer.iso (USB
#                   stick or DVD, BIOS and UEFI) with that profile (default
#                   profiles/usb.yaml) and the OS image: installs with no
#                   network. See docs/boot.md.
#
# All output goes under build/. `make V=1` shows the commands.

V ?= 0
ifeq ($(V),0)
Q := @
else
Q :=
endif

BUILD      := build
CC         ?= cc
WERROR     ?=
CFLAGS     ?= -O2 -g
PKGS       := libparted blkid libcurl libarchive yaml-0.1 libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS := -std=gnu11 -Wall -Wextra -Wshadow -Wformat=2 -Wno-unused-parameter \
              -Wmissing-prototypes -Wstrict-prototypes -D_GNU_SOURCE \
              -Iinstaller $(PKG_CFLAGS) $(WERROR) $(CFLAGS)
LDLIBS     := $(PKG_LIBS) -lcrypt

# ---------------------------------------------------------------------------
# The installer (C). Every installer/<module>/*.c is part of the library;
# installer/main.c and installer/cmd_*.c are the command-line layer.
INST_LIB_SRC := $(sort $(wildcard installer/*/*.c))
INST_CMD_SRC := $(sort $(wildcard installer/*.c))
INST_LIB_OBJ := $(INST_LIB_SRC:%.c=$(BUILD)/obj/%.o)
INST_CMD_OBJ := $(INST_CMD_SRC:%.c=$(BUILD)/obj/%.o)
INST_HDR     := $(wildcard installer/*.h installer/*/*.h)
INSTALLER    := $(BUILD)/installer/installer

.PHONY: all installer deps kernel initramfs www demo check unit vmtest image bench clean distclean
all: installer server initramfs www secureboot

installer: $(INSTALLER)

# The installer's build time, a lower bound of the true time: a clock earlier
# than it is an error before any TLS handshake (installer/basic/clock.c,
# docs/tls.md). SOURCE_DATE_EPOCH when set (reproducible builds), else now.
# Only clock.c is compiled with it (recompiled when clock.c changes; an older
# value is still a true lower bound).
BUILD_EPOCH ?= $(or $(SOURCE_DATE_EPOCH),$(shell date +%s))
CLOCK_DEF := -DINSTALLER_BUILD_EPOCH=$(BUILD_EPOCH)ull
$(BUILD)/obj/installer/basic/clock.o: ALL_CFLAGS += $(CLOCK_DEF)
$(BUILD)/asan/obj/installer/basic/clock.o: ASAN_CFLAGS += $(CLOCK_DEF)
$(BUILD)/fuzz/obj/installer/basic/clock.o: FUZZ_CFLAGS += $(CLOCK_DEF)

$(BUILD)/obj/%.o: %.c $(INST_HDR)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libinstaller.a: $(INST_LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(INSTALLER): $(INST_CMD_OBJ) $(BUILD)/libinstaller.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

# ---------------------------------------------------------------------------
# Unit tests (cmocka): tests/unit/test_<name>.c -> build/tests/test_<name>
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_HDR  := $(wildcard tests/unit/*.h)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libinstaller.a $(INST_HDR) $(UNIT_HDR)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libinstaller.a $(LDLIBS) -lcmocka

unit-bins: $(UNIT_BIN)

# Test tools for the command-line tests: tests/tools/NAME.c ->
# build/tests/tools/NAME (image-fetch: tests/cli/fetch-faults.sh). Built with
# the unit tests, so tests/run.sh builds them.
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tests/tools/%)

$(BUILD)/tests/tools/%: tests/tools/%.c $(BUILD)/libinstaller.a $(INST_HDR)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libinstaller.a $(LDLIBS)

unit-bins: $(TOOL_BIN)

# ---------------------------------------------------------------------------
# The same unit tests under AddressSanitizer (with LeakSanitizer) and
# UndefinedBehaviorSanitizer: every library source and every test compiled
# again, with the sanitizers, into build/asan/. tests/run.sh runs them as the
# "unit-asan" section; any sanitizer report fails the test.
SAN_FLAGS      := -fsanitize=address,undefined -fno-omit-frame-pointer \
                  -fno-sanitize-recover=undefined
ASAN_CFLAGS    := $(ALL_CFLAGS) -O1 $(SAN_FLAGS)
ASAN_LIB_OBJ   := $(INST_LIB_SRC:%.c=$(BUILD)/asan/obj/%.o)
ASAN_UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/asan/tests/%)

.PHONY: unit-asan

$(BUILD)/asan/obj/%.o: %.c $(INST_HDR)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (asan)")
	$(Q)$(CC) $(ASAN_CFLAGS) -c -o $@ $<

$(BUILD)/asan/libinstaller.a: $(ASAN_LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/asan/tests/%: tests/unit/%.c $(BUILD)/asan/libinstaller.a $(INST_HDR) $(UNIT_HDR)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (asan)")
	$(Q)$(CC) $(ASAN_CFLAGS) -o $@ $< $(BUILD)/asan/libinstaller.a $(LDLIBS) -lcmocka

unit-asan: $(ASAN_UNIT_BIN)

# The installer itself under the same sanitizers: build/asan/installer.
# tests/run.sh runs the command-line tests against it ("cli-asan" section,
# INSTALLER=build/asan/installer for tests/cli/lib.sh).
ASAN_CMD_OBJ   := $(INST_CMD_SRC:%.c=$(BUILD)/asan/obj/%.o)
ASAN_INSTALLER := $(BUILD)/asan/installer

.PHONY: installer-asan
installer-asan: $(ASAN_INSTALLER)

$(ASAN_INSTALLER): $(ASAN_CMD_OBJ) $(BUILD)/asan/libinstaller.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@ (asan)")
	$(Q)$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LDLIBS)

# The test tools too (tests/run.sh's cli-asan section points
# tests/cli/fetch-faults.sh at build/asan/tests/tools/image-fetch).
ASAN_TOOL_BIN  := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/asan/tests/tools/%)
installer-asan: $(ASAN_TOOL_BIN)

$(BUILD)/asan/tests/tools/%: tests/tools/%.c $(BUILD)/asan/libinstaller.a $(INST_HDR)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (asan)")
	$(Q)$(CC) $(ASAN_CFLAGS) -o $@ $< $(BUILD)/asan/libinstaller.a $(LDLIBS)

# ---------------------------------------------------------------------------
# Fuzzing with libFuzzer (clang only), one target per parser or planner
# (tests/fuzz/fuzz_NAME.c -> build/fuzz/fuzz_NAME, see docs/testing.md):
#   profile    the profile parser and validator, and the plan of every
#              profile that loads
#   plan       the layout arithmetic: random machines and disk layouts
#   inventory  the inventory JSON loader (plan --inventory)
#   netplan    the netplan checker and renderer (networkd files, netplan YAML)
#   cmdline    the kernel command line parser
# Every library source is compiled again with clang into build/fuzz/; the run
# (tests/fuzz/run.sh) fuzzes each target for FUZZ_SECONDS (per target),
# keeps its corpus under build/fuzz/NAME/ and fails on any crash, leak,
# timeout or sanitizer report. FUZZ_TARGETS="plan cmdline" runs some.
FUZZ_CC        ?= clang
FUZZ_SECONDS   ?= 600
FUZZ_TARGETS   ?= profile plan inventory netplan cmdline trust
FUZZ_SAN       := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS    := $(ALL_CFLAGS) -g -O1 $(FUZZ_SAN)
FUZZ_LIB_OBJ   := $(INST_LIB_SRC:%.c=$(BUILD)/fuzz/obj/%.o)
FUZZ_BIN       := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)

.PHONY: fuzz-build fuzz
# Built through a pattern rule: keep them (make would delete them as
# intermediate files and rebuild them for the next target).
.SECONDARY: $(FUZZ_LIB_OBJ)

$(BUILD)/fuzz/obj/%.o: %.c $(INST_HDR)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CLANG   $< (fuzz)")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_OBJ) $(INST_HDR)
	@$(if $(Q),echo "  CLANG   $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJ) $(LDLIBS)

fuzz-build: $(FUZZ_BIN)

fuzz: deps
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)tests/fuzz/run.sh --seconds $(FUZZ_SECONDS) --out $(BUILD)/fuzz $(FUZZ_TARGETS)

# ---------------------------------------------------------------------------
# The site server (server/, docs/site.md): build/server/site-server. It uses
# installer/basic through libinstaller.a. Its C tests: tests/server/test_*.c
# (cmocka), linked with every server object but main.o.
# $(SERVER_LIBS) come before libinstaller.a: a function of libinstaller.a
# with the name of one of those libraries' (installer/basic/json.c's writer
# had json_string and json_null, now jsonw_*) must not take the server's calls.
SERVER_PKGS    := libmicrohttpd sqlite3 libpq jansson libcrypto libcurl
SERVER_CFLAGS  := $(ALL_CFLAGS) -Iserver $(shell pkg-config --cflags $(SERVER_PKGS) 2>/dev/null)
SERVER_LIBS    := $(shell pkg-config --libs $(SERVER_PKGS) 2>/dev/null)
SERVER_SRC     := $(sort $(wildcard server/*.c))
SERVER_OBJ     := $(SERVER_SRC:%.c=$(BUILD)/obj/%.o)
SERVER_HDR     := $(wildcard server/*.h)
SERVER_LIB_OBJ := $(filter-out $(BUILD)/obj/server/main.o,$(SERVER_OBJ))
SITE_BIN       := $(BUILD)/server/site-server
SERVER_TEST_SRC := $(sort $(wildcard tests/server/test_*.c))
SERVER_TEST_BIN := $(SERVER_TEST_SRC:tests/server/%.c=$(BUILD)/tests/server/%)

.PHONY: server server-tests serve check-site
server: $(SITE_BIN)

$(BUILD)/obj/server/%.o: server/%.c $(SERVER_HDR) $(INST_HDR)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(SERVER_CFLAGS) -c -o $@ $<

$(SITE_BIN): $(SERVER_OBJ) $(BUILD)/libinstaller.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(SERVER_CFLAGS) -Wl,--as-needed -o $@ $(SERVER_OBJ) $(SERVER_LIBS) $(BUILD)/libinstaller.a $(SERVER_LIBS) $(LDLIBS)

$(BUILD)/tests/server/%: tests/server/%.c $(SERVER_LIB_OBJ) $(BUILD)/libinstaller.a $(SERVER_HDR) $(INST_HDR)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(SERVER_CFLAGS) -o $@ $< $(SERVER_LIB_OBJ) $(SERVER_LIBS) $(BUILD)/libinstaller.a $(SERVER_LIBS) $(LDLIBS) -lcmocka

server-tests: $(SERVER_TEST_BIN)

# The site server under ASan and UBSan: build/asan/site-server (its objects
# in build/asan/obj/server/, linked with build/asan/libinstaller.a). The
# server's scripts run against it with SITE_SERVER_BIN=build/asan/site-server
# (tests/server/lib.sh); tests/server/hostile.sh is meant for it.
ASAN_SERVER_CFLAGS := $(SERVER_CFLAGS) -O1 $(SAN_FLAGS)
ASAN_SERVER_OBJ    := $(SERVER_SRC:%.c=$(BUILD)/asan/obj/%.o)
ASAN_SERVER        := $(BUILD)/asan/site-server

.PHONY: server-asan
server-asan: $(ASAN_SERVER)

$(BUILD)/asan/obj/server/%.o: server/%.c $(SERVER_HDR) $(INST_HDR)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (asan)")
	$(Q)$(CC) $(ASAN_SERVER_CFLAGS) -c -o $@ $<

$(ASAN_SERVER): $(ASAN_SERVER_OBJ) $(BUILD)/asan/libinstaller.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@ (asan)")
	$(Q)$(CC) $(ASAN_SERVER_CFLAGS) -o $@ $(ASAN_SERVER_OBJ) $(SERVER_LIBS) $(BUILD)/asan/libinstaller.a $(SERVER_LIBS) $(LDLIBS)

# Its C tests too: build/asan/tests/server/test_* (make server-asan-tests).
ASAN_SERVER_LIB_OBJ  := $(filter-out $(BUILD)/asan/obj/server/main.o,$(ASAN_SERVER_OBJ))
ASAN_SERVER_TEST_BIN := $(SERVER_TEST_SRC:tests/server/%.c=$(BUILD)/asan/tests/server/%)

.PHONY: server-asan-tests
server-asan-tests: $(ASAN_SERVER_TEST_BIN)

$(BUILD)/asan/tests/server/%: tests/server/%.c $(ASAN_SERVER_LIB_OBJ) $(BUILD)/asan/libinstaller.a $(SERVER_HDR) $(INST_HDR)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (asan)")
	$(Q)$(CC) $(ASAN_SERVER_CFLAGS) -o $@ $< $(ASAN_SERVER_LIB_OBJ) $(SERVER_LIBS) $(BUILD)/asan/libinstaller.a $(SERVER_LIBS) $(LDLIBS) -lcmocka

# ---------------------------------------------------------------------------
# Dependencies, kernel, initramfs, the tree served to booting machines.
deps:
	$(Q)rootfs/deps.sh

kernel: $(BUILD)/kernel/vmlinuz
$(BUILD)/kernel/vmlinuz: rootfs/fetch-kernel.sh rootfs/versions.lock
	$(Q)rootfs/fetch-kernel.sh $(BUILD)/kernel

# The site CA (docs/tls.md): `make SITE_CA=path/to/ca.pem` puts it (one or
# more PEM CA certificates) into the initramfs as /etc/installer/site-ca.pem,
# and so onto the USB medium, which boots that initramfs (make usb
# SITE_CA=...). Every https request is then verified against it only, not
# the public CA bundle. Default: none. build/boot/site-ca.pem is the copy the
# initramfs was built with (empty: none); it changes, and the initramfs is
# built again, only when the CA does.
SITE_CA      ?=
SITE_CA_COPY := $(BUILD)/boot/site-ca.pem
.PHONY: FORCE
FORCE:
$(SITE_CA_COPY): FORCE
	@mkdir -p $(dir $@)
	$(Q)if [ -n "$(SITE_CA)" ]; then \
		grep -q -- '-----BEGIN CERTIFICATE-----' "$(SITE_CA)" || \
			{ echo "make: SITE_CA=$(SITE_CA): no PEM certificate in it" >&2; exit 1; }; \
		cmp -s "$(SITE_CA)" $@ || cp "$(SITE_CA)" $@; \
	else \
		{ [ -e $@ ] && [ ! -s $@ ]; } || : > $@; \
	fi

initramfs: $(BUILD)/boot/initrd.img
$(BUILD)/boot/initrd.img: $(INSTALLER) $(BUILD)/kernel/vmlinuz rootfs/mkinitramfs.sh rootfs/init rootfs/modules.list \
                          rootfs/udhcpc.script tests/data/sysroot-dump.sh $(SITE_CA_COPY) $(BUILD)/site-keys.stamp
	$(Q)rootfs/mkinitramfs.sh --kernel-dir $(BUILD)/kernel --installer $(INSTALLER) --site-ca $(SITE_CA_COPY) --out $@ \
		$(if $(SITE_KEYS),--keys "$(SITE_KEYS)")

# Signing (docs/trust.md). SITE_KEYS: the keyring built into the initramfs;
# the stamp holds its name and text, so a changed (or dropped) keyring
# rebuilds the initramfs (a first stamp without keys is dated 1970: it
# rebuilds nothing). SIGN_KEY: signs the published profiles.
SITE_KEYS ?=
SIGN_KEY  ?=
.PHONY: site-keys-check
$(BUILD)/site-keys.stamp: site-keys-check
	@mkdir -p $(dir $@)
	$(Q){ echo "SITE_KEYS=$(SITE_KEYS)"; if [ -n "$(SITE_KEYS)" ]; then cat "$(SITE_KEYS)"; fi; } > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; \
	elif [ ! -e $@ ] && [ -z "$(SITE_KEYS)" ]; then mv $@.tmp $@ && touch -d @86400 $@; \
	else mv $@.tmp $@; fi

# build/www is what the boot server serves: kernel, initrd, iPXE script, profiles.
BOOT_URL ?= http://10.0.2.100/
www: $(BUILD)/boot/initrd.img
	$(Q)ipxe/mkwww.sh --boot-url $(BOOT_URL) --kernel $(BUILD)/kernel/vmlinuz \
		--initrd $(BUILD)/boot/initrd.img --profiles profiles --out $(BUILD)/www --installer $(INSTALLER) \
		$(if $(SIGN_KEY),--sign-key "$(SIGN_KEY)")
	$(Q)if [ -n "$(SITE_KEYS)" ] && [ -z "$(SIGN_KEY)" ]; then echo "make www: WARNING: SITE_KEYS without SIGN_KEY:" \
		"the profiles in $(BUILD)/www are not signed and the installer will refuse them" >&2; fi

# ---------------------------------------------------------------------------
# Secure Boot (docs/secureboot.md): Debian's signed shim and GRUB, fetched
# with apt (pinned in rootfs/versions.lock), and their network boot tree in
# build/www beside the iPXE one: shimx64.efi (the DHCP boot file for UEFI
# clients with Secure Boot), grubx64.efi, grub/grub.cfg.
SIGNED_DIR := $(BUILD)/secureboot
.PHONY: secureboot check-secureboot
secureboot: $(SIGNED_DIR)/VERSION www
	$(Q)secureboot/mknet.sh --signed $(SIGNED_DIR) --kernel $(BUILD)/www/vmlinuz \
		--initrd $(BUILD)/www/initrd.img --boot-url $(BOOT_URL) --out $(BUILD)/www

$(SIGNED_DIR)/VERSION: secureboot/fetch-signed.sh rootfs/versions.lock
	$(Q)secureboot/fetch-signed.sh $(SIGNED_DIR)

# Three QEMU boots under OVMF with Secure Boot (3 minutes under TCG on a quiet machine, 7-8 under load),
# tests/vm/31-secureboot.sh; docs/secureboot.md.
check-secureboot: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)TESTS=vm VM_TESTS="31-secureboot" tests/run.sh

# ---------------------------------------------------------------------------
# Demo OS image (debootstrap), built once and cached, and its manifest
# (docs/manifest.md: length, sha256 of every 4 MiB chunk; not
# debian12.manifest, the image's package list).
image: $(BUILD)/image/debian12.tar.zst $(BUILD)/image/debian12.tar.zst.manifest
# make runs this only when the image is missing or the script changed, so
# the script's own cache is bypassed (--force).
$(BUILD)/image/debian12.tar.zst: rootfs/mkimage.sh
	$(Q)rootfs/mkimage.sh --force --out $(BUILD)/image
$(BUILD)/image/debian12.tar.zst.manifest: $(BUILD)/image/debian12.tar.zst | $(INSTALLER)
	$(Q)$(INSTALLER) manifest $< -o $@

# ---------------------------------------------------------------------------
# The installer medium: a hybrid ISO for a USB stick or a DVD (rootfs/mkusb.sh).
#   make usb [PROFILE=path] [USB_IMAGE=file.tar.zst] [USB_LABEL=BMI_INSTALL]
#            [USB_APPEND="kernel args"] [USB_OUT=file.iso] [USB_SECUREBOOT=0]
# UEFI boots the medium through Debian's signed shim and GRUB (Secure Boot
# on or off); USB_SECUREBOOT=0 puts systemd-boot there instead.
# PROFILE is a profile file (becomes default.yaml on the medium) or a tree;
# default: the template profiles/usb.yaml.
USB_OUT    ?= $(BUILD)/usb/installer.iso
USB_LABEL  ?= BMI_INSTALL
USB_APPEND ?=
USB_IMAGE  ?= $(BUILD)/image/debian12.tar.zst
USB_SECUREBOOT ?= 1
USB_SIGNED := $(if $(filter 1 yes,$(USB_SECUREBOOT)),$(SIGNED_DIR))
.PHONY: usb usb-build
usb: deps
	$(Q)$(MAKE) --no-print-directory usb-build

usb-build: PROFILE ?= profiles/usb.yaml
usb-build: $(INSTALLER) $(BUILD)/kernel/vmlinuz $(BUILD)/boot/initrd.img $(USB_IMAGE) $(USB_SIGNED:%=%/VERSION)
	$(Q)rootfs/mkusb.sh --kernel $(BUILD)/kernel/vmlinuz --initrd $(BUILD)/boot/initrd.img \
		--profile "$(PROFILE)" --image "$(USB_IMAGE)" --installer $(INSTALLER) \
		--label "$(USB_LABEL)" --append "$(USB_APPEND)" --out "$(USB_OUT)" \
		$(if $(SIGN_KEY),--sign-key "$(SIGN_KEY)") \
		$(if $(USB_SIGNED),--signed $(USB_SIGNED))

# ---------------------------------------------------------------------------
# The site server for build/www (docs/site.md): listens on 127.0.0.1:8080,
# keeps its state (SQLite, operator token) in build/site. SITE_POLICY is what
# an unknown machine does: discover (report its hardware, then wait for the
# operator) or install (the default profile).
SITE_POLICY ?= discover
SITE_LISTEN ?= 127.0.0.1:8080
serve: deps
	$(Q)$(MAKE) --no-print-directory all
	@echo "serve: status page: http://$(SITE_LISTEN)/  (operator token: $(BUILD)/site/operator.token)"
	$(Q)$(SITE_BIN) serve --listen $(SITE_LISTEN) --www $(BUILD)/www --state-dir $(BUILD)/site \
		--url $(BOOT_URL) --policy $(SITE_POLICY)

demo: deps
	$(Q)$(MAKE) --no-print-directory all image
	$(Q)qemu/demo.sh

check-site: deps
	$(Q)TESTS="server vm" VM_TESTS="90-site-lifecycle 91-site-discover 92-site-status-page" tests/run.sh

# The installer's QEMU tests too long for make check's 45 minutes
# (tests/run.sh VM_OWN_TARGET, docs/testing.md).
.PHONY: check-long
check-long: deps
	$(Q)TESTS=vm VM_TESTS="80-raid1 41-usb-uefi 60-try-pass 94-net-fail 23-manifest-flip" tests/run.sh

check: deps
	$(Q)tests/run.sh

# Rehearse a profile in a QEMU machine shaped like the target (qemu/try.sh,
# docs/boot.md). The variables map to try.sh's options.
.PHONY: try
try: deps
	$(Q)test -n "$(PROFILE)" || { echo "make try: PROFILE=path/to/profile.yaml needed" >&2; exit 2; }
	$(Q)$(MAKE) --no-print-directory all
	$(Q)test -f $(BUILD)/image/debian12.tar.zst || $(MAKE) --no-print-directory image
	$(Q)qemu/try.sh --profile "$(PROFILE)" \
		$(if $(INVENTORY),--inventory "$(INVENTORY)") $(if $(FIRMWARE),--firmware "$(FIRMWARE)") \
		$(if $(DISKS),--disks "$(DISKS)") $(if $(MEM),--mem "$(MEM)") $(if $(MAC),--mac "$(MAC)") \
		$(if $(filter 1 yes,$(DRYRUN)),--dryrun) $(if $(filter 1 yes,$(DEMO_IMAGE)),--demo-image) \
		$(if $(IMAGE),--image "$(IMAGE)") $(if $(TRY_OUT),--out "$(TRY_OUT)") \
		$(if $(filter 1 yes,$(CONSOLE)),--console)

# A dnsmasq proxy-DHCP configuration for a real site (docs/boot.md).
.PHONY: dnsmasq-conf
# SECUREBOOT=1: UEFI clients get shim and Debian's signed GRUB instead of
# iPXE (docs/secureboot.md); the kernel and initramfs then come over TFTP.
dnsmasq-conf: $(if $(filter 1 yes,$(SECUREBOOT)),$(SIGNED_DIR)/VERSION $(BUILD)/boot/initrd.img)
	$(Q)$(if $(filter 1 yes,$(SECUREBOOT)),mkdir -p $(BUILD)/dnsmasq/tftp && secureboot/mknet.sh --signed $(SIGNED_DIR) \
		--kernel $(BUILD)/kernel/vmlinuz --initrd $(BUILD)/boot/initrd.img --boot-url "$(SERVER)" \
		--out $(BUILD)/dnsmasq/tftp &&) \
	ipxe/mkdnsmasq.sh --iface "$(IFACE)" --server "$(SERVER)" $(if $(SUBNET),--subnet "$(SUBNET)") \
		--out $(BUILD)/dnsmasq $(if $(filter 1 yes,$(SECUREBOOT)),--secureboot)

# The site server's load generator (tests/bench/site-load.c: simulated
# installing machines and status page readers over one libcurl multi handle).
SITE_LOAD := $(BUILD)/tests/bench/site-load
$(SITE_LOAD): tests/bench/site-load.c $(INST_HDR)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(shell pkg-config --cflags --libs libcurl jansson) -lm

.PHONY: site-load bench-site
site-load: $(SITE_LOAD)
# tests/server/two-instance.sh races 50 machines with it (tests/run.sh
# builds server-tests before the server's scripts).
server-tests: $(SITE_LOAD)

# make bench: everything (QEMU runs included); make bench-site: only the
# site server's part (tests/bench.sh site), which replaces that section of
# docs/benchmarks.md and keeps the rest.
bench: deps
	$(Q)$(MAKE) --no-print-directory all $(SITE_LOAD)
	$(Q)tests/bench.sh

bench-site:
	$(Q)$(MAKE) --no-print-directory server $(SITE_LOAD)
	$(Q)tests/bench.sh site

clean:
	rm -rf $(BUILD)/obj $(BUILD)/tests $(BUILD)/installer $(BUILD)/libinstaller.a

distclean:
	rm -rf $(BUILD)

# ---------------------------------------------------------------------------
# Network faults and power cuts in QEMU (docs/testing.md "make check-faults",
# "make powercut"): every request of the guest goes through
# tests/faultproxy.py on 127.0.0.1. check-faults: every fault kind as its own
# netboot (FAULTS= names some: tests/vm/faults.py --list). powercut: the
# power-cut matrix, >= 20 cut points chosen by console events
# (POWERCUT_POINTS=a,b,c for some: tests/vm/powercut.py --list).
.PHONY: check-faults powercut
check-faults: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)test -f $(BUILD)/image/debian12.tar.zst || $(MAKE) --no-print-directory image
	$(Q)tests/vm/faults.py $(if $(FAULTS),$(FAULTS),--all)

powercut: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)test -f $(BUILD)/image/debian12.tar.zst || $(MAKE) --no-print-directory image
	$(Q)tests/vm/powercut.py $(if $(POWERCUT_POINTS),--points $(POWERCUT_POINTS))
