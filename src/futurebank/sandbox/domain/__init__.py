"""Pure domain model of the sandbox: no I/O, no framework imports."""
