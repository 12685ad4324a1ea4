#!/bin/sh
# A CGI program in POSIX shell: a header block, an empty line, the body.
printf 'Content-Type: text/plain\n\n'
printf 'Hello from sh: %s %s?%s\n' "$REQUEST_METHOD" "$PATH_INFO" "$QUERY_STRING"
