"""`coachbot kpis import FILE.csv [--skip-invalid] [--workspace TEAM_ID]`.

Every row is checked first and every problem printed as `FILE:LINE: message`; nothing is
written if any row is bad, unless `--skip-invalid`, which writes the good rows. The import
runs as the workspace's admin.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.auth.models import Role
from services.auth.service import actor_for
from services.config import Settings
from services.db import create_engine, create_sessionmaker, transaction, utcnow
from services.errors import DomainError
from services.metrics.kpis import import_kpis
from services.people.models import Workspace


def add_parser(commands: Any) -> None:
    """Add `kpis import` to the `coachbot` sub-commands."""
    kpis = commands.add_parser("kpis", help="business KPIs")
    actions = kpis.add_subparsers(dest="kpis_command", required=True)
    load = actions.add_parser("import", help="import KPI values from a CSV file")
    load.add_argument("file", help="CSV: cohort_id,member,metric,date,value,unit")
    load.add_argument("--skip-invalid", action="store_true",
                      help="write the good rows even if some are bad")
    load.add_argument("--workspace", help="Slack team id (default: the only workspace)")
    kpis.set_defaults(handler=cmd_kpis)


def cmd_kpis(args: argparse.Namespace, settings: Settings) -> int:
    """Run `coachbot kpis import`."""

    async def run() -> int:
        engine = create_engine(settings.database_url)
        try:
            return await import_kpi_file(
                sessions=create_sessionmaker(engine), path=Path(args.file),
                team_id=args.workspace, skip_invalid=args.skip_invalid,
                today=utcnow().date(), out=sys.stdout, err=sys.stderr)
        finally:
            await engine.dispose()

    return asyncio.run(run())


async def _workspace_id(session: AsyncSession, team_id: str | None) -> int:
    statement = select(Workspace)
    if team_id:
        statement = statement.where(col(Workspace.slack_team_id) == team_id)
    found = (await session.exec(statement)).all()
    if not found:
        raise DomainError(f"no workspace {team_id}" if team_id else "there is no workspace yet")
    if len(found) > 1:
        raise DomainError("several workspaces exist: say which with --workspace TEAM_ID")
    return found[0].id or 0


async def import_kpi_file(
    *, sessions: async_sessionmaker[AsyncSession], path: Path, team_id: str | None,
    skip_invalid: bool, today: date, out: TextIO, err: TextIO,
) -> int:
    """Import one file; returns the exit status (0 when it was written)."""
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        print(f"{path}: cannot read it as UTF-8 text: {error}", file=err)
        return 2
    try:
        async with transaction(sessions) as session:
            workspace_id = await _workspace_id(session, team_id)
            actor = await actor_for(session=session, workspace_id=workspace_id,
                                    role=Role.admin, member_id=None)
            report = await import_kpis(session=session, actor=actor, text=text,
                                       skip_invalid=skip_invalid, today=today)
    except DomainError as error:
        print(f"{path}: {error.detail}", file=err)
        return 2
    for problem in report.errors:
        print(f"{path}:{problem.line}: {problem.message}", file=err)
    if report.errors and not skip_invalid:
        print(f"{len(report.errors)} invalid row(s); nothing imported "
              "(fix them, or pass --skip-invalid)", file=err)
        return 1
    print(f"{report.written} value(s) written, {report.skipped} row(s) skipped", file=out)
    return 0
