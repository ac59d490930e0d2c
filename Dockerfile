FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    REGISTRE_DATA_DIR=/var/lib/registre

WORKDIR /app
COPY pyproject.toml README.md ./
COPY config ./config
COPY apps ./apps
RUN pip install --no-cache-dir .
COPY . .
RUN useradd --system --home-dir /var/lib/registre registre \
    && mkdir -p /var/lib/registre \
    && chown registre /var/lib/registre
USER registre

EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
