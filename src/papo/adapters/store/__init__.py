"""Adapters of the `ConnectionStore` port: SQLite (embedded) and DynamoDB (AWS)."""
