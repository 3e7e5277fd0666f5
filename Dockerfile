# The production image: slim, non-root, runtime dependencies from requirements.lock, static files collected
# and served by whitenoise. docker-compose.yml runs the web app, the workers and beat from it.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements.lock /tmp/requirements.lock
RUN python -m venv /venv && /venv/bin/pip install -r /tmp/requirements.lock

FROM python:3.11-slim
ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DISPATCHER_MODE=production \
    DISPATCHER_DATA_DIR=/app/data \
    STATIC_ROOT=/app/staticfiles
COPY --from=build /venv /venv
WORKDIR /app
COPY . .
# collectstatic needs settings, not a database or real secrets
RUN SECRET_KEY=collectstatic-only-not-a-real-secret-key-0123456789 ALLOWED_HOSTS=localhost \
        DATABASE_URL=sqlite:////tmp/collectstatic.sqlite3 python manage.py collectstatic --noinput -v0 \
    && rm -f /tmp/collectstatic.sqlite3 \
    && useradd --system --uid 10001 --home-dir /app dispatcher \
    && mkdir -p /app/data && chown dispatcher /app/data
USER 10001
EXPOSE 8000
CMD ["gunicorn", "dispatcher.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", \
     "--access-logfile", "-", "--forwarded-allow-ips", "*"]
