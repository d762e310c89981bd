"""Reference sandbox: one executable implementation of the contract in ``docs/api/openapi.yaml``.

Layers follow ARCHITECTURE.md: ``domain`` (pure rules), ``adapters`` (database, tokens, audit log),
``service_layer`` (unit of work and use-case handlers), ``entrypoints`` (HTTP). ``bootstrap`` wires
them together from configuration.
"""
