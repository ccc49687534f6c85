#!/bin/bash
# Every profile we ship validates (the demo template once its image checksum
# is filled in, as the boot tree does).
. "$(dirname "$0")/lib.sh"
SHA=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
sed "s/@IMAGE_SHA256@/$SHA/g" "$ROOT/profiles/default.yaml" > "$T/default.yaml"
expect_rc 0 "$INSTALLER" validate "$T/default.yaml" "$ROOT"/profiles/examples/*.yaml
# The installer medium's template (rootfs/mkusb.sh fills it in the same way).
sed "s/@IMAGE_SHA256@/$SHA/g" "$ROOT/profiles/usb.yaml" > "$T/usb.yaml"
expect_rc 0 "$INSTALLER" validate "$T/usb.yaml"
# The template itself is refused: a placeholder is not a checksum.
expect_rc 3 "$INSTALLER" validate "$ROOT/profiles/default.yaml"
# Hostile input is refused where it crosses a limit, quickly, with a position
# (timeouts generous: these took 30 s to hours before the limits were
# enforced while parsing).
python3 - "$T" <<'PY'
import sys
t = sys.argv[1]
open(t + "/deep.yaml", "w").write("version: 1\nhostname: " + "[" * 100000 + "]" * 100000 + "\n")
open(t + "/big.yaml", "w").write("[" * (4 * 1024 * 1024))
open(t + "/huge.yaml", "w").write("a: " + "x" * (4 * 1024 * 1024) + "\n")
PY
expect_rc 3 timeout 20 "$INSTALLER" validate "$T/deep.yaml"
expect_in "$T/err" "$T/deep.yaml:2:74: error: document nested deeper than 64 levels"
expect_rc 3 timeout 20 "$INSTALLER" validate "$T/big.yaml"
expect_in "$T/err" "$T/big.yaml:1:65: error: document nested deeper than 64 levels"
expect_rc 3 timeout 20 "$INSTALLER" validate "$T/huge.yaml"
expect_in "$T/err" "$T/huge.yaml: error: cannot read: larger than 4194304 bytes"
# Includes of a FIFO (never opened for reading, so nothing waits for a
# writer) and of a device: refused at the include entry.
mkfifo "$T/fifo.yaml"
printf 'include:\n  - fifo.yaml\n  - /dev/zero\nversion: 1\n' > "$T/inc.yaml"
expect_rc 3 timeout 20 "$INSTALLER" validate "$T/inc.yaml"
expect_in "$T/err" "$T/inc.yaml:2:5: error: include[0]: cannot include 'fifo.yaml': not a regular file"
expect_in "$T/err" "$T/inc.yaml:3:5: error: include[1]: cannot include '/dev/zero': not a regular file"
# The profile itself: a FIFO is refused, not waited for.
expect_rc 3 timeout 20 "$INSTALLER" validate "$T/fifo.yaml"
expect_in "$T/err" "$T/fifo.yaml: error: cannot read: not a regular file"
echo ok
