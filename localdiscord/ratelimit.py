"""Rate limits: injected 429/5xx faults, an optional enforcing mode, and the request log."""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]
# discord.py treats a 429 without a Via header as a Cloudflare ban and does not retry.
_VIA = {"Via": "1.1 google"}


@dataclass
class RequestRecord:
    """One REST request as the emulator saw it."""

    method: str
    path: str
    template: str | None
    at: float
    status: int = 0
    body: Any = None


@dataclass
class Fault:
    method: str
    template: str
    kind: str  # "route", "global" or "server"
    times: int
    retry_after: float = 0.0
    status: int = 500


@dataclass(frozen=True)
class BucketRule:
    """A per-route bucket: ``limit`` requests per ``per`` seconds for each major parameter."""

    limit: int
    per: float


@dataclass
class _Window:
    reset_at: float
    remaining: int


@dataclass
class Rejection:
    status: int
    body: JSON
    headers: dict[str, str]


# Discord's documented-in-practice limit for sending messages; everything else gets the default.
DEFAULT_RULES: dict[tuple[str, str], BucketRule] = {
    ("POST", "/channels/{channel_id}/messages"): BucketRule(5, 5.0),
}
DEFAULT_RULE = BucketRule(50, 1.0)
_MAJOR_PARAMS = ("channel_id", "guild_id", "webhook_id", "interaction_id")


def _bucket_hash(method: str, template: str) -> str:
    return hashlib.sha1(f"{method} {template}".encode()).hexdigest()[:16]


@dataclass
class RateLimiter:
    """Decides whether a request gets 429/5xx and which X-RateLimit headers it carries."""

    faults: list[Fault] = field(default_factory=list)
    enforcing: bool = False
    global_per_second: float = 50.0
    rules: dict[tuple[str, str], BucketRule] = field(default_factory=lambda: dict(DEFAULT_RULES))
    sent_429: int = 0
    _windows: dict[tuple[str, str], _Window] = field(default_factory=dict)
    _tokens: float = 0.0
    _refilled: float = 0.0

    def enforce(
        self,
        *,
        enabled: bool = True,
        global_per_second: float = 50.0,
        rules: dict[tuple[str, str], BucketRule] | None = None,
    ) -> None:
        self.enforcing = enabled
        self._windows.clear()
        self.global_per_second = global_per_second
        self._tokens = global_per_second
        self._refilled = time.monotonic()
        if rules:
            self.rules.update(rules)

    def add_fault(self, fault: Fault) -> None:
        self.faults.append(fault)

    def check(
        self, method: str, template: str, params: dict[str, str], *, authed: bool
    ) -> Rejection | None:
        """Returns a rejection for this request, or None to let it through."""
        fault = self._take_fault(method, template)
        if fault is not None:
            return self._fault_response(fault, method, template)
        if not (self.enforcing and authed):
            # Interaction callbacks and webhooks are outside the bot's global limit.
            return None
        wait = self._take_global_token()
        if wait > 0:
            return self.too_many(wait, is_global=True)
        window, rule = self._window(method, template, params)
        if window.remaining <= 0:
            headers = self._bucket_headers(method, template, rule, window)
            return self.too_many(
                window.reset_at - time.monotonic(), is_global=False, headers=headers
            )
        window.remaining -= 1
        return None

    def headers_for(
        self, method: str, template: str, params: dict[str, str], *, authed: bool
    ) -> dict[str, str]:
        """Honest bucket headers for a response that went through (enforcing mode only)."""
        if not (self.enforcing and authed):
            return {}
        window, rule = self._window(method, template, params)
        return self._bucket_headers(method, template, rule, window)

    def too_many(
        self, retry_after: float, *, is_global: bool, headers: dict[str, str] | None = None
    ) -> Rejection:
        self.sent_429 += 1
        retry_after = max(retry_after, 0.001)
        out = {**_VIA, **(headers or {}), "Retry-After": str(math.ceil(retry_after))}
        if is_global:
            out.update({"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"})
        else:
            out.setdefault("X-RateLimit-Scope", "user")
        body = {
            "message": "You are being rate limited.",
            "retry_after": round(retry_after, 3),
            "global": is_global,
        }
        return Rejection(429, body, out)

    def _take_fault(self, method: str, template: str) -> Fault | None:
        for fault in self.faults:
            if (
                fault.times > 0
                and fault.method in (method, "*")
                and fault.template in (template, "*")
            ):
                fault.times -= 1
                return fault
        return None

    def _fault_response(self, fault: Fault, method: str, template: str) -> Rejection:
        if fault.kind == "server":
            body = {"message": "500: Internal Server Error", "code": 0}
            return Rejection(fault.status, body, {})
        if fault.kind == "global":
            return self.too_many(fault.retry_after, is_global=True)
        reset_after = f"{fault.retry_after:.3f}"
        headers = {
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + fault.retry_after:.3f}",
            "X-RateLimit-Reset-After": reset_after,
            "X-RateLimit-Bucket": _bucket_hash(method, template),
        }
        return self.too_many(fault.retry_after, is_global=False, headers=headers)

    def _take_global_token(self) -> float:
        clock = time.monotonic()
        rate = self.global_per_second
        self._tokens = min(rate, self._tokens + (clock - self._refilled) * rate)
        self._refilled = clock
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / rate

    def _window(
        self, method: str, template: str, params: dict[str, str]
    ) -> tuple[_Window, BucketRule]:
        rule = self.rules.get((method, template), DEFAULT_RULE)
        major = ":".join(params.get(p, "") for p in _MAJOR_PARAMS)
        key = (f"{method} {template}", major)
        clock = time.monotonic()
        window = self._windows.get(key)
        if window is None or clock >= window.reset_at:
            window = self._windows[key] = _Window(clock + rule.per, rule.limit)
        return window, rule

    @staticmethod
    def _bucket_headers(
        method: str, template: str, rule: BucketRule, window: _Window
    ) -> dict[str, str]:
        reset_after = max(window.reset_at - time.monotonic(), 0.0)
        return {
            "X-RateLimit-Limit": str(rule.limit),
            "X-RateLimit-Remaining": str(max(window.remaining, 0)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": _bucket_hash(method, template),
        }
