#!/bin/sh
# The smallest CGI program: a header block, the empty line that ends it, the body.
printf 'Content-Type: text/plain\n\nHello, World!\n'
