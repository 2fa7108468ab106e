"""`twopass ...` in a process of its own, logged in to a local Discord run by the test.

Usage: python tests/run_local.py API_BASE GATEWAY_URL [twopass arguments]

Only discord.py's REST base and gateway URL are pointed at the local Discord, as
`LocalDiscord.redirect()` does in-process; everything else is the real command line, signal
handlers included.
"""

from __future__ import annotations

import sys

import discord
import yarl

from bot.cli import main

if __name__ == "__main__":
    base, gateway, *arguments = sys.argv[1:]
    discord.http.Route.BASE = base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    sys.exit(main(arguments))
