# ~/.bashrc of root (test stand-in)
