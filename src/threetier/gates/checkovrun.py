"""checkov's own command line, with each jsonpath grammar's parse table built once per run.

    python src/threetier/gates/checkovrun.py [checkov arguments]

is `checkov [checkov arguments]`, same checks, same options, same report. One
thing differs: the time it takes. While it renders a CloudFormation graph,
checkov parses a jsonpath expression for every attribute it updates (about 120
distinct ones for output/), and its jsonpath library (bc-jsonpath-ng) asks PLY
to build the LALR parse table of its grammar again for each expression, with
table files turned off: about 50 ms each, half of checkov's time on these
templates. Here PLY's `yacc()` is given a pickle file in a folder of this run
for each grammar: the first call builds the table and writes it, the later
calls read it back. PLY itself compares the grammar's signature with the one
stored beside the table and builds again if they differ, and every parser it
returns is bound to the functions of the object that asked for it, as before;
only the table (states, actions, gotos), which depends on the grammar alone,
is shared.

Once checkov is imported, it also moves what is loaded out of the garbage
collector's sight (gc.freeze) and lets it collect less often: its full
collections went through every module and check of checkov, ~0.4 CPU s. The
report is the same; the peak memory barely moves (~1 MB).

checkov still parses the templates in forked processes, one per CPU, although
in its own process (CHECKOV_PARALLELIZATION_TYPE=none) it would spend ~0.6 CPU
s less: its report then differs, not in any result but in the breadcrumbs of
rendered values (where a port read from a mapping came from), so that is left
to checkov.

Run by its path with the Python that has checkov (the `scan` extra), as
threetier.gates.scan does: it needs nothing else from threetier, so it is always this
checkout's file that runs.
"""

import os
import sys

# Run by path, Python put this file's folder first on sys.path, where
# threetier's own modules would shadow others (its secrets.py the standard
# library's). checkov's console script has no such entry: take it out before
# anything else is imported.
if __name__ == "__main__" and sys.path and os.path.realpath(sys.path[0]) == os.path.dirname(os.path.realpath(__file__)):
    del sys.path[0]

import functools  # noqa: E402
import hashlib  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import types  # noqa: E402


def reuse_parse_tables(folder: str) -> None:
    """Make ply.yacc.yacc keep each grammar's table as a pickle in `folder` and read it back next time."""
    try:
        import ply.yacc
    except ImportError:
        return  # a checkov whose jsonpath library does without PLY: nothing to keep

    original = ply.yacc.yacc
    if getattr(original, "threetier_folder", None):
        return  # already in place
    lock = threading.Lock()  # one writer at a time: a thread never reads a half-written table

    @functools.wraps(original)
    def yacc(*args, **kwargs):
        grammar = kwargs.get("module")
        if args or grammar is None or kwargs.get("picklefile") or kwargs.get("debug"):
            return original(*args, **kwargs)  # not the way bc-jsonpath-ng calls it: as PLY would
        owner = grammar if isinstance(grammar, types.ModuleType) else type(grammar)
        name = f"{owner.__module__}.{getattr(owner, '__qualname__', owner.__name__)} {kwargs.get('start')}"
        kwargs["picklefile"] = os.path.join(folder, hashlib.sha256(name.encode()).hexdigest()[:32] + ".pickle")
        with lock:
            return original(**kwargs)

    yacc.threetier_folder = folder
    ply.yacc.yacc = yacc


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="threetier-ply-") as folder:
        reuse_parse_tables(folder)
        import gc
        import warnings

        from checkov.main import Checkov

        gc.freeze()
        gc.set_threshold(20_000, 50, 50)  # Python's default is (700, 10, 10)

        # What checkov's console script does around the same call.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=SyntaxWarning)
            return Checkov(argv).run() or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
