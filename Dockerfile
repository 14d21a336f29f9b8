# One image for every service: `docker run IMAGE session_svc` (or invite_svc, routing_svc,
# media_relay, gateway); `supportctl` is on the PATH too. Built from uv.lock, nothing else.
#   docker build -t support-center .

FROM python:3.11-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.13 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
COPY . .
# the services and their libraries from the lock file; no dev, test, demo or bench packages.
# Behind a TLS-inspecting proxy, give its certificate authority as a build secret:
#   docker build --secret id=extra_ca,src=/path/to/ca-bundle.crt .
RUN --mount=type=secret,id=extra_ca \
    if [ -s /run/secrets/extra_ca ]; then \
        export SSL_CERT_FILE=/run/secrets/extra_ca UV_NATIVE_TLS=1; fi; \
    uv sync --frozen --no-default-groups --no-editable \
    --package session-svc --package invite-svc --package routing-svc \
    --package media-relay --package gateway

FROM python:3.11-slim
RUN groupadd --gid 10001 app && useradd --uid 10001 --gid app --no-create-home app \
    && mkdir -p /var/lib/media-relay/recordings && chown app:app /var/lib/media-relay/recordings
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 OPS_PORT=9090
USER 10001:10001
# 8080 gateway, 8765 media-relay, 9090 every service's /healthz, /readyz, /metrics
EXPOSE 8080 8765 9090
ENTRYPOINT ["python", "-m"]
CMD ["session_svc"]
