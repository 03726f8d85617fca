"""The moderators' Streamlit admin UI (review queues, clusters, decisions, prompts, metrics)."""
