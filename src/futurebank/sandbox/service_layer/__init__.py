"""Use cases: the unit of work and the handlers that run the domain through the adapters."""
