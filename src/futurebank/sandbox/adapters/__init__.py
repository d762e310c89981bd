"""Adapters: the database, token signing and the audit log store."""
