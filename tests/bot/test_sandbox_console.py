"""Console mode: what the bot sends, printed so a person can read and answer it."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import actions, button, context, divider, header, option, section
from bot.sandbox import SlackSandbox
from bot.sandbox.console import block_lines, readable
from tests.bot.fakes import ADA


@pytest.fixture
async def console() -> AsyncIterator[tuple[SlackSandbox, io.StringIO]]:
    stream = io.StringIO()
    async with SlackSandbox(console=stream, rate_limits=None) as sandbox:
        sandbox.add_user(user_id=ADA, name="ada", real_name="Ada Lovelace")
        yield sandbox, stream


async def test_a_message_prints_with_its_buttons_and_action_ids(
    console: tuple[SlackSandbox, io.StringIO],
) -> None:
    sandbox, stream = console
    slack = AsyncWebClient(token=sandbox.token, base_url=sandbox.base_url)
    await slack.chat_postMessage(channel=ADA, text="Your weekly check-in", blocks=[
        header(text="Weekly check-in"),
        section(text="*How did this week go?* <goal>"),
        divider(),
        actions(elements=[button(text="Start check-in", action_id="checkin_start", value="42",
                                 style="primary"),
                          button(text="Snooze", action_id="checkin_snooze")]),
        context(texts=["Due Friday", "Goal: delegate more"]),
    ])
    printed = stream.getvalue()
    assert f"DM with Ada Lovelace ({sandbox.dm_channel(ADA)})" in printed
    assert "Your weekly check-in" in printed
    assert "WEEKLY CHECK-IN" in printed
    assert "*How did this week go?* <goal>" in printed
    assert "[ Start check-in ] action_id=checkin_start value=42 style=primary" in printed
    assert "[ Snooze ] action_id=checkin_snooze" in printed
    assert "Due Friday · Goal: delegate more" in printed


async def test_a_shared_file_prints_with_its_comment_name_and_size(
    console: tuple[SlackSandbox, io.StringIO],
) -> None:
    sandbox, stream = console
    slack = AsyncWebClient(token=sandbox.token, base_url=sandbox.base_url)
    await slack.files_upload_v2(channel=sandbox.dm_channel(ADA), content="x" * 2048,
                                filename="export.json", title="Your data",
                                initial_comment="Here it is.")
    printed = stream.getvalue()
    assert f"file → DM with Ada Lovelace ({sandbox.dm_channel(ADA)})" in printed
    assert "  Here it is.\n  📎 Your data (export.json, 2.0 KB)" in printed


async def test_views_and_updates_print_too(console: tuple[SlackSandbox, io.StringIO]) -> None:
    sandbox, stream = console
    slack = AsyncWebClient(token=sandbox.token, base_url=sandbox.base_url)
    select = {"type": "static_select", "action_id": "confidence",
              "placeholder": {"type": "plain_text", "text": "Pick one"},
              "options": [option(text="Low", value="1"), option(text="High", value="5")]}
    await slack.views_open(trigger_id="t-1", view={
        "type": "modal", "callback_id": "checkin_submit",
        "title": {"type": "plain_text", "text": "Check-in"},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [{"type": "input", "block_id": "q1", "optional": True,
                    "label": {"type": "plain_text", "text": "How confident are you?"},
                    "element": select}],
    })
    await slack.views_publish(user_id=ADA, view={"type": "home",
                                                 "blocks": [section(text="Your plan")]})
    posted = await slack.chat_postMessage(channel=ADA, text="Start")
    await slack.chat_update(channel=posted["channel"], ts=posted["ts"], text="Done")
    printed = stream.getvalue()
    assert "open modal “Check-in”" in printed
    assert "callback_id=checkin_submit" in printed
    assert "▸ How confident are you? (optional)" in printed
    assert ("<static_select: Pick one> action_id=confidence "
            "options: Low (value=1) | High (value=5) block_id=q1") in printed
    assert "[ Send ]" in printed
    assert "publish home" in printed and "Home tab of Ada Lovelace" in printed
    assert "message updated" in printed and "Done" in printed


async def test_nothing_prints_without_a_console(sandbox: SlackSandbox,
                                                slack: AsyncWebClient,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    await slack.chat_postMessage(channel=ADA, text="quiet")
    assert capsys.readouterr().out == ""


def test_mrkdwn_reads_as_a_person_would_see_it() -> None:
    assert readable("hi <@U1>, see <https://x.test|your plan> &amp; <!here>") == (
        "hi @U1, see your plan (https://x.test) & @here")
    assert readable("&lt;!channel&gt;") == "<!channel>"
    assert readable("open until <!date^1796738400^{date_short_pretty} at {time}|"
                    "2026-12-08 14:00 UTC>") == "open until 2026-12-08 14:00 UTC"


def test_unknown_and_rich_text_blocks_still_show_something() -> None:
    rich = {"type": "rich_text", "elements": [
        {"type": "rich_text_section", "elements": [{"type": "text", "text": "rich words"}]}]}
    assert block_lines([{"type": "video"}, rich, "junk"]) == ["  [video block]",
                                                              "  rich words"]
