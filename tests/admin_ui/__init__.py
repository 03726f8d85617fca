"""Admin UI tests: AppTest against a seeded database, and one real-browser run."""
