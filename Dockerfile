# callsign in a container: built from this repository, run as a non-root user.
#
#   docker build --build-arg REVISION="$(git rev-parse --short=12 HEAD)" -t callsign .
#   docker run -d --name callsign -p 5060:5060/udp -p 5060:5060/tcp \
#     -v /srv/callsign/etc:/etc/callsign:ro -v callsign-state:/var/lib/callsign callsign
#
# The image holds the packaged configuration (packaging/callsign.toml) as a reference;
# mount your own /etc/callsign with callsign.toml, certs/chain.pem and private/leaf.key.
# In a container, set [http] listen to 0.0.0.0:8080 to reach /health, /ready, /metrics
# and the API from outside it. `docker stop` sends SIGTERM, which drains: give it
# `--stop-timeout` above [sip] drain_secs (32 s).

FROM rust:1-bookworm AS build
ARG REVISION=unknown
WORKDIR /src
COPY . .
RUN CALLSIGN_GIT_REVISION="$REVISION" cargo build --release --locked \
    && mkdir -p /out/man \
    && target/release/callsign man --out /out/man

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --user-group --home-dir /var/lib/callsign --shell /usr/sbin/nologin callsign \
    && install -d -o callsign -g callsign -m 0700 /var/lib/callsign \
    && install -d -m 0755 /etc/callsign/certs \
    && install -d -o root -g callsign -m 0750 /etc/callsign/private
COPY --from=build /src/target/release/callsign /usr/bin/callsign
COPY --from=build /out/man/ /usr/share/man/man1/
COPY packaging/callsign.toml /etc/callsign/callsign.toml
USER callsign
VOLUME ["/var/lib/callsign"]
EXPOSE 5060/udp 5060/tcp 8080/tcp
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/callsign"]
CMD ["serve", "--config", "/etc/callsign/callsign.toml"]
