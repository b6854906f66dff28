# shoplens: one image for the web server, the Celery worker and Celery beat.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HOME=/var/cache/huggingface

WORKDIR /app

# CPU build of torch by default; pass --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu124
# (or similar) for a GPU worker image.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN pip install torch==2.13.0 --index-url "$TORCH_INDEX_URL"

COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# Static files are collected at build time; the values below exist only for this step.
RUN DJANGO_SETTINGS_MODULE=config.settings.production \
    DJANGO_SECRET_KEY=collectstatic-only-0123456789abcdef0123456789abcdef \
    DJANGO_ALLOWED_HOSTS=localhost \
    DATABASE_URL=postgres://build@localhost/build \
    REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput

RUN useradd --create-home --uid 1000 shoplens \
    && mkdir -p /app/media "$HF_HOME" \
    && chown -R shoplens:shoplens /app/media "$HF_HOME"
USER shoplens

ENV DJANGO_SETTINGS_MODULE=config.settings.production
EXPOSE 8000
# deploy/gunicorn.conf.py: workers x threads <= cores, models loaded before the first request,
# JSON access log on stdout.
CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "config.wsgi"]
