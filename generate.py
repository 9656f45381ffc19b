#!/usr/bin/env python3
"""Generate output/*.yaml from templates/ (same as `threetier generate`); `--check` for CI."""

import sys

from threetier.cli import main

if __name__ == "__main__":
    sys.exit(main(["generate", *sys.argv[1:]]))
