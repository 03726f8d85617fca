"""Vector indexes: one interface (Pinecone's data model), an embedded default, Pinecone, and a fake."""
