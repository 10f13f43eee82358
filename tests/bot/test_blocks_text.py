"""Escaping and truncation of text that people and models write."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.blocks.text import ELLIPSIS, Markup, escape, markup, mrkdwn, plain_text, truncate

checked = settings(database=None, max_examples=300, deadline=None)
# Text rich in what breaks naive code: markup characters, entities, emoji sequences.
tricky_text = st.lists(
    st.sampled_from([*"<>&;!@#|*_~ abglmpt", "<!channel>", "<@U123>", "&amp;", "\u0301",
                     "\u200d", "👩", "🏽", "🇫", "🇷", "\ufe0f", "é"]),
    max_size=30,
).map("".join)
entity = re.compile(r"&(amp|lt|gt);")


@checked
@given(st.text())
def test_escaped_text_has_no_angle_brackets(text: str) -> None:
    escaped = escape(text)
    assert "<" not in escaped
    assert ">" not in escaped


@checked
@given(st.text())
def test_escaping_is_reversible(text: str) -> None:
    unescaped = escape(text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert unescaped == text


def test_mentions_and_links_render_literally() -> None:
    assert escape("<!channel> hi <@U123> <https://x.test|click> & co") == (
        "&lt;!channel&gt; hi &lt;@U123&gt; &lt;https://x.test|click&gt; &amp; co"
    )


def test_escaping_twice_does_not_double_escape_markup() -> None:
    once = escape("a < b")
    assert escape(once) == once
    assert isinstance(once, Markup)


def test_markup_escapes_values_but_keeps_the_template() -> None:
    text = markup("*{title}* is due in {days} days, <@{coach}>", title="<!here> & more",
                  days=3, coach="U1")
    assert text == "*&lt;!here&gt; &amp; more* is due in 3 days, <@U1>"
    assert isinstance(text, Markup)


def test_short_text_is_untouched() -> None:
    assert truncate("hello", 5) == "hello"


def test_long_text_ends_in_an_ellipsis_within_the_limit() -> None:
    assert truncate("hello world", 8) == "hello w" + ELLIPSIS
    assert truncate("hello world", 7) == "hello" + ELLIPSIS
    assert truncate("abcdefghij", 4) == "abc" + ELLIPSIS


@pytest.mark.parametrize("limit", range(1, 12))
def test_truncation_never_cuts_inside_an_entity(limit: int) -> None:
    text = escape("a&b<c>d&e")  # a&amp;b&lt;c&gt;d&amp;e
    cut = truncate(text, limit).removesuffix(ELLIPSIS)
    assert entity.sub("", cut).count("&") == 0


def test_truncation_keeps_emoji_sequences_whole() -> None:
    family = "👩\u200d👩\u200d👧"
    flag = "🇫🇷"
    for text in (f"ab{family}", f"ab{flag}{flag}", "abcé\u0301", "ab👍🏽"):
        for limit in range(1, len(text)):
            kept = truncate(text, limit).removesuffix(ELLIPSIS)
            assert text.startswith(kept)
            rest = text[len(kept):]
            assert not rest or rest[0] not in "\u200d\u0301🏽\ufe0f", (text, limit)
            assert not kept.endswith("\u200d")
            assert kept.count("🇫") == kept.count("🇷")


def test_truncation_never_splits_a_surrogate_pair() -> None:
    text = "ab" + "\ud83d\ude00" * 3  # surrogates, as a careless decoder leaves them
    for limit in range(1, len(text)):
        kept = truncate(text, limit).removesuffix(ELLIPSIS)
        assert not kept or not ("\ud800" <= kept[-1] <= "\udbff")


def test_markup_truncation_keeps_links_and_mentions_whole() -> None:
    text = Markup("see <https://example.test/plan|your plan> now")
    assert truncate(text, 20) == "see" + ELLIPSIS
    assert isinstance(truncate(text, 20), Markup)


@checked
@given(tricky_text, st.integers(min_value=0, max_value=70))
def test_truncated_escaped_text_is_a_safe_prefix(text: str, limit: int) -> None:
    escaped = escape(text)
    result = truncate(escaped, limit)
    assert len(result) <= limit
    if result != escaped:
        kept = result.removesuffix(ELLIPSIS)
        assert escaped.startswith(kept)
        assert entity.sub("", kept).count("&") == 0
        assert "<" not in result and ">" not in result


def test_text_objects_apply_their_limits() -> None:
    assert mrkdwn("<!here>" * 1000)["text"].endswith(ELLIPSIS)
    assert len(mrkdwn("x" * 5000)["text"]) == 3000
    header = plain_text("y" * 200, limit=150)
    assert header == {"type": "plain_text", "text": "y" * 149 + ELLIPSIS, "emoji": True}


def test_plain_text_is_not_escaped() -> None:
    # plain_text is never parsed for mentions, and Slack would show entities literally.
    assert plain_text("Q&A <3", limit=75)["text"] == "Q&A <3"
