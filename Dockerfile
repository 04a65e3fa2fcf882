# wxpay-mock as a container: a multi-stage build on Debian 12 slim that runs
# as a non-root user. The base image is an argument: debian:bookworm-slim for
# users; ci/container.sh builds one from Debian's packages (mmdebstrap) where
# no registry is reachable.
#
#   docker build -t wxpay-mock .
#   docker run --rm -p 8080:8080 wxpay-mock
#   docker run --rm -p 8080:8080 -v "$PWD/my-fixtures:/etc/wxpay:ro" \
#     wxpay-mock wxpay-mock --host 0.0.0.0 --port 8080 --config /etc/wxpay/mock.json
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -q && apt-get install -y -q --no-install-recommends \
      cmake pkg-config gcc make libc6-dev libssl-dev openssl libcurl4-openssl-dev \
      libmicrohttpd-dev libcjson-dev libcmocka-dev ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY . /src
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/opt/wxpay \
    && cmake --build /build -j"$(nproc)" --target wxpay-mock wxpay-reverse wxpay-pay \
         wxpay-conform wxpay-bench wxpay wxpay_shared wxp_protocol wxp_protocol_shared \
    && cmake --install /build

FROM ${BASE}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -q && apt-get install -y -q --no-install-recommends \
      libcurl4 libmicrohttpd12 libcjson1 libssl3 curl ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin wxpay
COPY --from=build /opt/wxpay /opt/wxpay
ENV PATH=/opt/wxpay/bin:$PATH
# The bundled fixtures are in /opt/wxpay/share/wxpay/fixtures; mount your
# own over /etc/wxpay and pass --config, or set WXPAY_FIXTURES_DIR.
USER wxpay
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8080/__admin/health || exit 1
CMD ["wxpay-mock", "--host", "0.0.0.0", "--port", "8080"]
