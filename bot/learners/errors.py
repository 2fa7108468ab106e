"""What a learner's request can be refused for; each says what to do instead."""

from __future__ import annotations

from datetime import date

from bot.errors import UserError
from bot.text import code_span
from bot.wording import short_date


def _whose(member_id: int | None) -> str:
    """ "Your", or the member's mention when someone acts on another member's record."""
    return "Your" if member_id is None else f"<@{member_id}>'s"


class NotJoined(UserError):
    """Not an active member; `left` when they joined once and then ran /leave."""

    def __init__(self, member_id: int | None = None, *, left: bool = False) -> None:
        if left:
            message = (
                "You left this server's roadmap; your passes are kept. "
                "Use `/join` to pick up where you were."
                if member_id is None
                else f"<@{member_id}> has left this server's roadmap."
            )
        else:
            message = (
                "You have not joined this server's roadmap yet: use `/join` to start."
                if member_id is None
                else f"<@{member_id}> has not joined this server's roadmap."
            )
        super().__init__(message)
        self.left = left


class AlreadyLeft(UserError):
    def __init__(self) -> None:
        super().__init__(
            "You have already left this server's roadmap; your passes are kept. "
            "Use `/join` to come back."
        )


class UnknownVideo(UserError):
    def __init__(self, query: str, suggestions: list[str]) -> None:
        hint = (
            f" Did you mean {', '.join(suggestions)}?"
            if suggestions
            else " See `/roadmap` for the list."
        )
        super().__init__(f"No such video: {code_span(query, 50)}.{hint}")
        self.suggestions = suggestions


class SecondBeforeFirst(UserError):
    def __init__(self, title: str) -> None:
        super().__init__(
            f"Log the first pass of **{title}** before the second: the first pass only watches, "
            "the second builds on it."
        )


class SecondDatedBeforeFirst(UserError):
    def __init__(self, title: str, first_on: date, member_id: int | None = None) -> None:
        super().__init__(
            f"{_whose(member_id)} first pass of **{title}** is dated {short_date(first_on)}: "
            "the second pass comes after it, so date it that day or later. Nothing was logged."
        )


class AlreadyLogged(UserError):
    def __init__(
        self, title: str, pass_label: str, studied: date, member_id: int | None = None
    ) -> None:
        super().__init__(
            f"{_whose(member_id)} {pass_label} pass of **{title}** is already logged "
            f"(studied {short_date(studied)}); nothing changed. To change its note or link, "
            "run `/done` again with just the new `note` or `link`."
        )


class NotLogged(UserError):
    def __init__(self, title: str, pass_label: str) -> None:
        super().__init__(f"There is no {pass_label} pass of **{title}** to undo.")


class SecondStillLogged(UserError):
    def __init__(self, title: str) -> None:
        super().__init__(
            f"Undo the second pass of **{title}** first: a second pass cannot stand without the first."
        )
