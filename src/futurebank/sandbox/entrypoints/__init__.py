"""HTTP entrypoints: the FastAPI application, its routers, problem handlers and middleware."""
