"""`coachbot sandbox`: be a Slack user from the terminal, against a Coachbot in this process.

The app runs with the local Slack sandbox standing in for Slack; the person opens the
Home tab, types `/coach`, clicks numbered buttons and fills modals, and sees what
Coachbot sends back as readable text.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TextIO

from bot.sandbox_client.inputs import USER_ID
from services.config import Settings

# A demo leader: `coachbot demo` seeds UDEMOLEAD01..12, UDEMOCOACH1/2 and UDEMOOWNER.
DEFAULT_USER = "UDEMOLEAD01"

__all__ = ["DEFAULT_USER", "add_arguments", "cmd_sandbox", "run_sandbox", "run_sandbox_async"]


async def run_sandbox_async(
    *, settings: Settings, user_id: str = DEFAULT_USER, stdin: TextIO, stdout: TextIO
) -> int:
    """Run the terminal loop until `quit` or end of input; returns the exit status."""
    user_id = user_id.strip().upper()
    if not USER_ID.fullmatch(user_id):
        print(
            f"coachbot sandbox: {user_id!r} is not a Slack user id (e.g. {DEFAULT_USER})",
            file=stdout,
        )
        return 2
    # Imported here so that building the `coachbot` argument parser stays cheap.
    from bot.sandbox_client.local_app import SandboxUnavailable, running_coachbot
    from bot.sandbox_client.repl import Repl, lines_from
    from bot.sandbox_client.session import SlackUser

    try:
        async with running_coachbot(settings) as coachbot:
            repl = Repl(SlackUser(coachbot, user_id), stdout)
            interactive = stdin.isatty()
            return await repl.run(lines_from(stdin), interactive=interactive)
    except SandboxUnavailable as problem:
        print(f"coachbot sandbox: {problem}", file=stdout)
        return 2


def run_sandbox(
    *,
    settings: Settings,
    user_id: str = DEFAULT_USER,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
) -> int:
    """`coachbot sandbox`: the same, on its own event loop; Ctrl+C leaves quietly."""
    try:
        return asyncio.run(
            run_sandbox_async(settings=settings, user_id=user_id, stdin=stdin, stdout=stdout)
        )
    except KeyboardInterrupt:
        print(file=stdout)
        return 130


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The sandbox command's options."""
    parser.add_argument(
        "--as",
        dest="user_id",
        metavar="USER_ID",
        default=DEFAULT_USER,
        help="the Slack user to act as (default: %(default)s, a demo leader)",
    )


def cmd_sandbox(args: argparse.Namespace, settings: Settings) -> int:
    """Entry point in the shape of the other `coachbot` subcommands."""
    return run_sandbox(settings=settings, user_id=args.user_id)
