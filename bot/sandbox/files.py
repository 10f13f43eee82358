"""Slack's file upload in the sandbox: files.getUploadURLExternal, the upload itself, and
files.completeUploadExternal, which shares the file as a message in a conversation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bot.sandbox.args import Args, json_arg, text_arg
from bot.sandbox.errors import SlackError
from bot.sandbox.workspace import JSON, SandboxWorkspace

# Slack takes files of up to 1 GB.
MAX_FILE_BYTES: Final = 1024**3


@dataclass
class SandboxFile:
    """A file announced by getUploadURLExternal; `content` is None until it is uploaded."""

    id: str
    name: str
    content: bytes | None = None
    title: str = ""

    def public(self) -> JSON:
        """The file object Slack puts in a message and in API answers."""
        return {
            "id": self.id,
            "name": self.name,
            "title": self.title or self.name,
            "size": len(self.content or b""),
            "filetype": self.name.rsplit(".", 1)[-1] if "." in self.name else "text",
        }


class FileStore:
    """The workspace's files, with the URL the sandbox takes their bytes at."""

    def __init__(self) -> None:
        self.upload_url = ""  # set by the server once it knows its port
        self.files: dict[str, SandboxFile] = {}

    def announce(self, name: str) -> SandboxFile:
        file = SandboxFile(id=f"F{len(self.files) + 1:09d}", name=name)
        self.files[file.id] = file
        return file

    def receive(self, file_id: str, content: bytes) -> bool:
        """Store an upload's bytes; False for a file that was never announced."""
        file = self.files.get(file_id)
        if file is None or file.content is not None:
            return False
        file.content = content
        return True


def get_upload_url(store: FileStore, args: Args) -> JSON:
    """files.getUploadURLExternal: announce a file by name and size in bytes."""
    name = text_arg(args, "filename", required=True)
    length = text_arg(args, "length", required=True)
    if not length.isdigit() or not 0 < int(length) <= MAX_FILE_BYTES:
        raise SlackError("invalid_arguments", messages=["[ERROR] invalid length: " + length])
    file = store.announce(name)
    return {"ok": True, "upload_url": f"{store.upload_url}{file.id}", "file_id": file.id}


def complete_upload(workspace: SandboxWorkspace, store: FileStore, args: Args) -> JSON:
    """files.completeUploadExternal: share uploaded files, with an optional comment."""
    listed = json_arg(args, "files")
    if not isinstance(listed, list) or not listed:
        raise SlackError("invalid_arguments", messages=["[ERROR] files must be a non-empty array"])
    files = []
    for item in listed:
        file = store.files.get(str(item.get("id"))) if isinstance(item, dict) else None
        if file is None or file.content is None:
            raise SlackError("file_not_found")
        file.title = str(item.get("title") or file.name)
        files.append(file)
    channel = text_arg(args, "channel_id")
    if channel:
        conversation = workspace.conversation(channel)
        message: JSON = {
            "type": "message", "user": workspace.bot_user_id, "bot_id": workspace.bot_id,
            "app_id": workspace.app_id, "team": workspace.team_id,
            "text": text_arg(args, "initial_comment"), "upload": True,
            "files": [file.public() for file in files], "ts": workspace.next_ts(),
        }
        workspace.add_message(conversation, message)
    return {"ok": True, "files": [file.public() for file in files]}
