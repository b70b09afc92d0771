# QualityBytes License Server: gunicorn on port 8000 as a non-root user.
#   docker build -t qualitybytes .
#   docker run --env-file prod.env -p 8000:8000 qualitybytes
#   docker run --env-file prod.env qualitybytes python manage.py migrate --noinput   # once per release
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic needs settings to load, not real secrets: throwaway values for this step only.
RUN DEBUG=0 SECRET_KEY=collectstatic-only DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    LICENSE_KEY_PEPPER=collectstatic-only LICENSE_KEY_ENCRYPTION_KEY=collectstatic-only \
    LICENSE_SIGNING_KEY=collectstatic-only \
    python manage.py collectstatic --noinput \
 && useradd --create-home --uid 10001 app \
 && mkdir -p /app/var && chown app:app /app/var

USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
CMD ["gunicorn", "qualitybytes.wsgi"]
