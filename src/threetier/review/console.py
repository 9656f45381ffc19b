"""Terminal helpers: colour only on a terminal, and the "type yes" confirmation."""

from __future__ import annotations

import os
from typing import TextIO

ANSI = {"red": "\033[31m", "green": "\033[32m", "yellow": "\033[33m"}
RESET = "\033[0m"

# What confirm() can answer.
CONFIRMED = "confirmed"
DECLINED = "declined"
NOT_INTERACTIVE = "not-interactive"


def wants_color(stream: TextIO) -> bool:
    """ANSI colour only when writing to a terminal (and NO_COLOR is not set)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and "NO_COLOR" not in os.environ


def paint(text: str, color: str, enabled: bool) -> str:
    return f"{ANSI[color]}{text}{RESET}" if enabled else text


def confirm(question: str, assume_yes: bool, stdin: TextIO, stdout: TextIO) -> str:
    """Ask to type "yes". Without a terminal on stdin nobody can answer, so refuse unless --yes."""
    if assume_yes:
        return CONFIRMED
    if not (getattr(stdin, "isatty", None) and stdin.isatty()):
        return NOT_INTERACTIVE
    stdout.write(f"{question} Only 'yes' will be accepted: ")
    stdout.flush()
    answer = stdin.readline()
    return CONFIRMED if answer.strip().lower() == "yes" else DECLINED
