"""Alerts and their delivery: stored first (outbox), delivered to Slack once, retried on failure."""
