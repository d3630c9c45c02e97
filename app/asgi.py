"""The ASGI entry point for uvicorn (`app.asgi:app`); settings come from the environment."""

from app.main import configure_logging, create_app

configure_logging()  # a worker process starts with no logging configured
app = create_app()
