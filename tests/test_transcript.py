"""The transcript tool plays a story through the local Discord; a short one here."""

from __future__ import annotations

from tools.transcript import play


def entries(text: str) -> list[tuple[str, str]]:
    """(header, what was shown) for each command or post in a transcript."""
    out: list[tuple[str, str]] = []
    for line in text.splitlines():
        if line.startswith("      ") and out:
            out[-1] = (out[-1][0], out[-1][1] + line.strip() + "\n")
        elif line and not line.startswith("==="):
            out.append((line, ""))
    return out


async def test_a_short_story_reads_kind_in_public_and_is_the_same_every_time() -> None:
    text = await play(weeks=1, members=6, seed=3)
    assert text == await play(weeks=1, members=6, seed=3)
    public = [body for head, body in entries(text) if body.startswith("(in #study)")]
    posts = [body for head, body in entries(text) if "twopass posts" in head]
    assert public and posts
    for body in public + posts:
        assert "behind plan" not in body and "ahead of plan" not in body, body
    assert "Weekly check-in: " in text and "Video of the day" in text
    assert "(only ana sees)\n**Today" in text.replace("      ", "")
    assert "<@" not in text  # mentions are shown as names
