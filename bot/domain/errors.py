"""Refusals the domain raises; each carries the one sentence the user sees."""

from __future__ import annotations

from datetime import datetime


class StudyError(Exception):
    """A request we refuse. Nothing was written when one of these is raised."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotInServer(StudyError):
    def __init__(self) -> None:
        super().__init__(
            "twopass works inside a server: use this command in your study server's channel."
        )


def _whose(member_id: int | None) -> str:
    """ "Your", or the member's mention when someone acts on another member's record."""
    return "Your" if member_id is None else f"<@{member_id}>'s"


class NotJoined(StudyError):
    def __init__(self, member_id: int | None = None) -> None:
        super().__init__(
            "You have not joined this server's roadmap yet: use `/join` to start."
            if member_id is None
            else f"<@{member_id}> has not joined this server's roadmap."
        )


class UnknownVideo(StudyError):
    def __init__(self, query: str, suggestions: list[str]) -> None:
        hint = (
            f" Did you mean {', '.join(suggestions)}?"
            if suggestions
            else " See `/roadmap` for the list."
        )
        super().__init__(f"No such video: `{query}`.{hint}")
        self.suggestions = suggestions


class SecondBeforeFirst(StudyError):
    def __init__(self, title: str) -> None:
        super().__init__(
            f"Log the first pass of **{title}** before the second: the first pass only watches, "
            "the second builds on it."
        )


class AlreadyLogged(StudyError):
    def __init__(
        self, title: str, pass_label: str, when: datetime, member_id: int | None = None
    ) -> None:
        super().__init__(
            f"{_whose(member_id)} {pass_label} pass of **{title}** is already logged "
            f"(<t:{int(when.timestamp())}:f>); nothing changed."
        )


class NotLogged(StudyError):
    def __init__(self, title: str, pass_label: str) -> None:
        super().__init__(f"There is no {pass_label} pass of **{title}** to undo.")


class SecondStillLogged(StudyError):
    def __init__(self, title: str) -> None:
        super().__init__(
            f"Undo the second pass of **{title}** first: a second pass cannot stand without the first."
        )


class BadInput(StudyError):
    """An option value we cannot use; the message says which and why."""


class NotAllowed(StudyError):
    """The member may not do this (a server permission is missing)."""
