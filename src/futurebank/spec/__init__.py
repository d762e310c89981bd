"""Spec tooling: the chat as data, the needs model, Sphinx extension, checks and exports."""
