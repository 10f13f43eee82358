"""The `coachbot` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import TypeVar

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.sandbox_client import add_arguments as add_sandbox_arguments
from bot.sandbox_client import cmd_sandbox
from services.auth.models import Role
from services.auth.service import create_key, list_keys, revoke_key
from services.config import Settings
from services.db import create_engine, create_sessionmaker, transaction
from services.demo import DEMO_TEAM_ID, seed_demo
from services.errors import DomainError
from services.metrics.cli import add_parser as add_kpis_parser
from services.nudges.cli import add_parser as add_nudges_parser
from services.people.models import Workspace
from services.people.roster import import_roster, parse_roster
from services.people.service import ensure_workspace

T = TypeVar("T")


def _in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(settings.database_url)
        try:
            async with transaction(create_sessionmaker(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


async def _workspace_id(session: AsyncSession, team_id: str | None) -> int:
    if team_id:
        workspace = await ensure_workspace(session=session, slack_team_id=team_id, name=team_id)
        return workspace.id or 0
    workspaces = (await session.exec(select(Workspace))).all()
    if len(workspaces) > 1:
        raise DomainError("several workspaces exist: say which with --workspace TEAM_ID")
    if workspaces:
        return workspaces[0].id or 0
    workspace = await ensure_workspace(session=session, slack_team_id=DEMO_TEAM_ID, name="Coachbot")
    return workspace.id or 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    uvicorn.run(
        "bot.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        log_level="info",
        proxy_headers=True,
    )
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runtime import BackgroundWork, startup_objects_frozen

    if settings.slack_bot_token is None:
        print(
            "coachbot worker needs SLACK_BOT_TOKEN (on SQLite, `coachbot serve` already runs "
            "the worker in-process)",
            file=sys.stderr,
        )
        return 2
    token = settings.slack_bot_token.get_secret_value()

    async def run() -> None:
        engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
        work = BackgroundWork(
            settings,
            engine=engine,
            sessions=create_sessionmaker(engine),
            token=token,
            api_url=settings.slack_api_url,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await work.start()
        print("coachbot worker running; Ctrl-C to stop", file=sys.stderr)
        try:
            with startup_objects_frozen():
                await stop.wait()
        finally:
            await work.stop()
            await engine.dispose()

    asyncio.run(run())
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from services.schema import upgrade

    upgrade(settings.database_url, args.revision)
    print(f"database at {args.revision}")
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    summary = _in_transaction(settings, lambda session: seed_demo(session=session))
    verb = "created" if summary.created else "already present"
    print(
        f"demo workspace {DEMO_TEAM_ID} {verb}: cohort {summary.cohort_id} with "
        f"{summary.leaders} leaders, {summary.coaches} coaches, {summary.owners} owner"
    )
    return 0


def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    if args.keys_command == "create":

        async def create(session: AsyncSession) -> tuple[int, str]:
            workspace_id = await _workspace_id(session, args.workspace)
            key, raw = await create_key(
                session=session,
                workspace_id=workspace_id,
                role=Role(args.role),
                member_id=args.member,
                cohort_id=args.cohort,
                label=args.label,
            )
            return key.id or 0, raw

        key_id, raw = _in_transaction(settings, create)
        print(f"created {args.role} key {key_id}; it is shown once, store it now:")
        print(raw)
        return 0
    if args.keys_command == "list":
        keys = _in_transaction(settings, lambda session: list_keys(session=session))
        print(
            f"{'id':>4}  {'role':<7} {'member':>6} {'cohort':>6}  {'prefix':<13} {'state':<8} label"
        )
        for key in keys:
            state = "revoked" if key.revoked_at else "active"
            print(
                f"{key.id:>4}  {key.role:<7} {key.member_id or '-':>6} {key.cohort_id or '-':>6}"
                f"  cb_{key.prefix:<10} {state:<8} {key.label or ''}"
            )
        return 0
    key = _in_transaction(settings, lambda session: revoke_key(session=session, key_id=args.id))
    print(f"revoked key {key.id}")
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    parsed = parse_roster(Path(args.file).read_text(encoding="utf-8-sig"))
    for error in parsed.errors:
        print(f"{args.file}:{error.line}: {error.message}", file=sys.stderr)
    if parsed.errors and not args.skip_invalid:
        print(
            f"{len(parsed.errors)} invalid row(s); nothing imported "
            "(fix them, or pass --skip-invalid)",
            file=sys.stderr,
        )
        return 1

    async def run(session: AsyncSession) -> str:
        workspace_id = await _workspace_id(session, args.workspace)
        with tqdm(total=len(parsed.rows), unit="row", desc="importing", file=sys.stderr) as bar:
            result = await import_roster(
                session=session,
                workspace_id=workspace_id,
                cohort_id=args.cohort,
                rows=[row for _, row in parsed.rows],
                on_row=lambda: bar.update(1),
            )
        return (
            f"{result.created} created, {result.updated} updated, {result.enrolled} "
            f"enrolled, {len(parsed.errors)} skipped"
        )

    print(_in_transaction(settings, run))
    return 0


def cmd_circles(args: argparse.Namespace, settings: Settings) -> int:
    from services.circles.preview import run_preview

    return run_preview(
        roster_path=args.roster,
        rounds=args.rounds,
        size=args.size,
        seed=args.seed,
        as_json=args.json,
        out=sys.stdout,
        err=sys.stderr,
        first_round=args.start,
        cadence_weeks=args.every,
        max_spread_hours=args.spread,
    )


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2027-01-04") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coachbot", description="Coachbot: coaching in Slack.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the web app (API and Slack endpoints)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(handler=cmd_serve)

    worker = commands.add_parser("worker", help="run the scheduler and delivery worker")
    worker.set_defaults(handler=cmd_worker)

    migrate = commands.add_parser("migrate", help="upgrade the database schema")
    migrate.add_argument("--revision", default="head")
    migrate.set_defaults(handler=cmd_migrate)

    demo = commands.add_parser("demo", help="seed a demo workspace (idempotent)")
    demo.set_defaults(handler=cmd_demo)

    keys = commands.add_parser("keys", help="create, list and revoke API keys")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    create = key_commands.add_parser("create", help="create a key (printed once)")
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    create.add_argument("--member", type=int)
    create.add_argument("--cohort", type=int)
    create.add_argument("--label")
    create.add_argument("--workspace", help="Slack team id (default: the only workspace)")
    key_commands.add_parser("list", help="list keys (never their secrets)")
    revoke = key_commands.add_parser("revoke", help="revoke a key")
    revoke.add_argument("id", type=int)
    keys.set_defaults(handler=cmd_keys)

    roster = commands.add_parser("import", help="import a roster CSV")
    roster.add_argument("file")
    roster.add_argument("--cohort", type=int)
    roster.add_argument("--skip-invalid", action="store_true")
    roster.add_argument("--workspace", help="Slack team id (default: the only workspace)")
    roster.set_defaults(handler=cmd_import)

    circles = commands.add_parser("circles", help="peer circles")
    circle_commands = circles.add_subparsers(dest="circles_command", required=True)
    preview = circle_commands.add_parser(
        "preview", help="form rounds for a roster file without touching Slack or the database"
    )
    preview.add_argument("--roster", required=True, help="CSV with the import columns")
    preview.add_argument("--rounds", type=int, default=6, help="rounds to form (default 6)")
    preview.add_argument("--size", type=int, default=4, help="people per circle, 2-6 (default 4)")
    preview.add_argument(
        "--seed", type=int, default=0, help="the same seed gives the same circles (default 0)"
    )
    preview.add_argument(
        "--start",
        type=_iso_date,
        help="date of the first round, YYYY-MM-DD (default today); clocks follow each "
        "round's date, daylight saving included",
    )
    preview.add_argument(
        "--every", type=int, default=2, metavar="WEEKS", help="weeks between rounds (default 2)"
    )
    preview.add_argument(
        "--spread",
        type=float,
        default=6.0,
        metavar="HOURS",
        help="how far apart the clocks in one circle may be (default 6)",
    )
    preview.add_argument("--json", action="store_true", help='print {"rounds": [[[ids]]]}')
    circles.set_defaults(handler=cmd_circles)

    add_nudges_parser(commands)
    add_kpis_parser(commands)

    sandbox = commands.add_parser("sandbox", help="act as a Slack user from the terminal")
    add_sandbox_arguments(sandbox)
    sandbox.set_defaults(handler=cmd_sandbox)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("coachbot").setLevel(logging.INFO)
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
        return int(args.handler(args, settings))
    except DomainError as exc:
        print(f"coachbot: {exc.detail}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"coachbot: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
