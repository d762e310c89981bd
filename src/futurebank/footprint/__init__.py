"""The carbon-footprint method shared by the sandbox and the spec build (see ``method``)."""
