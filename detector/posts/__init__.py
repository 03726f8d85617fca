"""Posts and authors: identity, idempotent ingest, and the record of rejected input."""
