"""File uploads in the sandbox, through slack_sdk's files_upload_v2 over HTTP."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox import SlackSandbox
from tests.bot.fakes import ADA


async def test_an_uploaded_file_is_shared_in_the_dm_with_its_comment_and_bytes(
    slack: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    channel = (await slack.conversations_open(users=ADA))["channel"]["id"]
    content = '{"goals": ["Listen more — and better"]}'
    response = await slack.files_upload_v2(
        channel=channel,
        content=content,
        filename="export.json",
        title="Your data",
        initial_comment="Here it is.",
    )
    file_id = response["file"]["id"]
    assert sandbox.file_content(file_id) == content.encode()
    [message] = sandbox.messages(ADA)
    assert message["text"] == "Here it is."
    assert message["files"] == [
        {
            "id": file_id,
            "name": "export.json",
            "title": "Your data",
            "size": len(content.encode()),
            "filetype": "json",
        }
    ]


async def test_completing_an_upload_whose_bytes_never_came_is_file_not_found(
    slack: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    announced = await slack.files_getUploadURLExternal(filename="a.txt", length=3)
    with pytest.raises(SlackApiError) as raised:
        await slack.files_completeUploadExternal(
            files=[{"id": announced["file_id"]}], channel_id=sandbox.dm_channel(ADA)
        )
    assert raised.value.response["error"] == "file_not_found"
    assert not sandbox.messages(ADA)


async def test_an_upload_url_takes_its_bytes_once_and_unknown_ones_are_404(
    slack: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    announced = await slack.files_getUploadURLExternal(filename="a.txt", length=3)
    async with aiohttp.ClientSession() as http:
        first = await http.post(announced["upload_url"], data=b"abc")
        again = await http.post(announced["upload_url"], data=b"xyz")
        unknown = await http.post(sandbox.files.upload_url + "F404", data=b"abc")
    assert (first.status, await first.text()) == (200, "OK - 3")
    assert again.status == unknown.status == 404
    assert sandbox.file_content(announced["file_id"]) == b"abc"


@pytest.mark.parametrize("length", ["0", "-1", "many"])
async def test_a_file_needs_a_name_and_a_positive_length(
    slack: AsyncWebClient, length: str
) -> None:
    with pytest.raises(SlackApiError) as raised:
        await slack.api_call(
            "files.getUploadURLExternal", params={"filename": "a.txt", "length": length}
        )
    assert raised.value.response["error"] == "invalid_arguments"
    with pytest.raises(SlackApiError) as raised:
        await slack.api_call("files.getUploadURLExternal", params={"length": "3"})
    assert raised.value.response["error"] == "invalid_arguments"
