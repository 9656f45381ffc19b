"""Results kept between runs: the slow checks' (cfn-lint, checkov, detect-secrets) per file, and
the deployer role's actions (threetier.blocks.deployeractions).

Among the templates' blocks, the lowest layer that keeps results (docs/architecture.md):
the deployer role's template reads its actions through it, and the gates, above, theirs.

A check's entry is stored under the hash of everything its result depends on
(the file's bytes, the tool's version, the rules, the options), so a changed
input is a new key: nothing is ever invalidated in place, a stale entry is
simply never read again. The deployer role keeps one entry, with what it was
worked out from inside it, and compares that whole. The folder is `.cache/threetier/` in the project (git-ignored);
THREETIER_CACHE_DIR points it elsewhere (the tests use a temporary folder), and
`--no-cache` on the commands turns it off.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

CACHE_DIR_VARIABLE = "THREETIER_CACHE_DIR"


def folder_for(project: Path | None) -> Path | None:
    """Where results are cached: THREETIER_CACHE_DIR, else the project's .cache/threetier, else nowhere."""
    configured = os.environ.get(CACHE_DIR_VARIABLE)
    if configured:
        return Path(configured)
    return project / ".cache" / "threetier" if project else None


def fingerprint(*parts: str | bytes) -> str:
    """One hash of several parts; the length prefixes keep ("ab", "c") apart from ("a", "bc")."""
    # Imported here: loading it (OpenSSL) takes ~3 ms, and `generate` keeps its entry without a hash.
    import hashlib

    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(b"%d:" % len(data))
        digest.update(data)
    return digest.hexdigest()


def files_fingerprint(paths: list[Path]) -> str:
    """The names and bytes of files: a rule set, a module, whatever code decides a result."""
    return fingerprint(*(part for path in sorted(paths) for part in (path.name, path.read_bytes())))


def file_mark(path: Path) -> str:
    """What tells one version of a file from another without reading it: where it is, its size and
    modification time (an edit, a checkout or an install rewrites it)."""
    status = path.stat()
    return f"{path} {status.st_size} {status.st_mtime_ns}"


def version_of(distribution: str) -> str:
    # Imported here: importlib.metadata costs ~20 ms, and `generate` imports this module without needing it.
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


class ResultCache:
    """JSON results of one tool, one file per key, in `folder`/`tool`; with no folder, a cache that never hits."""

    def __init__(self, folder: Path | None, tool: str):
        self.folder = folder / tool if folder else None

    def get(self, key: str):
        if self.folder is None:
            return None
        try:
            return json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # missing, or half-written by a run that was killed: recompute

    def put(self, key: str, result) -> None:
        if self.folder is None:
            return
        path = self.folder / f"{key}.json"
        # Write then rename: a concurrent reader sees the whole entry or none.
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial.write_text(json.dumps(result), encoding="utf-8")
            os.replace(partial, path)
        except OSError:
            pass  # a read-only checkout, a full disk: the result stands, it is just not kept
