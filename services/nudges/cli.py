"""`coachbot nudges draft --member ID [--send]`: draft one leader's nudge now and show it.

Without `--send` nothing is stored: the draft, its source (llm or offline) and its records
are printed. With `--send` the nudge is recorded and sent or queued as the cohort's mode
says, like a scheduled one; it counts towards the leader's weekly cap.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from services.config import Settings
from services.db import create_engine, create_sessionmaker, transaction, utcnow
from services.llm import NudgeDrafter, OfflineDrafter, create_llm_drafter
from services.nudges.drafting import DraftedNudge
from services.nudges.jobs import draft_for
from services.nudges.models import Nudge, NudgeStatus
from services.nudges.recording import record_nudge
from services.nudges.timing import DueLeader, leader_target
from services.people.models import Member, NudgeMode


def add_parser(commands: Any) -> None:
    """Add `nudges draft` to the `coachbot` sub-commands."""
    nudges = commands.add_parser("nudges", help="draft nudges on demand")
    actions = nudges.add_subparsers(dest="nudges_command", required=True)
    draft = actions.add_parser("draft", help="draft one leader's nudge now and print it")
    draft.add_argument("--member", type=int, required=True, help="the leader's member id")
    draft.add_argument("--send", action="store_true",
                       help="also send it, or queue it for the coach, per the cohort's mode")
    nudges.set_defaults(handler=cmd_nudges)


def cmd_nudges(args: argparse.Namespace, settings: Settings) -> int:
    """Run `coachbot nudges draft`."""

    async def run() -> int:
        engine = create_engine(settings.database_url)
        drafter = create_llm_drafter(settings=settings)
        try:
            return await draft_command(
                sessions=create_sessionmaker(engine), member_id=args.member, send=args.send,
                drafter=drafter, now=utcnow(), out=sys.stdout,
            )
        finally:
            if drafter is not None:
                await drafter.aclose()
            await engine.dispose()

    return asyncio.run(run())


async def draft_command(
    *,
    sessions: async_sessionmaker[AsyncSession],
    member_id: int,
    send: bool,
    drafter: NudgeDrafter | None,
    now: datetime,
    out: TextIO,
) -> int:
    """Draft (and with `send`, record and dispatch) one nudge; prints it; the exit code."""
    async with transaction(sessions) as session:
        member = await session.get(Member, member_id)
        target, reason = await leader_target(session=session, member_id=member_id, now=now)
    if member is None:
        print(f"error: member {member_id} not found", file=out)
        return 1
    if target is None:
        print(f"error: no nudge for {member.name}: {reason}", file=out)
        return 1
    drafted = await draft_for(sessions=sessions, target=target, now=now, drafter=drafter,
                              fallback=OfflineDrafter())
    if drafted is None:
        print(f"error: no nudge for {member.name}: no open goal to ground one in", file=out)
        return 1
    print(describe(member=member, target=target, drafted=drafted), file=out)
    if not send:
        print("\nNot sent (add --send to send it or queue it for the coach).", file=out)
        return 0
    async with transaction(sessions) as session:
        nudge = await record_nudge(
            session=session, target=target, drafted=drafted,
            dedupe_key=f"nudge:{member_id}:manual:{now.isoformat()}", now=now,
        )
    print("\n" + dispatched(nudge, target, member), file=out)
    return 0 if nudge is not None else 1


def describe(*, member: Member, target: DueLeader, drafted: DraftedNudge) -> str:
    """The draft and where it came from, as plain text for a terminal."""
    draft = drafted.draft
    lines = [
        f"Nudge for {member.name} (member {member.id}), cohort {target.cohort_id}, "
        f"mode {target.mode.value}",
        f"Source: {drafted.source.value} (model {drafted.model}, prompt {drafted.prompt_version})",
        f"Outcome: {drafted.outcome.value}",
    ]
    for number, attempt in enumerate(drafted.attempts, start=1):
        tokens = (f", {attempt.tokens_in} tokens in, {attempt.tokens_out} out"
                  if attempt.tokens_in is not None else "")
        lines.append(f"Attempt {number}: {attempt.model} {attempt.outcome.value}"
                     f"{tokens}, {attempt.latency_ms} ms")
    cites = f"goal {draft.cited_goal_id}"
    if draft.cited_milestone_id is not None:
        cites += f", milestone {draft.cited_milestone_id}"
    lines += [
        f"Cites: {cites}",
        "",
        draft.text,
        f"Next step: {draft.suggested_action}",
        f"Why (for the coach): {draft.rationale}",
    ]
    return "\n".join(lines)


def dispatched(nudge: Nudge | None, target: DueLeader, member: Member) -> str:
    """What --send did."""
    if nudge is None:
        return "Not sent: a nudge with the same key already exists."
    if nudge.status == NudgeStatus.sent:
        return f"Sent: nudge {nudge.id} is in the outbox for {member.name}."
    if target.mode is NudgeMode.coach_review and target.coach_id is not None:
        return f"Queued: nudge {nudge.id} waits for review by coach (member {target.coach_id})."
    return f"Held: nudge {nudge.id} waits for a coach; {member.name} has none assigned."


def main(argv: Sequence[str] | None = None) -> int:
    """Run as `python -m services.nudges.cli draft --member ID [--send]`."""
    parser = argparse.ArgumentParser(prog="coachbot")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["nudges", *(argv if argv is not None else sys.argv[1:])])
    handler = args.handler
    result: int = handler(args, Settings())
    return result


if __name__ == "__main__":
    sys.exit(main())
