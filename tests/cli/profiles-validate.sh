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
echo ok
