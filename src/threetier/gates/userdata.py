"""The user data of every generated template, measured with every value at its longest.

`generate` prints each measure and refuses output that leaves less than HEADROOM of
EC2's limit (threetier.facts.lengths: 16 KB raw, 21,847 base64 characters, so 16,383
bytes): a parameter at its MaxLength must never be what makes a launch template fail
at deploy time, and a script that grows by a few lines must not either. The measure
is lint rule E9015's (threetier.gates.lintrules._helpers), which refuses only what is
over the limit itself, in any template.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from threetier.facts.lengths import USER_DATA_MOST_BYTES
from threetier.gates.lintrules._helpers import Length, TemplateView

# At least a tenth of EC2's limit left with every value at its longest: room for the next
# fixes to the boot script without a redesign, and for a value longer than today's bounds.
HEADROOM = 0.10
BUDGET = USER_DATA_MOST_BYTES - math.ceil(USER_DATA_MOST_BYTES * HEADROOM)


@dataclass(frozen=True)
class Measure:
    file_name: str
    resource: str
    length: Length

    @property
    def left(self) -> float:
        """The share of EC2's limit left with every value at its longest."""
        return 1 - self.length.most / USER_DATA_MOST_BYTES

    def __str__(self) -> str:
        return (f"{self.file_name} {self.resource}: user data at most {self.length.most:,} bytes with every value "
                f"at its longest, {percent(self.length.most / USER_DATA_MOST_BYTES, up=True)} of the "
                f"{USER_DATA_MOST_BYTES:,} EC2 takes ({percent(self.left)} left)")


def percent(share: float, up: bool = False) -> str:
    """A share as a whole percent, rounded so as never to show more room than there is: down for
    what is left, `up` for what is used."""
    return f"{(math.ceil if up else math.floor)(share * 100)} %"


def measure(templates: dict[str, dict]) -> list[Measure]:
    """Each UserData in `templates` ({file name: template as data}), in file order."""
    return [Measure(file_name, resource, length)
            for file_name, template in templates.items()
            for resource, _, length in TemplateView(template).user_data()]


def problems(measures: list[Measure], budget: int | None = None) -> list[str]:
    """Why each measure is refused: a value of any length, or more than `budget` bytes (BUDGET)."""
    budget = BUDGET if budget is None else budget
    found = []
    for item in measures:
        where = f"{item.file_name} {item.resource}"
        if item.length.unbounded:
            found.append(f"{where}: user data can be any length: it substitutes "
                         f"{'; '.join(sorted(set(item.length.unbounded)))}")
        elif item.length.most > budget:
            found.append(f"{item}: more than the {budget:,} bytes that leave {percent(HEADROOM)} of the limit; "
                         f"the longest values: {item.length.largest()}. Move more of the boot into the files cfn-init writes "
                         "(threetier.blocks.userdata.APP_BOOT_FILES), or lower a MaxLength")
    return found
