"""One typed settings object for every process: CLI, workers, admin UI.

Read once from the environment (prefix ``DETECTOR_``) and an optional ``.env`` file. With nothing
set, the embedded default runs on one machine: a SQLite file under ``data_dir``, the in-memory
broker with tasks executed in the calling process, alerts stored in the database. Production is the
same code with URLs and secrets set here; nothing else changes.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

CONTENT_TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DETECTOR_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path(".sellerwatch"), description="Where the embedded default keeps its files.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default sqlite:///<data_dir>/sellerwatch.db. "
        "Production: postgresql+psycopg://user:pass@host/db.")
    broker_url: str = Field(
        "memory://", description="Celery broker. memory:// runs every task in the calling process "
        "(embedded default); redis://host:6379/0 or amqp://user:pass@host// for separate workers.")
    result_backend: str | None = Field(None, description="Celery result backend; none by default.")
    broker_visibility_timeout: int = Field(
        3600, ge=1, description="Seconds before Redis redelivers an unacknowledged task of a dead worker.")
    broker_transport_options: dict = Field(
        default_factory=dict, description="Extra kombu transport options as JSON, e.g. "
        '{"unacked_restore_interval": 10} for Redis; visibility_timeout is set from its own field.')
    task_max_retries: int = Field(8, ge=0, description="Retries of a task on a transient error.")
    task_retry_backoff_max: int = Field(600, ge=1, description="Cap of the exponential retry delay (s).")

    default_content_type: str = Field("listing", description="Namespace of posts that name none.")
    max_text_chars: int = Field(20_000, ge=1, description="Longest accepted post text, in characters.")
    max_record_bytes: int = Field(262_144, ge=1024, description="Longest accepted JSON record, in bytes.")
    ingest_batch_size: int = Field(500, ge=1, le=10_000, description="Posts per database transaction.")

    embedder: str = Field("use-multilingual", description="use-multilingual (default), minilm-l6 or hashing.")
    embedder_threads: int = Field(1, ge=1, description="CPU threads per embedding process (one process per core).")
    vector_index: str = Field("embedded", description="embedded (in-process HNSW, caught up from the database) "
                              "or pinecone (needs DETECTOR_PINECONE_API_KEY and DETECTOR_PINECONE_HOST).")
    index_ef_search: int = Field(256, ge=16, description="HNSW search breadth of the embedded index "
                                 "(256: recall@10 0.974, p99 13 ms at 1M posts; see README).")
    process_batch_size: int = Field(128, ge=1, le=1000, description="Posts one pipeline task embeds and writes "
                                    "together (a micro-batch: older pending posts are taken along).")
    neighbours_k: int = Field(10, ge=1, le=100, description="Neighbours looked up per new post.")
    near_duplicate_threshold: float = Field(
        0.85, gt=0, le=1, description="Cosine similarity from which two posts are near-duplicates.")
    near_duplicate_window_days: int = Field(30, ge=1, description="How far back neighbours are looked for.")
    shingle_edges: bool = Field(True, description="Also link posts whose character-3-gram MinHash Jaccard reaches "
                                "shingle_jaccard_threshold (templates with changed names/URLs/numbers; see README).")
    shingle_jaccard_threshold: float = Field(0.5, gt=0, lt=1, description="Estimated Jaccard from which two posts "
                                             "are shingle near-duplicates; changing it changes the LSH banding, so "
                                             "posts indexed before no longer match until they leave the window.")
    shingle_max_candidates: int = Field(100, ge=1, le=10_000, description="Shingle candidates per band key and "
                                        "per post that are verified (caps the fan-out of very common short texts).")

    recluster_window_hours: int = Field(72, ge=1, description="Recent window the periodic reclustering regroups.")
    recluster_every_minutes: int = Field(10, ge=1, le=1440, description="How often beat runs the reclustering.")
    cluster_split_min_size: int = Field(30, ge=3, description="Components this large are checked by HDBSCAN "
                                        "for chained campaigns.")
    hdbscan_min_cluster_size: int = Field(5, ge=2, description="HDBSCAN min_cluster_size when splitting.")
    alert_rules: dict = Field(default_factory=dict, description='Per-namespace alert rules as JSON, e.g. '
                              '{"listing": {"size_levels": [5, 20], "min_distinct_authors": 3}}; "*" is the default.')
    allowlist_similarity: float = Field(0.9, gt=0, le=1, description="Cosine similarity to an allowlisted "
                                        "cluster's centroid from which a cluster is treated as that benign content.")
    allowlist_days: int = Field(30, ge=1, description="How long a 'benign' decision keeps a cluster's "
                                "look-alikes from alerting.")
    audit_sample_per_day: int = Field(20, ge=0, le=10_000, description="Random audit sample: unflagged recent "
                                      "posts queued for review per content type and UTC day (0 = off); "
                                      "their decisions give recall's unseen sellers and the missed rate.")

    log_level: str = Field("INFO", description="Python logging level.")
    admin_users: dict = Field(default_factory=dict, description='Admin UI accounts as JSON: {"kim": {"password_hash": '
                              '"scrypt$...", "role": "moderator"|"admin"}}; make hashes with `detector admin hash-password`.')
    admin_oidc: bool = Field(False, description="Use Streamlit's st.login (OIDC, configured in .streamlit/secrets.toml) "
                             "instead of the built-in accounts.")
    admin_base_url: str = Field("http://127.0.0.1:8501", description="Where links in alerts point.")

    # External services: unset means the path or backend is disabled, never an error.
    pinecone_api_key: SecretStr | None = None
    pinecone_host: str | None = None
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_channel: str | None = Field(None, description="Channel ID (not name): chat.update needs the ID.")
    slack_app_token: SecretStr | None = Field(None, description="xapp- token for Socket Mode (no public URL).")
    slack_claim_ttl_seconds: int = Field(60, ge=1, description="After this long, a delivery claimed by a worker "
                                         "that went silent is checked against Slack and retried.")
    slack_retry_backoff_seconds: float = Field(5.0, gt=0, description="First wait after Slack failed transiently; "
                                               "doubles per attempt of the same delivery.")
    slack_retry_backoff_max_seconds: float = Field(300.0, gt=0, description="Cap of that wait. A delivery whose "
                                                   "task ran out of retries stays pending for the beat sweeper.")
    slack_api_url: str | None = Field(None, description="Slack Web API base URL override (a proxy or a test fake).")
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_profile_model: str = Field("gpt-4.1", description="Strong model that writes seller-style profiles (stage 1).")
    llm_classify_model: str = Field("gpt-4.1-mini", description="Cheaper model that classifies posts (stage 2).")
    llm_timeout_s: float = Field(30.0, gt=0, description="Per-request timeout.")
    llm_response_format: Literal["json_schema", "json_object"] = Field(
        "json_schema", description="Structured-output dialect of the endpoint: json_schema (OpenAI, vLLM, Ollama, "
        "llama.cpp llama-server) or json_object (JSON mode plus the schema in the prompt, e.g. llama-cpp-python).")
    llm_max_retries: int = Field(3, ge=0, description="Client retries on 429/5xx/timeouts (tasks use 0 and retry).")
    llm_concurrency: int = Field(4, ge=1, description="Concurrent LLM requests per process.")
    llm_daily_budget_usd: float | None = Field(None, ge=0, description="UTC-day spending cap; unset = unlimited.")
    llm_prices: dict = Field(default_factory=dict, description='JSON {"model": [usd_per_1M_in, usd_per_1M_out]} '
                             "merged over the built-in price table.")
    llm_auto_action_daily_cap: int = Field(0, ge=0, description="Automatic actions on positive verdicts per day "
                                           "(0 = off: every verdict goes to the review queue).")
    llm_backfill_mode: str = Field("online", pattern="^(online|batch)$", description="How the backfill classifies "
                                   "waiting posts: online calls, or the Batch API (half price, results within 24 h; "
                                   "needs /v1/files and /v1/batches, which vLLM/Ollama do not serve).")
    llm_batch_min_posts: int = Field(100, ge=1, description="Batch mode: fewer waiting posts are classified online.")
    llm_batch_max_requests: int = Field(50_000, ge=1, le=50_000, description="Requests per batch (OpenAI: 50,000).")
    llm_batch_discount: float = Field(0.5, ge=0, le=1, description="Batch price as a share of the online price.")

    @field_validator("default_content_type")
    @classmethod
    def _content_type_shape(cls, value: str) -> str:
        if not CONTENT_TYPE_RE.match(value):
            raise ValueError("content type must be lowercase letters, digits, '_' or '-' (max 64)")
        return value

    def alert_rule(self, namespace: str):
        from detector.alerts.rules import AlertRule

        return AlertRule.model_validate(self.alert_rules.get(namespace) or self.alert_rules.get("*") or {})

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'sellerwatch.db'}"

    @property
    def tasks_run_inline(self) -> bool:
        """The in-memory broker has no separate worker: tasks run where they are sent."""
        return self.broker_url.startswith("memory://")

    def redacted(self) -> dict:
        """Settings safe to print or log: secrets and URL passwords masked."""
        out = {}
        for key, value in self.model_dump().items():
            if isinstance(value, SecretStr):
                value = "**********" if value.get_secret_value() else ""
            elif isinstance(value, str):
                value = redact_url(value)
            out[key] = value
        return out


_PASSWORD_IN_URL = re.compile(r"(?P<head>[a-z0-9+]+://[^:/@]*:)(?P<pw>[^@]*)(?P<tail>@)", re.I)


def redact_url(url: str) -> str:
    """Mask the password in a URL so connection strings can be logged."""
    return _PASSWORD_IN_URL.sub(lambda m: m["head"] + "***" + m["tail"], url)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once. Tests call ``get_settings.cache_clear()`` after changing env."""
    return Settings()
