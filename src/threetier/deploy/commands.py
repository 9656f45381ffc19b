"""CLI subcommands of the deploy wrapper."""

from __future__ import annotations


def add_commands(commands) -> None:
    """Add the deploy subcommands to the `threetier` argparse subparsers."""
