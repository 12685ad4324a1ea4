# forkhttpd in an empty image: the static binary and nothing else. Build the binary
# first (`make build`), then: docker build -t forkhttpd . && docker run -p 8888:8888 forkhttpd
#
# As PID 1 it handles SIGTERM itself (docker stop): it stops accepting, lets the
# requests in flight finish, and exits 0; it also reaps orphans reparented to it.
FROM scratch
COPY target/release/forkhttpd /forkhttpd
EXPOSE 8888
STOPSIGNAL SIGTERM
ENTRYPOINT ["/forkhttpd"]
