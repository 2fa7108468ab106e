"""Thin Discord adapters: each cog parses interactions, calls `bot.study`, renders the result."""
