"""The terminal loop: read what the person types, act in Slack, print what Coachbot did."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TextIO

from bot.sandbox_client.inputs import (
    KIND_NAMES,
    MULTI_CHOICE,
    SINGLE_CHOICE,
    USER_ID,
    BadInput,
    ModalForm,
    parse_date,
    parse_time,
    pick_option,
    pick_options,
    shown_state,
)
from bot.sandbox_client.outcome import describe, direct_messages
from bot.sandbox_client.render import Control, FieldRef, Item, Numbering, render_modal
from bot.sandbox_client.session import Outcome, SlackUser

log = logging.getLogger("coachbot.sandbox_client")

HELP = """\
What you can type (numbers refer to the last printout that numbered things):
  home                   open your Home tab
  /coach <text>          the slash command, e.g. `/coach help`, `/coach goal add Listen more`
  click N                press button N
  choose N <option>      pick in select or menu N, by option number or text
                         (a date picker takes YYYY-MM-DD; checkboxes take numbers: 1,3)
  set N <value>          fill input N of the open modal (options and dates as for choose;
                         `set N` alone empties it; in multi-line inputs \\n starts a line)
  submit                 submit the open modal
  cancel                 close the open modal without submitting
  modal                  show the open modal again
  messages               your DMs with Coachbot
  as <USER_ID>           act as someone else, e.g. `as UDEMOCOACH1`
  help                   this list
  quit                   leave (so does Ctrl+D)"""


def _number(word: str, verb: str) -> int:
    if not word.isdigit():
        raise BadInput(f"{verb} takes a number from the last printout, e.g. `{verb} 3`")
    return int(word)


class Repl:
    """Reads commands, acts as the person in Slack, prints what followed."""

    def __init__(self, user: SlackUser, out: TextIO) -> None:
        self.user = user
        self.out = out
        self.items: list[Item] = []
        self.commands: dict[str, Callable[[str], Awaitable[None]]] = {
            "home": self.home,
            "click": self.click,
            "choose": self.choose,
            "set": self.set,
            "submit": self.submit,
            "cancel": self.cancel,
            "modal": self.show_modal,
            "messages": self.messages,
            "as": self.become,
            "help": self.help,
        }

    def say(self, *lines: str) -> None:
        """Print lines to the person."""
        for line in lines:
            print(line, file=self.out)
        self.out.flush()

    async def run(self, lines: AsyncIterator[str], *, interactive: bool) -> int:
        """Handle lines until `quit` or the end of input."""
        self.say(
            f"Coachbot sandbox · you are {self.user.name()} ({self.user.user_id}) in "
            f"workspace {self.user.sandbox.workspace.team_id}.",
            "Type `home` for your Home tab, `/coach help` for the slash command, "
            "`help` for everything else.",
        )
        while True:
            prompt = f"{self.user.user_id}> "
            if interactive:
                print(prompt, end="", file=self.out, flush=True)
            line = await anext(lines, None)
            if line is None:
                if interactive:
                    self.say("")
                return 0
            line = line.rstrip("\r\n")
            if not interactive:
                self.say(prompt + line)
            if line.strip().lower() in ("quit", "exit", "q"):
                return 0
            await self.handle(line)

    async def handle(self, line: str) -> None:
        """One line the person typed."""
        stripped = line.strip()
        if not stripped:
            return
        word, _, rest = stripped.partition(" ")
        try:
            if word.startswith("/"):
                await self.slash(word, rest.strip())
                return
            command = self.commands.get(word.lower())
            if command is None:
                raise BadInput(f"unknown command {word!r}; type `help` for what you can do")
            await command(rest.strip())
        except BadInput as problem:
            self.say(f"Can't do that: {problem}.")
        except Exception as error:
            # One failed command must not end the session; the log keeps the traceback.
            log.error("sandbox command %r failed", stripped, exc_info=error)
            self.say(
                f"Can't do that: the sandbox client failed ({type(error).__name__}); "
                "the log has the details."
            )

    def say_numbered(self, lines: list[str], numbering: Numbering) -> None:
        """Print a printout; if it numbered things, its numbers are the ones to use next."""
        self.say(*lines)
        if numbering.items:
            self.items = numbering.items

    def show(self, outcome: Outcome) -> None:
        """Print what followed a request."""
        self.say_numbered(*describe(outcome, self.user))

    def show_form(self, form: ModalForm) -> None:
        """Print an open modal."""
        numbering = Numbering()
        self.say_numbered(render_modal(form, numbering), numbering)

    def item(self, number: int) -> Item:
        """The thing numbered `number` in the last printout that numbered things."""
        if not self.items:
            raise BadInput("nothing is numbered yet; type `home` to see your Home tab")
        if not 1 <= number <= len(self.items):
            raise BadInput(
                f"there is no [{number}]; the last printout numbered 1–{len(self.items)}"
            )
        return self.items[number - 1]

    def control(self, number: int) -> Control:
        """A numbered element to press or choose in."""
        found = self.item(number)
        if isinstance(found, FieldRef):
            raise BadInput(
                f"[{number}] is an input of the modal; fill it with `set {number} <value>`"
            )
        return found

    # Commands

    async def home(self, rest: str) -> None:
        """Open the Home tab."""
        self.show(await self.user.open_home())

    async def slash(self, name: str, text: str) -> None:
        """A slash command."""
        if name.lower() != "/coach":
            raise BadInput(f"{name} is not a command of this workspace; Coachbot's is /coach")
        self.show(await self.user.command(text))

    async def click(self, rest: str) -> None:
        """Press a button."""
        number = _number(rest.split()[0] if rest else "", "click")
        control = self.control(number)
        if control.kind != "button":
            name = KIND_NAMES.get(control.kind, control.kind)
            raise BadInput(f"[{number}] is a {name}; use `choose {number} <option>`")
        self.show(await self.user.press(control))

    async def choose(self, rest: str) -> None:
        """Choose in a select, menu, checkboxes or picker."""
        first, _, wanted = rest.partition(" ")
        number = _number(first, "choose")
        control = self.control(number)
        kind = control.kind
        chosen: Any
        if kind == "button":
            raise BadInput(f"[{number}] is a button; use `click {number}`")
        if not wanted.strip() and kind not in MULTI_CHOICE:
            raise BadInput(f"say what to choose, e.g. `choose {number} 1`")
        if kind in SINGLE_CHOICE:
            chosen = pick_option(control.element, wanted)
        elif kind in MULTI_CHOICE:
            chosen = pick_options(control.element, wanted)
        elif kind == "datepicker":
            chosen = parse_date(wanted)
        elif kind == "timepicker":
            chosen = parse_time(wanted)
        else:
            raise BadInput(f"the sandbox cannot use a {kind} element")
        self.show(await self.user.press(control, chosen=chosen))

    async def set(self, rest: str) -> None:
        """Fill an input of the open modal."""
        first, _, typed = rest.partition(" ")
        number = _number(first, "set")
        found = self.item(number)
        if isinstance(found, Control):
            raise BadInput(
                f"[{number}] is not a modal input; `set` fills the inputs the "
                "open modal numbers (type `modal` to see them)"
            )
        if found.form not in self.user.modals:
            raise BadInput("that modal is closed")
        warning = found.form.fill(found.field, typed.strip())
        shown = shown_state(found.form.values[found.field.block_id])
        self.say(f"[{number}] {found.field.label} = {shown}")
        if warning:
            self.say(f"    note: {warning}")

    async def submit(self, rest: str) -> None:
        """Submit the open modal, as Slack would: not while a required input is empty."""
        form = self.user.modal
        if form is None:
            raise BadInput("no modal is open")
        missing = form.missing()
        if missing:
            for item in missing:
                form.errors[item.block_id] = "Please complete this required field."
            self.say("Slack does not send a form with a required input empty:")
            self.show_form(form)
            return
        self.show(await self.user.submit())

    async def cancel(self, rest: str) -> None:
        """Close the open modal."""
        form = self.user.modal
        if form is None:
            raise BadInput("no modal is open")
        outcome = await self.user.cancel()
        self.say(f"(Closed “{form.title}” without submitting.)")
        if outcome is not None:
            self.show(outcome)
        elif self.user.modal is not None:
            self.show_form(self.user.modal)

    async def show_modal(self, rest: str) -> None:
        """Print the open modal again."""
        if self.user.modal is None:
            raise BadInput("no modal is open")
        self.show_form(self.user.modal)

    async def messages(self, rest: str) -> None:
        """Print the DMs."""
        self.say_numbered(*direct_messages(self.user))

    async def become(self, rest: str) -> None:
        """Act as someone else."""
        user_id = rest.strip().upper()
        if not USER_ID.fullmatch(user_id):
            raise BadInput("`as` takes a Slack user id such as UDEMOLEAD02 or UDEMOCOACH1")
        self.user.switch(user_id)
        self.items = []
        name = self.user.name()
        who = name if name == user_id else f"{name} ({user_id})"
        self.say(f"You are now {who}. Type `home` to see their Home tab.")

    async def help(self, rest: str) -> None:
        """Print the commands."""
        self.say(HELP)


async def lines_from(stream: TextIO) -> AsyncIterator[str]:
    """Lines of a text stream, read on a daemon thread so a blocked read never holds up the
    event loop (Coachbot keeps working meanwhile) or the exit."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def pump() -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody is listening
            try:
                for line in iter(stream.readline, ""):
                    loop.call_soon_threadsafe(queue.put_nowait, line)
            except (OSError, ValueError):
                pass
            loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=pump, name="coachbot-sandbox-stdin", daemon=True).start()
    while (line := await queue.get()) is not None:
        yield line
