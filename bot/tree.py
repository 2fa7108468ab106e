"""The command tree: one error policy for every slash command and every button."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import discord
from discord import app_commands

from bot.errors import NotInServer, UserError

log = logging.getLogger(__name__)

# Commands that make sense outside a server.
ANYWHERE = frozenset({"help"})

SHUTTING_DOWN = "The bot is restarting. Please try again in a minute."

# Discord's codes for an interaction that can no longer be answered the usual way.
UNKNOWN_INTERACTION = 10062  # not acknowledged within 3 s, or its token expired (15 min)
ALREADY_ACKNOWLEDGED = 40060

NOT_RESOLVED = {
    discord.AppCommandOptionType.user: (
        "I cannot find that member in this server: they may have left it. Nothing was changed."
    ),
    discord.AppCommandOptionType.channel: (
        "I cannot see that channel: it may have been deleted, or I lack View Channel there. "
        "Nothing was changed."
    ),
}


_ANSWERED_WHEN_CLOSING = (
    discord.InteractionType.application_command,
    discord.InteractionType.component,
)


class TwopassTree(app_commands.CommandTree[discord.Client]):
    def __init__(self, client: discord.Client, **options: Any) -> None:
        super().__init__(client, **options)
        # The tasks answering interactions right now, so shutdown can let them finish.
        self._in_flight: set[asyncio.Task[object]] = set()
        self._closing = False

    def refuse_new(self) -> None:
        """From now on, interactions get a short 'restarting' answer instead of running."""
        self._closing = True

    async def drain(self, grace: float) -> int:
        """Refuse new interactions, then wait up to `grace` seconds for those in flight to be
        answered. Returns how many were still running (the caller closes the connection anyway)."""
        self.refuse_new()
        current = asyncio.current_task()
        running = {task for task in self._in_flight if task is not current}
        if not running:
            return 0
        _, pending = await asyncio.wait(running, timeout=grace)
        return len(pending)

    async def admit(self, interaction: discord.Interaction[discord.Client]) -> bool:
        """Whether a command or a click runs now. While shutting down it is answered with a
        short note instead; otherwise shutdown waits for it (`drain`)."""
        if self._closing:
            # Answered rather than ignored: Discord would show "the application did not respond".
            if interaction.type in _ANSWERED_WHEN_CLOSING:
                await reply_error(interaction, SHUTTING_DOWN)
            return False
        # discord.py runs each interaction (check, then the command or the button's callback,
        # then the error handler) in a task of its own.
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        return True

    async def interaction_check(self, interaction: discord.Interaction[discord.Client]) -> bool:
        if not await self.admit(interaction):
            return False
        command = interaction.command
        if interaction.guild_id is None and (
            command is None or command.qualified_name not in ANYWHERE
        ):
            if interaction.type is discord.InteractionType.application_command:
                await reply_error(interaction, NotInServer().message)
            return False
        return True

    async def on_error(
        self, interaction: discord.Interaction[discord.Client], error: app_commands.AppCommandError
    ) -> None:
        await handle_error(interaction, error)


class Buttons(discord.ui.View):
    """A view whose clicks follow the commands' shutdown policy: refused with a short note
    while the bot stops, and waited for by shutdown once they run (an Erase click answered)."""

    async def interaction_check(self, interaction: discord.Interaction[discord.Client]) -> bool:
        tree = getattr(interaction.client, "tree", None)
        return not isinstance(tree, TwopassTree) or await tree.admit(interaction)


async def handle_error(interaction: discord.Interaction[discord.Client], error: Exception) -> None:
    """The one error policy, for commands (the tree) and components (their views)."""
    cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    what = _what(interaction)
    if isinstance(cause, UserError):
        await reply_error(interaction, cause.message)
    elif isinstance(cause, app_commands.TransformerError):
        # A member or channel option Discord sent but the bot cannot resolve (a member who left,
        # a channel not in the cache): the member should hear what is wrong, not "went wrong".
        message = NOT_RESOLVED.get(cause.type, "I cannot use one of those options. Try again.")
        await reply_error(interaction, message)
    elif isinstance(cause, app_commands.MissingPermissions):
        await reply_error(
            interaction, "Only members with the Manage Server permission can do this."
        )
    elif isinstance(cause, app_commands.CheckFailure):
        await reply_error(interaction, "You cannot use this command here.")
    elif isinstance(cause, discord.HTTPException) and cause.code in (
        UNKNOWN_INTERACTION,
        ALREADY_ACKNOWLEDGED,
    ):
        # Discord's window closed (or another answer won): nothing is broken in the bot.
        log.warning("%s could not be answered (Discord error %s)", what, cause.code)
        await late_reply(
            interaction,
            f"Discord closed my answer to {what} before it arrived. Check with `/progress` "
            "whether it went through before you try again.",
        )
    else:
        log.error("%s failed", what, exc_info=cause)
        await reply_error(
            interaction, "Something went wrong on our side. Please try again in a moment."
        )


def _what(interaction: discord.Interaction[discord.Client]) -> str:
    command = interaction.command
    if command is not None:
        return f"/{command.qualified_name}"
    return "that button" if interaction.type is discord.InteractionType.component else "that"


async def reply_error(interaction: discord.Interaction[discord.Client], message: str) -> None:
    """Answer privately whether or not the interaction was already answered."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)
    except discord.HTTPException as failed:
        if failed.code in (UNKNOWN_INTERACTION, ALREADY_ACKNOWLEDGED):
            log.warning(
                "%s could not be answered (Discord error %s)", _what(interaction), failed.code
            )
            await late_reply(interaction, message)
        else:
            log.warning("could not deliver an error reply for interaction %s", interaction.id)


async def late_reply(interaction: discord.Interaction[discord.Client], message: str) -> None:
    """Reach the member after the interaction's own answer is lost: a private follow-up while
    its token still works (it was answered by someone else), else a short note in the channel
    that mentions them, saying only that the answer was lost (what it said may be private).
    Failing both, the warning already logged is all there is."""
    if not interaction.is_expired():
        try:
            await interaction.followup.send(message, ephemeral=True)
            return
        except discord.HTTPException:
            pass
    channel = interaction.channel
    if channel is None or not interaction.app_permissions.send_messages:
        return
    try:
        await channel.send(  # type: ignore[union-attr]
            f"{interaction.user.mention} Discord closed my answer to {_what(interaction)} before "
            "it arrived; please run it again.",
            allowed_mentions=discord.AllowedMentions(users=[interaction.user]),
        )
    except discord.HTTPException:
        log.warning("could not reach the member of interaction %s in its channel", interaction.id)


# Discord closes an interaction that is not acknowledged within 3 seconds of creating it. The
# rest is the margin for a busy loop firing the timer late and for the request's way to Discord:
# with 100 commands in flight on a 2-core machine, 2 s lost 3 answers in 5,000 (late by 1 s+).
ACKNOWLEDGE_AFTER_SECONDS = 1.5
# An interaction's id says when Discord created it; an age outside this is not to be trusted
# (a host clock far off Discord's, or ids that are not Discord's, as in a local sandbox).
_PLAUSIBLE_AGE = timedelta(minutes=1)


def acknowledge_delay(created_at: datetime, now: datetime) -> float:
    """Seconds to wait before acknowledging an interaction created at `created_at`: until
    ACKNOWLEDGE_AFTER_SECONDS after Discord created it, not after the command started, so time
    spent queued behind other commands on a busy loop counts against Discord's window too."""
    age = now - created_at
    if not timedelta(0) <= age <= _PLAUSIBLE_AGE:
        return ACKNOWLEDGE_AFTER_SECONDS
    return max(ACKNOWLEDGE_AFTER_SECONDS - age.total_seconds(), 0.0)


class Answer:
    """The one answer of a command that writes, and may wait for a busy database (up to its
    5-second busy timeout) past Discord's 3 seconds: if the command has not answered
    ACKNOWLEDGE_AFTER_SECONDS after Discord created the interaction, the interaction is
    acknowledged ("thinking..."), as private as the answer will be, and the answer then
    completes it. Use as
    `async with Answer(interaction, private=...) as answer: ...; await answer(embed=...)`."""

    def __init__(self, interaction: discord.Interaction[discord.Client], *, private: bool) -> None:
        self.interaction = interaction
        self.private = private
        # A timer, not a task: most commands answer long before it fires, and a task per
        # command would cost each of them a turn of the loop.
        self._timer: asyncio.TimerHandle | None = None
        self._acknowledging: asyncio.Task[None] | None = None
        # A public "thinking..." message waits for the answer: the first follow-up would take
        # its place and its visibility, so a private answer or error removes it first.
        self._thinking_in_public = False

    async def __aenter__(self) -> Answer:
        loop = asyncio.get_running_loop()
        delay = acknowledge_delay(self.interaction.created_at, discord.utils.utcnow())
        self._timer = loop.call_later(delay, self._start_acknowledging)
        return self

    async def __aexit__(self, failed: type[BaseException] | None, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
        await self._acknowledged()  # an error reply, if any, comes after it
        if failed is not None:
            await self._clear_public_thinking()  # errors are private

    async def _acknowledged(self) -> None:
        """Wait for an acknowledgement under way, if the timer fired (it reports its own
        failure)."""
        if self._acknowledging is not None:
            await asyncio.wait({self._acknowledging})

    def _start_acknowledging(self) -> None:
        self._acknowledging = asyncio.get_running_loop().create_task(self._acknowledge())

    async def _acknowledge(self) -> None:
        if self.interaction.response.is_done():
            return
        try:
            await self.interaction.response.defer(ephemeral=self.private, thinking=True)
            self._thinking_in_public = not self.private
        except discord.HTTPException:
            log.warning("could not acknowledge interaction %s", self.interaction.id)
        except Exception:  # a dropped connection, a timeout: the answer still tries
            log.warning("could not acknowledge interaction %s", self.interaction.id, exc_info=True)

    async def __call__(
        self, content: str | None = None, *, private: bool | None = None, **message: Any
    ) -> None:
        """Send the answer; `private` overrides the privacy given at the start (a private answer
        after a public acknowledgement replaces it, which is deleted first)."""
        ephemeral = self.private if private is None else private
        if self._timer is not None:
            self._timer.cancel()
        await self._acknowledged()  # the answer never crosses the acknowledgement
        if ephemeral:
            await self._clear_public_thinking()
        if self.interaction.response.is_done():
            await self.interaction.followup.send(
                content or discord.utils.MISSING, ephemeral=ephemeral, **message
            )
        else:
            await self.interaction.response.send_message(content, ephemeral=ephemeral, **message)
        self._thinking_in_public = False

    async def _clear_public_thinking(self) -> None:
        """Delete a public "thinking..." message before a private answer: the next follow-up is
        then a message of its own, with its own visibility."""
        if not self._thinking_in_public:
            return
        self._thinking_in_public = False
        try:
            await self.interaction.delete_original_response()
        except discord.HTTPException:
            log.warning(
                "could not clear the acknowledgement of interaction %s", self.interaction.id
            )
