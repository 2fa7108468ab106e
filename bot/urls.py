"""URLs that may carry a password (the database's, Redis's): shown without it, and whether their
parts can be told apart at all. Plain Python: no Discord, no database.

A password belongs in the user info (`scheme://user:password@host`), percent-encoded, or in a
query parameter (`?password=...`, as asyncpg accepts). One with an unencoded `/`, `?` or `#`
ends the host part early: the rest of the password then reads as the path, the query or the
fragment, and no parser can tell where it stops, so such a URL is shown as its scheme only.
"""

from __future__ import annotations

from urllib.parse import SplitResult, unquote, urlsplit

MASK = "***"


def split(url: str) -> SplitResult | None:
    """`url` in its parts, or None when they cannot be told apart: brackets that do not close,
    or an `@` after the host part (a password cut short by an unencoded `/`, `?` or `#`)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if "@" in parts.path + parts.query + parts.fragment:
        return None
    return parts


def port_readable(url: str) -> bool:
    """Whether `url`'s parts can be told apart and its port, if any, is a number in range."""
    parts = split(url)
    if parts is None:
        return False
    try:
        port = parts.port  # a port that is no number, or out of range, raises ValueError
    except ValueError:
        return False
    return port is None or port >= 0


def shown(url: str) -> str:
    """`url` as logs and messages may show it: the password of its user info and every query
    parameter named like a password replaced by `***`; a URL whose parts cannot be told apart
    shows as its scheme only."""
    scheme, sep, _ = url.partition("://")
    parts = split(url)
    if parts is None or not sep:
        return f"{scheme}://{MASK}" if sep else MASK
    user, at, host = parts.netloc.rpartition("@")
    netloc = f"{user.partition(':')[0]}:{MASK}@{host}" if at and ":" in user else parts.netloc
    query = "&".join(_masked(pair) for pair in parts.query.split("&")) if parts.query else ""
    return (
        f"{scheme}://{netloc}{parts.path}"
        + (f"?{query}" if query else "")
        + (f"#{parts.fragment}" if parts.fragment else "")
    )


def _masked(pair: str) -> str:
    key, equals, _ = pair.partition("=")
    return f"{key}={MASK}" if equals and "password" in unquote(key).lower() else pair
