"""cfn-lint through its Python API, informational rules included, plus the project's own
rules (threetier/gates/lintrules; docs/lint-rules.md: "What the lint gate knows beyond cfn-lint"): the bar is zero findings."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from threetier import facts
from threetier.blocks.resultcache import ResultCache, files_fingerprint, fingerprint, version_of
from threetier.gates import DEFAULT_REGIONS
from threetier.gates.lintrules import RULES_DIR, _clock


@dataclass(frozen=True, order=True)
class Finding:
    file: str
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} {self.rule} {self.message}"


def lint_files(
    paths: list[Path],
    regions: tuple[str, ...] = DEFAULT_REGIONS,
    parameters: dict[str, str] | None = None,
    cache_dir: Path | None = None,
) -> list[Finding]:
    """Findings for every file in every region, each reported once, in file/line order.

    With `parameters`, cfn-lint also resolves each template's parameters to
    those values (the ones it declares), as for one environment's deploy.
    With `cache_dir`, a file whose inputs (see `_cache_key`) were linted before
    is not linted again. The others are linted in parallel, one process per
    CPU: cfn-lint is CPU-bound.
    """
    cache = ResultCache(cache_dir, "cfn-lint")
    keys = _cache_keys(paths, regions, parameters) if cache.folder else {}
    found: dict[Path, list[Finding]] = {}
    for path in paths:
        cached = cache.get(keys[path]) if keys else None
        if cached is not None:
            found[path] = [Finding(str(path), line, rule, message) for line, rule, message in cached]
    to_lint = [path for path in paths if path not in found]
    for path, findings in zip(to_lint, _lint_uncached(to_lint, regions, parameters) if to_lint else []):
        found[path] = findings
        if keys:
            cache.put(keys[path], [[f.line, f.rule, f.message] for f in findings])
    return sorted({finding for findings in found.values() for finding in findings})


def _lint_uncached(paths: list[Path], regions: tuple[str, ...],
                   parameters: dict[str, str] | None) -> list[list[Finding]]:
    """cfn-lint's findings for each file, in the order of `paths`."""
    jobs = [(str(path), tuple(regions), parameters) for path in paths]
    if min(len(jobs), os.cpu_count() or 1) <= 1:
        return [_lint_one(*job) for job in jobs]
    from concurrent.futures.process import BrokenProcessPool

    # Largest first, so that no worker is left with a big template at the end.
    order = sorted(range(len(jobs)), key=lambda i: -paths[i].stat().st_size)
    try:
        results = dict(zip(order, _pool().map(_lint_one, *zip(*(jobs[i] for i in order)))))
    except BrokenProcessPool:
        _forget_pool()  # a worker died (killed, out of memory): the next call starts new ones
        raise
    return [results[i] for i in range(len(jobs))]


_workers = None


def _pool():
    """One process per CPU, started on first use and kept for the next call in this process.

    The workers are forked from a forkserver (where the platform has one) that
    imported cfn-lint and loaded the rules once (~0.7 s, threetier.gates.lintworker),
    instead of each worker doing so after it starts. The forkserver is a fresh
    process with one thread, started from nothing of this one (tests run a moto
    server thread beside this), so a forked worker inherits no lock another
    thread holds, as with spawn, which is what a platform without it uses.
    """
    global _workers
    if _workers is None:
        from concurrent.futures import ProcessPoolExecutor

        _workers = ProcessPoolExecutor(max_workers=os.cpu_count(), mp_context=_context())
    return _workers


def _context():
    # Imported here: only a lint that starts its workers needs it.
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["threetier.gates.lintworker"])  # read when the forkserver starts
    return context


def worker_pool():
    """lint's worker processes, for other work of the same command (the secrets scan of `threetier check`)."""
    return _pool()


def _forget_pool() -> None:
    global _workers
    _workers = None


# A nested stack's TemplateURL given as a local path (YAML or JSON): cfn-lint
# (E3043) and rule E9001 read that template's parameters while linting the parent.
_TEMPLATE_URL = re.compile(r"""TemplateURL["']?\s*:\s*["']?([^"'\s,}]+)""")


def _cache_keys(paths: list[Path], regions: tuple[str, ...],
                parameters: dict[str, str] | None) -> dict[Path, str]:
    """For each file, a hash of everything its findings depend on."""
    shared = (
        f"cfn-lint {version_of('cfn-lint')}",
        # The project's rules, the AWS facts they read (W9009's release calendar, W9014's reader
        # tables, ...), and the options set here.
        files_fingerprint([*RULES_DIR.glob("*.py"), *Path(facts.__file__).parent.glob("*.py"), Path(__file__)]),
        _clock.today().isoformat(),  # W9009 warns from a date on
        json.dumps([list(regions), parameters or {}], sort_keys=True),
    )
    return {path: fingerprint(*shared, *_template_inputs(path)) for path in paths}


def _template_inputs(path: Path) -> list[str | bytes]:
    """The file's absolute path and bytes, and the path and bytes of each local nested template it names."""
    text = path.read_bytes()
    inputs: list[str | bytes] = [str(path.resolve()), text]
    for location in sorted(set(_TEMPLATE_URL.findall(text.decode("utf-8", errors="replace")))):
        nested = path.parent / location
        if "://" not in location and nested.is_file():
            inputs += [location, nested.read_bytes()]
    return inputs


def _lint_one(path: str, regions: tuple[str, ...], parameters: dict[str, str] | None) -> list[Finding]:
    # Imported here: cfn-lint costs ~0.5 s to import and only this command needs it.
    from cfnlint.runner import run_template_by_file_path

    config = _config(path, regions, parameters)
    matches = run_template_by_file_path(path, config, _rules(config), ignore_bad_template=False)
    return [Finding(path, match.linenumber, match.rule.id, match.message) for match in matches]


def _config(path: str, regions: tuple[str, ...], parameters: dict[str, str] | None):
    from cfnlint.config import ConfigMixIn
    from cfnlint.decode import decode

    # append_rules: cfn-lint imports every rule file of the folder by path, next to its own rules.
    options = {"regions": list(regions), "include_checks": ["I"], "append_rules": [str(RULES_DIR)]}
    if parameters:
        template, _ = decode(path)
        declared = (template or {}).get("Parameters", {})
        options["parameters"] = [{k: v for k, v in parameters.items() if k in declared}]
    return ConfigMixIn(["--template", path], **options)


def load_rules_ahead() -> None:
    """Import cfn-lint and load the rules before any template is linted (threetier.gates.lintworker).

    cfn-lint's Runner checks that the config's template exists, so the config
    names this file; the rules do not depend on it. If anything goes wrong, the
    workers load the rules themselves on their first template, as without this.
    """
    global _loaded_rules
    try:
        _rules(_config(__file__, DEFAULT_REGIONS, None))
    except (Exception, SystemExit):
        _loaded_rules = None


_loaded_rules = None


def _rules(config):
    """cfn-lint's rules and ours, loaded once per process.

    cfn-lint's Runner loads every rule again for each template (~0.3 s); its own
    command line lints several templates with one load, and so does this. The
    options (regions, included checks, parameters) are in each template's config,
    not in the rules.
    """
    global _loaded_rules
    if _loaded_rules is None:
        from cfnlint.runner import Runner

        _loaded_rules = Runner(config).rules
    return _loaded_rules
