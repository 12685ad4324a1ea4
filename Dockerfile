# forkhttpd in an empty image: the static binary and nothing else.
#
#   docker build -t forkhttpd .                      # from a clean clone: no `make build` first
#   docker run --rm -p 8888:8888 forkhttpd           # Hello, with /health for probes
#
# Stage 1 builds with the pinned toolchain (the one rust-toolchain users get: 1.95), from
# the lock file; stage 2 holds the stripped binary alone. As PID 1 forkhttpd handles
# SIGTERM itself (docker stop): it stops accepting, lets the requests in flight finish (up
# to --grace, 8 s: before docker stop's 10 s SIGKILL), and exits 0; it reaps orphans.
FROM docker.io/library/rust:1.95.0-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin forkhttpd \
 && strip -o /forkhttpd target/release/forkhttpd

FROM scratch
COPY --from=build /forkhttpd /forkhttpd
# nobody: no /etc/passwd in the image, so the number.
USER 65534
EXPOSE 8888
STOPSIGNAL SIGTERM
# The image has no curl or wget: the binary probes itself.
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD ["/forkhttpd", "--probe", "http://127.0.0.1:8888/health"]
ENTRYPOINT ["/forkhttpd", "--health", "/health"]
# A site: `FROM forkhttpd`, `COPY public /public`, `CMD ["/public"]` (README: In a container).
CMD []
