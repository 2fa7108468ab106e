"""Refusals: each carries the one sentence the user sees. The command tree turns any of them
into a private reply, so features raise them and no cog handles errors."""

from __future__ import annotations


class UserError(Exception):
    """A request we refuse. Nothing was written when one of these is raised."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotInServer(UserError):
    def __init__(self) -> None:
        super().__init__(
            "twopass works inside a server: use this command in your study server's channel."
        )


class BadInput(UserError):
    """An option value we cannot use; the message says which and why."""


class NotAllowed(UserError):
    """The member may not do this (a server permission is missing)."""
