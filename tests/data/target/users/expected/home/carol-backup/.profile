# ~/.profile (test stand-in)
