FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY services ./services
COPY crawler ./crawler
COPY indexer ./indexer
COPY dashboards ./dashboards
RUN pip install --no-cache-dir .
USER 65534
ENTRYPOINT ["exposurewatch"]
