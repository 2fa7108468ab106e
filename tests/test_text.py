"""Members' text made safe to show, and links checked before they are stored."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.text import LINK_MAX, BadLink, code_span, escape_user_text, masked_link, parse_link

# --- escape_user_text ------------------------------------------------------------------------


def test_a_masked_link_in_a_note_shows_as_text_not_as_a_link() -> None:
    shown = escape_user_text("[free nitro](https://evil.example)")
    assert shown == r"\[free nitro\]\(https://evil.example\)"


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("**bold** _it_ ~~gone~~", r"\*\*bold\*\* \_it\_ \~\~gone\~\~"),
        ("||spoiler||", r"\|\|spoiler\|\|"),
        ("`code`", r"\`code\`"),
        ("> quote", r"\> quote"),
        ("# heading", r"\# heading"),
        ("-# small", r"\-\# small"),
        ("- item", r"\- item"),
        (r"back\slash", r"back\\slash"),
        ("1. first\n2. second", "1\\. first\n2\\. second"),
        ("plain words, 3.5 h", "plain words, 3.5 h"),
    ],
)
def test_markdown_is_shown_literally(typed: str, shown: str) -> None:
    assert escape_user_text(typed) == shown


def test_mentions_cannot_ping_or_render() -> None:
    shown = escape_user_text("hi @everyone and @Here, <@123> <@&9> <#5>")
    assert "@everyone" not in shown and "@Here" not in shown
    assert "@\u200beveryone" in shown and "@\u200bHere" in shown
    assert r"\<@123\>" in shown and r"\<@&9\>" in shown and r"\<\#5\>" in shown


def test_plain_text_is_unchanged() -> None:
    assert escape_user_text("Finished micrograd, all tests pass!") == (
        "Finished micrograd, all tests pass!"
    )


def test_limit_cuts_the_text_never_an_escape() -> None:
    text = "*" * 20
    shown = escape_user_text(text, limit=10)
    assert len(shown) <= 10
    assert shown.endswith("…")
    assert shown == r"\*\*\*\*…"  # four escaped stars, never a lone backslash
    assert escape_user_text("short", limit=10) == "short"
    assert escape_user_text("abc", limit=0) == ""


# --- code_span -------------------------------------------------------------------------------


def test_code_span_with_backticks_stays_one_span() -> None:
    span = code_span("gpt`` `drop")
    assert span.startswith("`") and span.endswith("`")
    assert span.count("`") == 2
    assert span == "`gptˋˋ ˋdrop`"


def test_code_span_flattens_lines_limits_length_and_shows_empty() -> None:
    assert code_span("a\n\nb") == "`a b`"
    assert code_span("x" * 100, limit=10) == "`" + "x" * 9 + "…`"
    assert code_span("   ") == "(empty)"
    assert code_span("@everyone") == "`@\u200beveryone`"


# --- parse_link ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("https://github.com/you/micrograd", "https://github.com/you/micrograd"),
        ("  http://example.org/a?b=c#d  ", "http://example.org/a?b=c#d"),
        ("<https://example.org>", "https://example.org"),
        ("github.com/you/micrograd", "https://github.com/you/micrograd"),
        ("example.org:8080/x", "https://example.org:8080/x"),
        ("HTTPS://EXAMPLE.COM/A", "HTTPS://EXAMPLE.COM/A"),
        ("https://münchen.de/", "https://münchen.de/"),
        ("https://8.8.8.8/x", "https://8.8.8.8/x"),
        ("https://[2001:4860::8888]/", "https://[2001:4860::8888]/"),
        ("https://en.wikipedia.org/wiki/Foo_(bar)", "https://en.wikipedia.org/wiki/Foo_(bar)"),
    ],
)
def test_web_links_are_accepted(typed: str, kept: str) -> None:
    assert parse_link(typed) == kept


@pytest.mark.parametrize("typed", [None, "", "   "])
def test_no_link_is_none(typed: str | None) -> None:
    assert parse_link(typed) is None


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("https://a b", "spaces"),
        ("https://example.org/a\tb", "spaces"),
        ("javascript:alert(1)", "web links"),
        ("JavaScript:alert(1)", "web links"),
        ("mailto:me@example.org", "web links"),
        ("ftp://example.org/file", "web links"),
        ("file:///etc/passwd", "web links"),
        ("data:text/html,hi", "web links"),
        ("https://localhost/x", "your own machine"),
        ("http://localhost:8000", "your own machine"),
        ("localhost:8080", "your own machine"),
        ("https://127.0.0.1/", "your own machine"),
        ("https://192.168.1.5:8888/lab", "your own machine"),
        ("https://[::1]/", "your own machine"),
        ("https://printer.local/", "your own machine"),
        ("https://example", "needs a dot"),
        ("https://-bad-.com", "not a website name"),
        ("https://x.123", "not a website name"),
        ("https://", "no website"),
        ("https://example.org:port/", "not a web address"),
        ("https://github.com@evil.example/", "before `@`"),
        ("https://user:pw@example.org/", "before `@`"),
    ],
)
def test_bad_links_are_refused_with_a_reason(typed: str, why: str) -> None:
    with pytest.raises(BadLink) as refused:
        parse_link(typed)
    assert why in refused.value.message
    assert refused.value.message == str(refused.value)


def test_link_length_limit() -> None:
    base = "https://example.org/"
    assert parse_link(base + "a" * (LINK_MAX - len(base))) is not None
    with pytest.raises(BadLink, match=f"at most {LINK_MAX}"):
        parse_link(base + "a" * (LINK_MAX - len(base) + 1))


def test_a_refused_host_is_quoted_safely() -> None:
    with pytest.raises(BadLink) as refused:
        parse_link("https://a`b.com")
    assert "`aˋb.com`" in refused.value.message


# --- masked_link -----------------------------------------------------------------------------


def test_masked_link_escapes_the_label_and_keeps_the_url_whole() -> None:
    assert masked_link("my [notes]", "https://en.wikipedia.org/wiki/Foo_(bar)") == (
        r"[my \[notes\]](https://en.wikipedia.org/wiki/Foo_%28bar%29)"
    )


# --- the rule modules stay pure --------------------------------------------------------------


def test_rule_modules_import_neither_discord_nor_the_database() -> None:
    code = (
        "import sys, bot.text, bot.zones, bot.learners.streaks, bot.wording; "
        "print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('discord', 'aiosqlite', 'sqlite3') or m.startswith('bot.')))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert (
        found == "['bot.learners', 'bot.learners.streaks', 'bot.text', 'bot.wording', 'bot.zones']"
    )
