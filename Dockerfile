# One image for every role (migrate, workers, beat, admin UI); the command picks the role.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1
WORKDIR /app
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md alembic.ini ./
COPY detector ./detector
COPY workers ./workers
COPY admin_ui ./admin_ui
COPY migrations ./migrations
COPY prompts ./prompts
RUN pip install -e '.[all]' && useradd --create-home --uid 10001 sellerwatch
USER sellerwatch
ENV DETECTOR_DATA_DIR=/home/sellerwatch/data
CMD ["detector", "--help"]
