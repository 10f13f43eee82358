"""views.open, views.push, views.update and views.publish in the sandbox."""

from __future__ import annotations

import copy
from collections.abc import Mapping

from bot.blocks.validate import view_problems
from bot.sandbox.args import Args, json_arg, problem_messages, text_arg
from bot.sandbox.errors import SlackError
from bot.sandbox.workspace import JSON, SandboxWorkspace


def _checked_view(args: Args, *, view_type: str) -> JSON:
    view = json_arg(args, "view")
    if not isinstance(view, Mapping):
        raise SlackError("invalid_arguments", messages=["[ERROR] missing required field: view"])
    if view.get("type") != view_type:
        raise SlackError("invalid_arguments",
                         messages=[f"[ERROR] view type must be {view_type} "
                                   "[json-pointer:/view/type]"])
    if problems := view_problems(view):
        raise SlackError("invalid_arguments", messages=problem_messages(problems))
    return dict(view)


def _stored(workspace: SandboxWorkspace, view: JSON, *, view_id: str,
            root_view_id: str | None = None, previous_view_id: str | None = None) -> JSON:
    stored: JSON = {
        "id": view_id,
        "team_id": workspace.team_id,
        "app_id": workspace.app_id,
        "bot_id": workspace.bot_id,
        "private_metadata": "",
        "callback_id": "",
        "external_id": "",
        "state": {"values": {}},
        **view,
        "hash": workspace.view_hash(),
        "root_view_id": root_view_id or view_id,
        "previous_view_id": previous_view_id,
    }
    if stored["external_id"]:
        clash = _by_external_id(workspace, stored["external_id"])
        if clash is not None and clash["id"] != view_id:
            raise SlackError("duplicate_external_id")
    workspace.views[view_id] = stored
    return copy.deepcopy(stored)


def _by_external_id(workspace: SandboxWorkspace, external_id: str) -> JSON | None:
    return next((v for v in workspace.views.values() if v["external_id"] == external_id), None)


def _require_trigger(args: Args) -> None:
    # Real trigger ids expire after 3 s; the sandbox only insists that one was passed.
    text_arg(args, "trigger_id", required=True, error="invalid_trigger_id")


def open_view(workspace: SandboxWorkspace, args: Args) -> JSON:
    """views.open: open a modal from a trigger."""
    _require_trigger(args)
    view = _checked_view(args, view_type="modal")
    return {"ok": True, "view": _stored(workspace, view, view_id=workspace.new_view_id())}


def push_view(workspace: SandboxWorkspace, args: Args) -> JSON:
    """views.push: put a modal on top of the open one."""
    _require_trigger(args)
    view = _checked_view(args, view_type="modal")
    return {"ok": True, "view": _stored(workspace, view, view_id=workspace.new_view_id())}


def _existing_view(workspace: SandboxWorkspace, args: Args) -> JSON:
    view_id = text_arg(args, "view_id")
    external_id = text_arg(args, "external_id")
    if not view_id and not external_id:
        raise SlackError("invalid_arguments",
                         messages=["[ERROR] either view_id or external_id is required"])
    existing = (workspace.views.get(view_id) if view_id
                else _by_external_id(workspace, external_id))
    if existing is None:
        raise SlackError("not_found")
    _check_hash(existing, args)
    return existing


def _check_hash(existing: JSON, args: Args) -> None:
    expected = text_arg(args, "hash")
    if expected and expected != existing["hash"]:
        raise SlackError("hash_conflict")


def update_view(workspace: SandboxWorkspace, args: Args) -> JSON:
    """views.update: replace an open modal (or Home tab) by view_id or external_id."""
    existing = _existing_view(workspace, args)
    view = _checked_view(args, view_type=existing["type"])
    return {"ok": True, "view": _stored(workspace, view, view_id=existing["id"],
                                        root_view_id=existing["root_view_id"],
                                        previous_view_id=existing["previous_view_id"])}


def publish_view(workspace: SandboxWorkspace, args: Args) -> JSON:
    """views.publish: set a person's App Home tab."""
    user = text_arg(args, "user_id", required=True, error="invalid_arguments")
    workspace.user(user)
    view = _checked_view(args, view_type="home")
    view_id = workspace.home_views.get(user)
    if view_id is not None:
        _check_hash(workspace.views[view_id], args)
    else:
        view_id = workspace.new_view_id()
        workspace.home_views[user] = view_id
    return {"ok": True, "view": _stored(workspace, view, view_id=view_id)}
