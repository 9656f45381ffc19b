#!/usr/bin/env python3
"""Does Graphviz lay out every shape `threetier diagram` can draw? (and how long it takes)

Renders the architecture for every combination of the parameters that change
its shape (AZs, NAT mode, bastions, CloudFront, domain, replica, Multi-AZ) on
top of parameters/dev.json and prod.json, and checks that `dot` succeeds and
puts AZ 1, 2, 3 left to right. Run it after a Graphviz upgrade or a change to
src/threetier/insight/dot.py; the layout attributes there were chosen with it.

Usage: python bench/diagram_layouts.py   (needs `dot`; exits 1 on any failure)
"""

import itertools
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "src"))

from threetier.insight import dot, model  # noqa: E402
from threetier.parameters import paramfile  # noqa: E402

SHAPES = {
    "NumberOfAzs": ("2", "3"),
    "SingleNatGateway": ("true", "false"),
    "BastionCount": ("0", "1", "2"),
    "CloudFrontEnabled": ("false", "true"),
    "DomainName": ("", "example.com"),
    "DbReplicaEnabled": ("false", "true"),
    "DbMultiAz": ("false", "true"),
}
AZ_LABEL = re.compile(r'<text[^>]*x="([\d.]+)"[^>]*>AZ (\d)')


def drawings() -> list[tuple[str, int, str]]:
    templates = model.load_templates(PROJECT)
    found = []
    for env in ("dev", "prod"):
        base = paramfile.load(PROJECT / "parameters" / f"{env}.json")
        for combination in itertools.product(*SHAPES.values()):
            values = {**base, **dict(zip(SHAPES, combination))}
            if values["BastionCount"] != "0":
                values |= {"AdminCidr": "203.0.113.0/24", "BastionKeyPairName": "ops"}
            if values["CloudFrontEnabled"] == "true":
                values |= {"CloudFrontPrefixListId": "pl-3b927c52"}
            name = f"{env} " + " ".join(f"{k}={v}" for k, v in zip(SHAPES, combination))
            text = dot.to_dot(model.describe(templates, values, env), f"parameters/{env}.json")
            found.append((name, int(values["NumberOfAzs"]), text))
    return found


def check(item: tuple[str, int, str]) -> str:
    name, zones, text = item
    result = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True)
    if result.returncode:
        return f"FAIL {name}: {result.stderr.strip().splitlines()[0]}"
    x = {number: float(position) for position, number in AZ_LABEL.findall(result.stdout)}
    order = "".join(sorted(x, key=x.get))
    expected = "123"[:zones]
    return "ok" if order == expected else f"WRONG ORDER {order} {name}"


def main() -> int:
    if shutil.which("dot") is None:
        print("Graphviz `dot` is not installed", file=sys.stderr)
        return 1
    version = subprocess.run(["dot", "-V"], capture_output=True, text=True).stderr.strip()
    start = time.perf_counter()
    items = drawings()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(check, items))
    seconds = time.perf_counter() - start
    problems = [r for r in results if r != "ok"]
    print(f"{version}: {len(items)} shapes, {Counter(r.split()[0] for r in results)} in {seconds:.1f}s")
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
