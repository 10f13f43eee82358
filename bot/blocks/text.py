"""Safe text for Block Kit: escaping for mrkdwn, truncation, and text objects within limits.

Anything a person or a model wrote goes through `escape`, so it can never produce a
mention (`<!channel>`, `<@U123>`) or a link. Markup the code writes itself is wrapped in
`Markup` (or built with `markup()`, which escapes the values it interpolates).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Final, overload

JSON = dict[str, Any]

# Text limits from Slack's Block Kit reference, in characters (code points, as Slack
# and slack_sdk count them).
MESSAGE_TEXT: Final = 40_000
SECTION_TEXT: Final = 3000
SECTION_FIELD: Final = 2000
CONTEXT_TEXT: Final = 3000
HEADER_TEXT: Final = 150
BUTTON_TEXT: Final = 75
BUTTON_VALUE: Final = 2000
ACTION_ID: Final = 255
BLOCK_ID: Final = 255
OPTION_TEXT: Final = 75
OPTION_VALUE: Final = 150
OPTION_DESCRIPTION: Final = 75
PLACEHOLDER: Final = 150
URL: Final = 3000

ELLIPSIS: Final = "…"

# Slack decodes only &amp; &lt; &gt;, but never cut inside anything shaped like an entity.
_ENTITY = re.compile(r"&[A-Za-z0-9#]{1,10};")
_ENTITY_MAX = 12
_ZWJ = "\u200d"


class Markup(str):
    """Text that is safe to send as mrkdwn: trusted markup, or user text already escaped."""

    __slots__ = ()


def escape(text: str) -> Markup:
    """Escape `&`, `<` and `>` so the text renders literally in mrkdwn."""
    if isinstance(text, Markup):
        return text
    return Markup(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def markup(template: str, /, **values: str | int | float) -> Markup:
    """Fill a trusted mrkdwn template with values, escaping every string value."""
    safe = {name: escape(v) if isinstance(v, str) else v for name, v in values.items()}
    return Markup(template.format(**safe))


@overload
def truncate(text: Markup, limit: int, *, ellipsis: str = ELLIPSIS) -> Markup: ...
@overload
def truncate(text: str, limit: int, *, ellipsis: str = ELLIPSIS) -> str: ...
def truncate(text: str, limit: int, *, ellipsis: str = ELLIPSIS) -> str:
    """Shorten to at most `limit` characters, ending in `ellipsis`, without breaking
    an escape entity, a link or mention in markup, a surrogate pair or a grapheme."""
    if limit < 0:
        raise ValueError("limit must not be negative")
    if len(text) <= limit:
        return text
    if limit <= len(ellipsis):
        return ellipsis[:limit]
    end = _safe_cut(text, limit - len(ellipsis), markup=isinstance(text, Markup))
    shortened = text[:end].rstrip() + ellipsis
    return Markup(shortened) if isinstance(text, Markup) else shortened


def _safe_cut(text: str, end: int, *, markup: bool) -> int:
    """The largest cut position <= end that splits no entity, token or grapheme."""
    while True:
        cut = _outside_grapheme(text, _outside_entity(text, end))
        if markup:
            cut = _outside_angle_token(text, cut)
        if cut == end:
            return cut
        end = cut


def _outside_entity(text: str, end: int) -> int:
    start = text.rfind("&", max(0, end - _ENTITY_MAX), end)
    if start == -1:
        return end
    entity = _ENTITY.match(text, start)
    return start if entity and entity.end() > end else end


def _outside_angle_token(text: str, end: int) -> int:
    # In trusted markup a cut between "<" and ">" would leave half a link or mention.
    opening = text.rfind("<", 0, end)
    return opening if opening > text.rfind(">", 0, end) else end


def _outside_grapheme(text: str, end: int) -> int:
    while 0 < end < len(text) and _joins(text, end):
        end -= 1
    return end


def _joins(text: str, index: int) -> bool:
    """Whether text[index - 1] and text[index] belong to the same grapheme."""
    before, after = text[index - 1], text[index]
    if before == "\r" and after == "\n":
        return True
    if "\ud800" <= before <= "\udbff" or before == _ZWJ:
        return True
    if _extends(after):
        return True
    if _regional_indicator(before) and _regional_indicator(after):
        # Flags are pairs: count the run of indicators that ends at `before`.
        run = 0
        while index - run - 1 >= 0 and _regional_indicator(text[index - run - 1]):
            run += 1
        return run % 2 == 1
    return False


def _extends(char: str) -> bool:
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Mc", "Me")
        or char == _ZWJ
        or 0xDC00 <= code <= 0xDFFF  # low surrogate
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
        or 0x1F3FB <= code <= 0x1F3FF  # skin-tone modifiers
        or 0xE0020 <= code <= 0xE007F  # emoji tag sequences
        or 0xE0100 <= code <= 0xE01EF  # variation selectors supplement
    )


def _regional_indicator(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def mrkdwn(text: str, *, limit: int = SECTION_TEXT) -> JSON:
    """A mrkdwn text object: user text escaped, everything cut to `limit`."""
    return {"type": "mrkdwn", "text": truncate(escape(text), limit)}


def plain_text(text: str, *, limit: int, emoji: bool = True) -> JSON:
    """A plain_text object cut to `limit`; plain text is never parsed, so it needs no escaping."""
    return {"type": "plain_text", "text": truncate(text, limit), "emoji": emoji}
