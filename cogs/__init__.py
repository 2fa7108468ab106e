"""Thin Discord adapters, one per feature: parse the interaction, call the feature's service,
render, answer once."""
