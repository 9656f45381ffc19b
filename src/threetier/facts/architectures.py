"""Which CPU architecture an instance type and an AMI parameter are, so a pair that cannot boot
is refused before anything is created.

EC2 refuses to launch an AMI on an instance type of another architecture, and in
an Auto Scaling group that shows only as failed launches ("The architecture
'arm64' of the specified instance type does not match the architecture 'x86_64'
of the specified AMI"), after the CreationPolicy times out.
https://docs.aws.amazon.com/ec2/latest/instancetypes/ec2-instance-type-specifications.html
"""

from __future__ import annotations

import re

# Where the facts here come from, and the day they were last checked against it.
SOURCES = (
    "https://docs.aws.amazon.com/ec2/latest/instancetypes/ec2-instance-type-specifications.html",
    "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/burstable-credits-baseline-concepts.html",
    "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/burstable-performance-instances-unlimited-mode-concepts.html",
)
CHECKED = "2026-11-30"

ARM64 = "arm64"
X86_64 = "x86_64"

# AWS Graviton (arm64) types: a "g" right after the generation digit (t4g,
# m7g, c7gn, r8gd, x2gd, im4gn, is4gen, g5g, hpc7g) or the first-generation a1.
_GRAVITON = re.compile(r"^(a1|[a-z]+[0-9]+g[a-z]*)\.")

# The common Graviton types for app servers, for the root Rule (Rules can only
# test membership). Kept short because the root template must stay small:
# validate checks every type against the pattern above.
GRAVITON_FAMILIES = ("m6g", "m7g", "m8g", "c6g", "c7g", "c8g", "r6g", "r7g", "r8g")
GRAVITON_SIZES = ("medium", "large", "xlarge", "2xlarge")
BURSTABLE_GRAVITON = tuple(f"t4g.{size}" for size in ("nano", "micro", "small", "medium", "large",
                                                      "xlarge", "2xlarge"))


def of_instance_type(instance_type: str) -> str:
    return ARM64 if _GRAVITON.match(instance_type or "") else X86_64


def of_ami_parameter(name: str) -> str | None:
    """The architecture an AMI parameter name says (AWS's and Canonical's public ones do), else None."""
    if "arm64" in name:
        return ARM64
    if "x86_64" in name or "amd64" in name:
        return X86_64
    return None


def common_graviton_types() -> list[str]:
    return [*BURSTABLE_GRAVITON, *(f"{family}.{size}" for family in GRAVITON_FAMILIES for size in GRAVITON_SIZES)]


# Burstable (T) instance types: (vCPUs, baseline CPU utilisation per vCPU, %).
# Above the baseline they spend CPU credits; in standard mode they are held at
# the baseline once the credits are spent, in unlimited mode (the default for
# T3, T3a and T4g) the surplus is billed per vCPU-hour.
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/burstable-credits-baseline-concepts.html
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/burstable-performance-instances-unlimited-mode-concepts.html
_T3_SIZES = {"nano": (2, 5), "micro": (2, 10), "small": (2, 20), "medium": (2, 20), "large": (2, 30),
             "xlarge": (4, 40), "2xlarge": (8, 40)}
BURSTABLE = {
    **{f"{family}.{size}": row for family in ("t3", "t3a", "t4g") for size, row in _T3_SIZES.items()},
    "t2.nano": (1, 5), "t2.micro": (1, 10), "t2.small": (1, 20), "t2.medium": (2, 20), "t2.large": (2, 30),
    "t2.xlarge": (4, 22.5), "t2.2xlarge": (8, 17),
}


def is_burstable(instance_type: str) -> bool:
    """A T type: known sizes from the table, and any other t<digit> type by its family."""
    return instance_type in BURSTABLE or re.match(r"^t[0-9][a-z]*\.", instance_type or "") is not None


def default_cpu_credits(instance_type: str) -> str:
    """What EC2 uses when the launch template names no credit option: standard for T2, else unlimited."""
    return "standard" if instance_type.startswith("t2.") else "unlimited"
