"""`python -m bot.sandbox`: run the Slack sandbox alone, printing what it is sent."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from bot.sandbox.server import DEFAULT_TOKEN, SlackSandbox


async def serve(*, host: str, port: int, token: str) -> None:
    """Serve until interrupted."""
    async with SlackSandbox(host=host, port=port, token=token, console=sys.stdout,
                            auto_users=True) as sandbox:
        print(f"Slack sandbox at {sandbox.base_url} (token {sandbox.token})", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and serve."""
    parser = argparse.ArgumentParser(prog="python -m bot.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(host=args.host, port=args.port, token=args.token))
    return 0


if __name__ == "__main__":
    sys.exit(main())
