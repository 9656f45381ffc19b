"""Secrets check over the repository and output/, with detect-secrets (the bc-detect-secrets fork).

A finding that is not a secret (a public commit id, a well-known AWS id) is
marked where it stands with `pragma: allowlist secret`, detect-secrets' own
inline allowlist, so the reason sits beside the value.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from threetier import parameters as P
from threetier.blocks import userdata
from threetier.blocks.resultcache import ResultCache, fingerprint, version_of
from threetier.gates.scan import ScannerMissing


@dataclass(frozen=True, order=True)
class SecretFinding:
    file: str
    line: int
    kind: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} {self.kind}"


def tracked_files(project: Path) -> list[Path]:
    """Files git tracks plus the generated output/ (which may not be committed yet)."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=project, capture_output=True, text=True)
    names = set(filter(None, listed.stdout.split("\0"))) if listed.returncode == 0 else set()
    names |= {str(p.relative_to(project)) for p in (project / "output").glob("*.yaml")}
    return [project / name for name in sorted(names) if (project / name).is_file()]


# Setting values that follow a keyword such as "token" or "password" in a
# template without being secrets (e.g. IMDSv2's `HttpTokens: required`).
SETTING_WORDS = frozenset({"true", "false", "required", "optional", "enabled", "disabled"})
# Public values that look random: the reference app's commit id is a default
# parameter value in the generated templates; the app user data carries the sha256 of
# the boot files in its launch template's metadata.
PUBLIC_VALUES = frozenset({P.REFERENCE_APP_COMMIT, userdata.boot_files_digest(userdata.APP_BOOT_FILES)})


def is_template_text(secret: str, line: str) -> bool:
    """detect-secrets filter: words in a template that name a secret without being one.

    A dynamic reference (`{{resolve:secretsmanager:...}}`), an IAM action such as
    secretsmanager:GetSecretValue (one per line, or in a one-line `Action: [...]`
    list), a setting word, prose with spaces, a known public value, an AWS
    managed policy's ARN (`arn:...:iam::aws:policy/AWSLambdaVPCAccessExecutionRole`),
    or an intrinsic function's short form (`HasSecretVersion: !Not`).
    """
    return (
        "{{resolve:" in line
        or ":iam::aws:policy/" in line
        or secret.startswith("!")
        or line.strip().removeprefix("- ").startswith(("secretsmanager:", "kms:", "Action: [", "NotAction: ["))
        or secret in SETTING_WORDS
        or secret in PUBLIC_VALUES
        or " " in secret
    )


# detect-secrets' filter of lines such as `password = get_password()` or
# `token = headers["token"]` (heuristic.is_indirect_reference) runs on every line
# a regex that, from every start position, first runs to the end of the line and
# backs off: quadratic in the line's length, a fifth of the whole scan here. Its
# part before the operator may be empty, so it matches exactly when the last
# character of an operator (`:` `:=` `=` `==` `!=`...: a `:`, `=` or `!`) is
# followed by the reference; SAME_LINES_AS_INDIRECT_REFERENCE looks for just that,
# starting at those characters only. The length limit is theirs.
THEIR_INDIRECT_REFERENCE = r"([^\v=!:]*)\s*(:=?|[!=]{1,3})\s*([\w.-]+[\[\(][^\v]*[\]\)])"
SAME_LINES_AS_INDIRECT_REFERENCE = re.compile(r"[:!=]\s*[\w.-]+[\[\(][^\v]*[\]\)]")
INDIRECT_REFERENCE_FILTER = "detect_secrets.filters.heuristic.is_indirect_reference"


def is_indirect_reference(line: str) -> bool:
    """detect-secrets' heuristic.is_indirect_reference, the same answer for every line, without the quadratic search."""
    return len(line) <= 1000 and SAME_LINES_AS_INDIRECT_REFERENCE.search(line) is not None


def _use_the_faster_indirect_reference(settings) -> None:
    """Put is_indirect_reference in place of detect-secrets' own, if theirs is the one this module matches.

    Another detect-secrets whose regex or length limit differs keeps its own filter.
    """
    from detect_secrets.filters import heuristic

    try:
        theirs = heuristic._get_indirect_reference_regex().pattern
    except AttributeError:
        return
    probes = ("x = get(y)", "x: " + "a" * 995 + "()", "x: " + "a" * 996 + "()")
    if (INDIRECT_REFERENCE_FILTER in settings.filters and theirs == THEIR_INDIRECT_REFERENCE
            and all(heuristic.is_indirect_reference(p) == is_indirect_reference(p) for p in probes)):
        settings.disable_filters(INDIRECT_REFERENCE_FILTER)
        settings.filters[f"{__name__}.is_indirect_reference"] = {}


# detect-secrets' KeywordDetector tries four to six regexes on every line (its
# largest share of the scan), and each of them matches only where one of the
# words of its DENYLIST stands, every one of which contains one of KEYWORD_ANCHORS
# ("api[_.-]?key" a "key", "_pass\b" a "pass", "contraseña" a "contrase"...). A
# line without any of them cannot give a keyword finding, so the plugin is not
# asked. Lines with other than ASCII characters always are (a regex ignoring case
# also matches letters such as "ſ" to "s"). KEYWORD_REGEXES is the hash of the
# regexes this was checked against: another detect-secrets asks the plugin always.
KEYWORD_ANCHORS = ("key", "pass", "token", "pwd", "secret", "contrase")
KEYWORD_REGEXES = "9143e63769b982bfe219748bc1b1255b4bb43709a42c5fc862c1acffd6b1ed84"  # pragma: allowlist secret (a hash of public regexes)


def has_a_keyword_anchor(line: str) -> bool:
    """False only for a line in which detect-secrets' KeywordDetector cannot find anything."""
    if not line.isascii():
        return True
    lowered = line.lower()
    return any(anchor in lowered for anchor in KEYWORD_ANCHORS)


def _keyword_regexes_hash() -> str:
    import hashlib

    from detect_secrets.plugins import keyword

    regexes = [*keyword.REGEX_BY_FILETYPE.values(), keyword.QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP]
    patterns = sorted({f"{regex.flags} {regex.pattern}" for table in regexes for regex in table})
    return hashlib.sha256("\n".join(patterns).encode()).hexdigest()


def _ask_the_keyword_plugin_only_about_lines_with_an_anchor(plugins) -> None:
    """In this scan's KeywordDetector, lines without a keyword anchor go unanalysed (see KEYWORD_ANCHORS)."""
    from detect_secrets.plugins.keyword import KeywordDetector

    keyword_plugins = [plugin for plugin in plugins if type(plugin) is KeywordDetector]
    if not keyword_plugins or _keyword_regexes_hash() != KEYWORD_REGEXES:
        return
    for plugin in keyword_plugins:
        analyze_string = plugin.analyze_string  # KeywordDetector.analyze_line calls it with the line

        def only_with_an_anchor(string, *args, _analyze_string=analyze_string, **kwargs):
            if not has_a_keyword_anchor(string):
                return iter(())
            return _analyze_string(string, *args, **kwargs)

        plugin.analyze_string = only_with_an_anchor  # this instance, for this scan's settings only


def require_detect_secrets() -> None:
    """ScannerMissing, saying which extra to install, unless detect-secrets can be imported."""
    try:
        import detect_secrets  # noqa: F401
    except ImportError:
        raise ScannerMissing("detect-secrets is not installed: pip install -e '.[scan]'") from None


def find_secrets(files: list[Path], root: Path, cache_dir: Path | None = None,
                 workers=None) -> list[SecretFinding]:
    """Every possible secret in `files`, shown relative to `root`.

    With `cache_dir`, a file scanned before with the same name and bytes (and the
    same detect-secrets and filter) is not scanned again. With `workers` (a
    function giving a pool of processes: `threetier check` passes lint's), a
    large scan is shared with them (see _scan_shared).
    """
    require_detect_secrets()
    cache = ResultCache(cache_dir, "detect-secrets")
    keys = {path: _cache_key(path, root) for path in files} if cache.folder else {}
    per_file = {path: cache.get(keys[path]) for path in keys}
    new = [path for path in files if per_file.get(path) is None]
    if new:
        share = workers is not None and all(path.is_absolute() for path in new) \
            and sum(path.stat().st_size for path in new) >= SHARE_FROM_BYTES
        scanned = _scan_shared(new, workers()) if share else _scan(new)
        for path in new:
            per_file[path] = scanned.get(str(path), [])
            if keys:
                cache.put(keys[path], per_file[path])
    return sorted(SecretFinding(_shown(path, root), line, kind)
                  for path in files for line, kind in per_file[path])


def _cache_key(path: Path, root: Path) -> str:
    # The plugins' filters look at file names too (lock files, extensions), so the name is part of the key.
    return fingerprint(f"bc-detect-secrets {version_of('bc-detect-secrets')}", Path(__file__).read_bytes(),
                       *sorted(PUBLIC_VALUES), _shown(path, root), path.read_bytes())


def _scan(files: list[Path]) -> dict[str, list[list]]:
    """{file name as given: [[line, kind], ...]} for the files with findings."""
    from detect_secrets import SecretsCollection
    from detect_secrets.settings import default_settings, get_plugins

    collection = SecretsCollection()
    with default_settings() as settings:
        settings.filters[f"{__name__}.is_template_text"] = {}
        _use_the_faster_indirect_reference(settings)
        # The plugins are made once per settings and kept until they change (on leaving `with`).
        _ask_the_keyword_plugin_only_about_lines_with_an_anchor(get_plugins())
        for path in files:
            collection.scan_file(str(path))
    found: dict[str, list[list]] = {}
    for filename, secret in collection:
        found.setdefault(filename, []).append([secret.line_number, secret.type])
    return found


# Cold, the scan is `threetier check`'s longest job in one process (~3.5 CPU s
# for the repository), and it was the last to finish, alone on one core, while
# lint's workers and checkov were done. Shared in chunks with lint's workers, it
# ends with them. Below this much to scan, it is not worth waking the workers.
SHARE_FROM_BYTES = 256 * 1024
SHARE_CHUNKS = 16


def _scan_shared(files: list[Path], pool) -> dict[str, list[list]]:
    """_scan(files), the files split in chunks between `pool`'s processes and this one.

    Each worker has up to two chunks queued at a time (so that it never waits for
    this process to hand out the next), behind whatever the pool has to do
    already (lint's templates); this process scans the others, from the other end
    of the list, and hands out more between its own chunks.
    Each file is scanned whole by one process, as in _scan, so the findings are
    the same. A chunk a worker could not scan (it died, the pool broke) is
    scanned here, where a real error shows itself.
    """
    from collections import deque
    from concurrent.futures import FIRST_COMPLETED, wait

    chunks: list[list[Path]] = [[] for _ in range(min(SHARE_CHUNKS, len(files)))]
    sizes = [0] * len(chunks)
    for path in sorted(files, key=lambda path: -path.stat().st_size):  # the largest first, to the lightest chunk
        lightest = sizes.index(min(sizes))
        chunks[lightest].append(path)
        sizes[lightest] += path.stat().st_size
    to_do = deque(chunks)
    given: dict = {}  # future: chunk
    found: dict[str, list[list]] = {}
    queued_at_most = 2 * getattr(pool, "_max_workers", 1)
    while to_do or given:
        while to_do and len(given) < queued_at_most:
            chunk = to_do.popleft()
            try:
                given[pool.submit(_scan, chunk)] = chunk
            except Exception:  # a broken or shut pool: this process does the rest
                to_do.appendleft(chunk)
                queued_at_most = 0
                break
        if to_do:
            found.update(_scan(to_do.pop()))
        elif given:
            wait(given, return_when=FIRST_COMPLETED)
        for future in [future for future in given if future.done()]:
            chunk = given.pop(future)
            try:
                found.update(future.result())
            except Exception:
                found.update(_scan(chunk))
    return found


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
