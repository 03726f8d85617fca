"""The similar-content path: embeddings, near-duplicate edges, clusters and their growth."""
