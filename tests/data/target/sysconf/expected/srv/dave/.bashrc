# ~/.bashrc (test stand-in for Debian's /etc/skel/.bashrc)
