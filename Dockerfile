# profiled runtime image.
#
# It is built FROM scratch, with no base image to pull, so it builds without
# registry access. The binary is built outside the image: `make image` runs
#   CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o bin/profiled .
# and then `docker build -t profiled:latest .` (CGO off gives a static binary,
# which scratch needs: there is no libc in it).
#
# Layout of the image:
#   /profiled                   the binary (ENTRYPOINT)
#   /etc/profiled/config.yaml   default config; docker-compose.yml mounts ./config.yaml over it
#   /data                       bbolt data directory, owned by 65532, a volume
#
# scratch has no shell, so there is no RUN: /data is created by copying an
# empty directory from the build context with the right owner, and the
# health check is the binary's own `healthcheck` subcommand.
FROM scratch

COPY bin/profiled /profiled
COPY config.yaml /etc/profiled/config.yaml
# An empty named volume mounted on /data is seeded from this directory,
# ownership included, so the non-root user can create the data file.
COPY --chown=65532:65532 ops/docker/data /data

WORKDIR /
ENV PROFILED_CONFIG=/etc/profiled/config.yaml \
    PROFILED_DATA=/data/profiles.db \
    PROFILED_ADDR=:8080
USER 65532:65532
VOLUME /data
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/profiled", "healthcheck"]
ENTRYPOINT ["/profiled"]
CMD ["serve"]
