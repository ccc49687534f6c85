# ~/.bash_logout (test stand-in)
