#!/bin/sh
# Written by the installer from the profile (firstboot.runcmd, packages:).
# Run by installer-firstboot.service while /var/lib/installer/firstboot.pending exists;
# the marker goes only when every command succeeded.
set -e
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive
echo 'installer-firstboot: installing packages'
apt-get -q update
apt-get -q -y install 'htop' 'tmux'
echo 'installer-firstboot: command 0'
/bin/sh -c 'echo first boot > /var/lib/installer/first-boot-ran'
echo 'installer-firstboot: command 1'
'touch' '/var/lib/it'\''s here'
rm -f /var/lib/installer/firstboot.pending
date -u +%Y-%m-%dT%H:%M:%SZ > /var/lib/installer/firstboot.done
echo 'installer-firstboot: done'
