# Coachbot production image: build a wheel in one stage, run it as a non-root user in another.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY services ./services
COPY prompts ./prompts
COPY migrations ./migrations
RUN python -m venv /opt/coachbot \
 && /opt/coachbot/bin/pip install --no-cache-dir --upgrade pip \
 && /opt/coachbot/bin/pip install --no-cache-dir .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 coachbot
COPY --from=build /opt/coachbot /opt/coachbot
ENV PATH="/opt/coachbot/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    COACHBOT_ENV=production
USER coachbot
WORKDIR /home/coachbot
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz').status != 200)"
# Migrations first, then the web app (API + Slack endpoints).
CMD ["sh", "-c", "coachbot migrate && exec coachbot serve --host 0.0.0.0 --port 8000"]
