"""Every sandboxed Web API method, called through slack_sdk's AsyncWebClient over HTTP."""

from __future__ import annotations

import json
import re
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import actions, button, divider, header, section
from bot.sandbox import SlackSandbox
from tests.bot.fakes import ADA, ALAN, GRACE

TS = re.compile(r"^\d{10}\.\d{6}$")
METADATA = {"event_type": "coachbot_delivery", "event_payload": {"delivery_key": "k-1"}}
MODAL = {"type": "modal", "callback_id": "checkin",
         "title": {"type": "plain_text", "text": "Check-in"},
         "submit": {"type": "plain_text", "text": "Send"},
         "blocks": [{"type": "input", "block_id": "q1",
                     "label": {"type": "plain_text", "text": "How did it go?"},
                     "element": {"type": "plain_text_input", "action_id": "answer"}}]}
HOME = {"type": "home", "blocks": [header(text="Your plan")]}


async def slack_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as raised:
        await call
    return raised.value


async def test_auth_test_describes_the_bot(slack: AsyncWebClient, sandbox: SlackSandbox) -> None:
    response = await slack.auth_test()
    assert response["team_id"] == sandbox.workspace.team_id
    assert response["user_id"] == sandbox.workspace.bot_user_id
    assert response["bot_id"] == sandbox.workspace.bot_id
    assert response["url"].endswith("/")


async def test_a_wrong_token_is_invalid_auth(sandbox: SlackSandbox) -> None:
    client = AsyncWebClient(token="xoxb-wrong", base_url=sandbox.base_url)
    assert (await slack_error(client.auth_test())).response["error"] == "invalid_auth"
    anonymous = AsyncWebClient(base_url=sandbox.base_url)
    assert (await slack_error(anonymous.auth_test())).response["error"] == "not_authed"


async def test_form_bodies_and_a_token_field_work_too(sandbox: SlackSandbox) -> None:
    form = {"token": sandbox.token, "channel": ADA, "text": "hi",
            "blocks": json.dumps([section(text="from a form")])}
    async with (aiohttp.ClientSession() as http,
                http.post(sandbox.base_url + "chat.postMessage", data=form) as response):
        body = await response.json()
    assert body["ok"] is True
    assert body["message"]["blocks"][0]["text"]["text"] == "from a form"
    assert sandbox.calls("chat.postMessage")[0].args["text"] == "hi"
    assert "token" not in sandbox.calls("chat.postMessage")[0].args


async def test_unknown_methods_are_refused(slack: AsyncWebClient) -> None:
    error = await slack_error(slack.api_call("chat.teleport"))
    assert error.response["error"] == "unknown_method"


async def test_users_info_returns_a_seeded_person(slack: AsyncWebClient) -> None:
    user = (await slack.users_info(user=ADA))["user"]
    assert user["id"] == ADA
    assert user["real_name"] == "Ada Lovelace"
    assert user["tz"] == "Europe/London"
    assert user["tz_offset"] in (0, 3600)
    assert user["profile"]["title"] == "VP Engineering"
    assert user["profile"]["email"] == "ada@example.com"
    tokyo = (await slack.users_info(user=ALAN))["user"]
    assert tokyo["tz_offset"] == 9 * 3600
    error = await slack_error(slack.users_info(user="U0NOBODY"))
    assert error.response["error"] == "user_not_found"


async def test_conversations_open_gives_stable_dm_and_group_ids(slack: AsyncWebClient) -> None:
    dm = (await slack.conversations_open(users=ADA))["channel"]
    assert dm["id"].startswith("D")
    assert dm["is_im"] is True
    assert (await slack.conversations_open(users=[ADA]))["channel"]["id"] == dm["id"]
    group = (await slack.conversations_open(users=[ADA, GRACE, ALAN]))["channel"]
    assert group["id"][0] in "CG"
    assert group["is_mpim"] is True
    again = await slack.conversations_open(users=f"{ALAN},{ADA},{GRACE}")
    assert again["channel"]["id"] == group["id"]
    error = await slack_error(slack.conversations_open(users="U0NOBODY"))
    assert error.response["error"] == "user_not_found"


async def test_post_message_to_a_person_lands_in_their_dm(
    slack: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    first = await slack.chat_postMessage(channel=ADA, text="Hello Ada")
    second = await slack.chat_postMessage(channel=first["channel"], text="Again")
    assert first["channel"] == sandbox.dm_channel(ADA)
    assert TS.match(first["ts"]) and TS.match(second["ts"])
    assert second["ts"] > first["ts"]
    assert first["message"]["text"] == "Hello Ada"
    assert first["message"]["bot_id"] == sandbox.workspace.bot_id
    assert [m["text"] for m in sandbox.messages(ADA)] == ["Hello Ada", "Again"]


async def test_unknown_people_can_be_made_up_for_console_mode() -> None:
    async with SlackSandbox(auto_users=True) as sandbox:
        slack = AsyncWebClient(token=sandbox.token, base_url=sandbox.base_url)
        posted = await slack.chat_postMessage(channel="U0NEWHIRE", text="Welcome!")
        assert posted["channel"] == sandbox.dm_channel("U0NEWHIRE")
        assert (await slack.users_info(user="U0NEWHIRE"))["user"]["name"] == "u0newhire"
        with pytest.raises(SlackApiError, match="channel_not_found"):
            await slack.chat_postMessage(channel="C0NOWHERE", text="x")


async def test_post_message_keeps_blocks_metadata_and_threads(
    slack: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    blocks = [section(text="Time to check in"),
              actions(elements=[button(text="Start", action_id="checkin_start", value="7")])]
    parent = await slack.chat_postMessage(channel=ADA, text="Check-in", blocks=blocks,
                                          metadata=METADATA)
    assert parent["message"]["blocks"] == blocks
    assert parent["message"]["metadata"] == METADATA
    reply = await slack.chat_postMessage(channel=parent["channel"], text="Thanks!",
                                         thread_ts=parent["ts"])
    assert reply["message"]["thread_ts"] == parent["ts"]
    thread = sandbox.thread(ADA, parent["ts"])
    assert [m["text"] for m in thread] == ["Check-in", "Thanks!"]
    assert thread[0]["reply_count"] == 1


@pytest.mark.parametrize(("payload", "error"), [
    ({"channel": ADA}, "no_text"),
    ({"channel": ADA, "text": ""}, "no_text"),
    ({"channel": "C0NOWHERE", "text": "hi"}, "channel_not_found"),
    ({"channel": ADA, "text": "x" * 40_001}, "msg_too_long"),
    ({"channel": ADA, "text": "hi", "blocks": [divider()] * 51}, "invalid_blocks"),
    ({"channel": ADA, "text": "hi", "blocks": [{"type": "nope"}]}, "invalid_blocks"),
    ({"channel": ADA, "text": "hi", "metadata": {"event_type": "x"}},
     "invalid_metadata_format"),
    ({"channel": ADA, "text": "hi", "thread_ts": "1600000000.000001"}, "thread_not_found"),
])
async def test_post_message_checks_its_input_like_slack(
    slack: AsyncWebClient, sandbox: SlackSandbox, payload: dict[str, Any], error: str
) -> None:
    # api_call, not chat_postMessage: slack_sdk warns before sending a message without text.
    failure = await slack_error(slack.api_call("chat.postMessage", json=payload))
    assert failure.response["error"] == error
    assert sandbox.messages(ADA) == []


async def test_invalid_blocks_explain_themselves(slack: AsyncWebClient) -> None:
    failure = await slack_error(slack.chat_postMessage(channel=ADA, text="hi",
                                                       blocks=[divider()] * 51))
    assert failure.response["response_metadata"]["messages"] == [
        "[ERROR] must provide no more than 50 items [json-pointer:/blocks]"]


async def test_blocks_alone_are_enough_for_slack(slack: AsyncWebClient) -> None:
    response = await slack.api_call("chat.postMessage", json={
        "channel": ADA, "blocks": [section(text="Only blocks")]})
    assert response["ok"] is True


async def test_chat_update_replaces_the_message(
    slack: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    posted = await slack.chat_postMessage(channel=ADA, text="Start your check-in",
                                          blocks=[section(text="Start")])
    updated = await slack.chat_update(channel=posted["channel"], ts=posted["ts"],
                                      text="Check-in done", blocks=[section(text="Done ✅")])
    assert updated["ts"] == posted["ts"]
    assert updated["text"] == "Check-in done"
    [message] = sandbox.messages(ADA)
    assert message["blocks"][0]["text"]["text"] == "Done ✅"
    assert "edited" in message
    missing = await slack_error(slack.chat_update(channel=posted["channel"],
                                                  ts="1600000000.000001", text="x"))
    assert missing.response["error"] == "message_not_found"


async def test_post_ephemeral_reaches_only_a_member(
    slack: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    coaches = sandbox.add_channel(name="coaches", members=[GRACE])
    response = await slack.chat_postEphemeral(channel=coaches.id, user=GRACE, text="Only you")
    assert TS.match(response["message_ts"])
    [sent] = sandbox.ephemerals(user=GRACE)
    assert sent["channel"] == coaches.id
    assert sent["message"]["text"] == "Only you"
    assert sandbox.messages(coaches.id) == []
    outsider = await slack_error(slack.chat_postEphemeral(channel=coaches.id, user=ADA,
                                                          text="x"))
    assert outsider.response["error"] == "user_not_in_channel"


async def test_views_open_push_and_update(slack: AsyncWebClient, sandbox: SlackSandbox) -> None:
    opened = (await slack.views_open(trigger_id="1.2.abc", view=MODAL))["view"]
    assert opened["id"].startswith("V")
    assert opened["callback_id"] == "checkin"
    assert opened["state"] == {"values": {}}
    pushed = (await slack.views_push(trigger_id="1.2.def", view=MODAL))["view"]
    assert pushed["id"] != opened["id"]
    new_title = {**MODAL, "title": {"type": "plain_text", "text": "Thanks"}}
    updated = (await slack.views_update(view_id=opened["id"], hash=opened["hash"],
                                        view=new_title))["view"]
    assert updated["id"] == opened["id"]
    assert updated["hash"] != opened["hash"]
    assert sandbox.view(opened["id"])["title"]["text"] == "Thanks"  # type: ignore[index]
    stale = await slack_error(slack.views_update(view_id=opened["id"], hash=opened["hash"],
                                                 view=MODAL))
    assert stale.response["error"] == "hash_conflict"
    missing = await slack_error(slack.views_update(view_id="V404", view=MODAL))
    assert missing.response["error"] == "not_found"


async def test_views_update_by_external_id(slack: AsyncWebClient) -> None:
    await slack.views_open(trigger_id="t", view={**MODAL, "external_id": "checkin-42"})
    updated = await slack.views_update(external_id="checkin-42", view=MODAL)
    assert updated["view"]["external_id"] == ""


@pytest.mark.parametrize(("view", "expected"), [
    ({**MODAL, "blocks": [divider()] * 101}, "no more than 100"),
    ({**MODAL, "submit": None}, "submit"),
    (HOME, "view type must be modal"),
])
async def test_views_are_validated(slack: AsyncWebClient, view: dict[str, Any],
                                   expected: str) -> None:
    failure = await slack_error(slack.views_open(trigger_id="t", view=view))
    assert failure.response["error"] == "invalid_arguments"
    assert expected in " ".join(failure.response["response_metadata"]["messages"])


async def test_views_open_needs_a_trigger(slack: AsyncWebClient) -> None:
    failure = await slack_error(slack.views_open(trigger_id="", view=MODAL))
    assert failure.response["error"] == "invalid_trigger_id"


async def test_views_publish_sets_the_home_tab(slack: AsyncWebClient,
                                               sandbox: SlackSandbox) -> None:
    first = (await slack.views_publish(user_id=ADA, view=HOME))["view"]
    second = (await slack.views_publish(user_id=ADA, view={
        "type": "home", "blocks": [header(text="Updated plan")]}))["view"]
    assert first["id"] == second["id"]
    home = sandbox.home_view(ADA)
    assert home is not None and home["blocks"][0]["text"]["text"] == "Updated plan"
    assert sandbox.home_view(GRACE) is None
    failure = await slack_error(slack.views_publish(user_id=ADA, view=MODAL))
    assert failure.response["error"] == "invalid_arguments"


async def test_history_is_newest_first_with_metadata_on_request(
    slack: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    sandbox.limiter = None  # four quick posts to one channel
    channel = (await slack.conversations_open(users=ADA))["channel"]["id"]
    posted = [await slack.chat_postMessage(channel=channel, text=f"m{i}", metadata=METADATA)
              for i in range(3)]
    await slack.chat_postMessage(channel=channel, text="reply", thread_ts=posted[0]["ts"])
    plain = await slack.conversations_history(channel=channel)
    assert [m["text"] for m in plain["messages"]] == ["m2", "m1", "m0"]
    assert all("metadata" not in m for m in plain["messages"])
    full = await slack.conversations_history(channel=channel, include_all_metadata=True)
    assert [m["metadata"] for m in full["messages"]] == [METADATA] * 3


async def test_history_filters_by_oldest_and_pages_by_cursor(
    slack: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    sandbox.limiter = None  # five quick posts to one channel
    channel = (await slack.conversations_open(users=ADA))["channel"]["id"]
    stamps = [(await slack.chat_postMessage(channel=channel, text=f"m{i}"))["ts"]
              for i in range(5)]
    newer = await slack.conversations_history(channel=channel, oldest=stamps[2])
    assert [m["text"] for m in newer["messages"]] == ["m4", "m3"]
    inclusive = await slack.conversations_history(channel=channel, oldest=stamps[2],
                                                  inclusive=True)
    assert len(inclusive["messages"]) == 3
    page = await slack.conversations_history(channel=channel, limit=2)
    assert [m["text"] for m in page["messages"]] == ["m4", "m3"]
    assert page["has_more"] is True
    cursor = page["response_metadata"]["next_cursor"]
    rest = await slack.conversations_history(channel=channel, limit=10, cursor=cursor)
    assert [m["text"] for m in rest["messages"]] == ["m2", "m1", "m0"]
    assert rest["has_more"] is False
    missing = await slack_error(slack.conversations_history(channel="C0NOWHERE"))
    assert missing.response["error"] == "channel_not_found"


async def test_replies_return_the_thread_oldest_first(slack: AsyncWebClient) -> None:
    parent = await slack.chat_postMessage(channel=ADA, text="Your check-in", metadata=METADATA)
    channel = parent["channel"]
    await slack.chat_postMessage(channel=channel, text="first", thread_ts=parent["ts"])
    second = await slack.chat_postMessage(channel=channel, text="second", thread_ts=parent["ts"])
    thread = await slack.conversations_replies(channel=channel, ts=parent["ts"],
                                               include_all_metadata=True)
    assert [m["text"] for m in thread["messages"]] == ["Your check-in", "first", "second"]
    assert thread["messages"][0]["metadata"] == METADATA
    from_reply = await slack.conversations_replies(channel=channel, ts=second["ts"])
    assert len(from_reply["messages"]) == 3
    missing = await slack_error(slack.conversations_replies(channel=channel,
                                                            ts="1600000000.000001"))
    assert missing.response["error"] == "thread_not_found"


async def test_every_call_is_recorded(slack: AsyncWebClient, sandbox: SlackSandbox) -> None:
    await slack.auth_test()
    await slack.chat_postMessage(channel=ADA, text="hi")
    await slack_error(slack.users_info(user="U0NOBODY"))
    assert [call.method for call in sandbox.calls()] == [
        "auth.test", "chat.postMessage", "users.info"]
    [post] = sandbox.calls("chat.postMessage")
    assert post.ok and post.args == {"channel": ADA, "text": "hi"}
    assert post.response["channel"] == sandbox.dm_channel(ADA)
    [lookup] = sandbox.calls("users.info")
    assert not lookup.ok and lookup.error == "user_not_found"
    sandbox.clear_calls()
    assert sandbox.calls() == []
