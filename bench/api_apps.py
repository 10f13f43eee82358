"""ASGI factories the API benchmark serves with uvicorn (`--app-dir bench --factory`).

`create_bare_app` is the yardstick: a FastAPI app with one route returning a small JSON
dict, no middleware, no database. Coachbot itself is served through its own composition
root, `bot.main:create_app`, exactly as `coachbot serve` builds it.
"""

from __future__ import annotations

from fastapi import FastAPI


def create_bare_app() -> FastAPI:
    """FastAPI with one JSON route: the ceiling any endpoint served the same way can reach."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"status": "ok", "service": "bare"}

    return app
