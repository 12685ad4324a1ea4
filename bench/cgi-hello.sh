#!/bin/sh
# The benchmark's shell CGI program: what most CGI scripts cost (fork, execve of
# /bin/sh, the shell's start-up), next to bench/cgi-hello.c's static binary.
printf 'Content-Type: text/plain\r\nContent-Length: 14\r\n\r\nHello, World!\n'
