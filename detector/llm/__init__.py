"""The zero-shot LLM path: versioned seller-style profiles and their calls."""
