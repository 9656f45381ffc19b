"""Which EC2 instance types exist, and which a region offers, from data installed with threetier (offline).

- Types: the `InstanceType` enum of botocore's EC2 service model (every type the
  EC2 API accepts when this botocore was released), see
  https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-types.html
- Regional offerings: cfn-lint's per-region lists (its rule E3011 data, taken from
  EC2's DescribeInstanceTypeOfferings), see
  https://docs.aws.amazon.com/ec2/latest/instancetypes/ec2-instance-regions.html
  A region the data does not list is not checked.
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
import json
from pathlib import Path

# Where the facts here come from, and the day they were last checked against it.
SOURCES = (
    "https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-types.html",
    "https://docs.aws.amazon.com/ec2/latest/instancetypes/ec2-instance-regions.html",
    "botocore's EC2 service model and cfn-lint's per-region instance type data, read at run time",
)
CHECKED = "2026-11-30"

# Located without importing cfnlint (its import costs about half a second).
_OFFERINGS_FILE = Path("data", "schemas", "extensions", "aws_ec2_instance", "instancetype_enum.json")


@functools.lru_cache(maxsize=1)
def known_types() -> frozenset[str]:
    import botocore.session

    model = botocore.session.get_session().get_service_model("ec2")
    return frozenset(model.shape_for("InstanceType").enum)


@functools.lru_cache(maxsize=1)
def offerings() -> dict[str, frozenset[str]]:
    """{region: instance types offered there}; empty when cfn-lint's data cannot be read."""
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.origin:
        return {}
    try:
        data = json.loads((Path(spec.origin).parent / _OFFERINGS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {region: frozenset(entry.get("enum", ())) for region, entry in data.items()
            if isinstance(entry, dict) and region not in ("all", "description")}


def problem(instance_type: str, region: str | None) -> str | None:
    """Why EC2 would refuse `instance_type` (in `region`, when the data has it), or None."""
    known = known_types()
    if instance_type not in known:
        return f"not an EC2 instance type{_closest(instance_type, known)}; e.g. t3.small, m7i.large"
    offered = offerings().get(region or "")
    if offered and instance_type not in offered:
        return (f"not offered in {region}{_closest(instance_type, offered)}: use a type offered there, "
                "or another region")
    return None


def _closest(instance_type: str, names: frozenset[str]) -> str:
    close = difflib.get_close_matches(instance_type, sorted(names), n=1, cutoff=0.7)
    return f" (did you mean {close[0]}?)" if close else ""
