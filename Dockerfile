# syntax=docker/dockerfile:1
# Build stage: a virtualenv with the pinned dependencies and the bot, built where the tools are.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
COPY requirements.lock /tmp/requirements.lock
RUN /opt/venv/bin/pip install -r /tmp/requirements.lock
COPY pyproject.toml README.md /src/
COPY bot /src/bot
COPY strategies /src/strategies
RUN /opt/venv/bin/pip install --no-deps /src

# Final stage: the virtualenv only, run as an unprivileged user.
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    BOT_DATA_DIR=/data \
    LOG_FORMAT=json \
    MPLCONFIGDIR=/tmp/matplotlib
RUN useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin bot \
    && mkdir /data /app && chown bot:bot /data && chmod 0700 /data
COPY --from=build /opt/venv /opt/venv
USER bot
# Settings come from the environment (compose's env_file); a .env is read only from /app, which belongs to root,
# never from the data volume.
WORKDIR /app
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["bot", "health"]
ENTRYPOINT ["bot"]
CMD ["run"]
