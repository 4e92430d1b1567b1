# Multi-stage build of the 小申 knowledge-base service. The build stage runs
# the same `make dist` that CI tests, so the image ships the tested layout:
# the binary with its gojieba dictionaries in ./dict beside it.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN make dist

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home /data xiaoshen \
 && mkdir -p /data && chown xiaoshen /data
COPY --from=build /src/dist/xiaoshen /opt/xiaoshen
USER xiaoshen
ENV XIAOSHEN_ADDR=0.0.0.0:8080 \
    XIAOSHEN_DATA=/data \
    XIAOSHEN_LOG_FORMAT=json
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s \
  CMD ["/opt/xiaoshen/xiaoshen", "healthcheck"]
ENTRYPOINT ["/opt/xiaoshen/xiaoshen"]
CMD ["serve"]
