# A first image for docker-compose.yml; the deployment issue hardens it (gunicorn, static files, healthchecks).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.lock .
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
RUN useradd --create-home --uid 10001 dispatcher && mkdir -p /app/data && chown dispatcher /app/data
USER dispatcher
EXPOSE 8000
CMD ["python", "manage.py", "runserver", "0.0.0.0:8000", "--noreload"]
