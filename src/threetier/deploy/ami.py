"""Pinned AMI: the environment keeps the image id it runs (PinnedAmiId in parameters/ENV.pins.json).

CloudFormation fetches the latest value of an SSM parameter type on every stack update,
even with "use existing value"
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-supplied-parameter-types.html#cloudformation-supplied-parameter-types-ssm):
with AmiId alone, the first update after a newer Amazon Linux image is published, even an
alarm threshold, replaces every server. So `plan` resolves AmiId once (SSM GetParameter)
and pins the id (parameters/ENV.pins.json, once the change set is created) when PinnedAmiId is
empty, and afterwards shows
"pinned X, latest Y"; `threetier pin-ami ENV` moves the pin, a deliberate change reviewed
like a release. With PinnedAmiId empty (the console) the template uses AmiId as before. A
PinnedAmiId the user writes in parameters/ENV.json wins over the pin.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from threetier import parameters as P
from threetier.parameters import paramfile

PIN = P.PINNED_AMI_ID.name
SOURCE = P.AMI_ID.name


@dataclass(frozen=True)
class AmiPin:
    source: str  # the SSM parameter name AmiId holds
    pinned: str
    latest: str
    newly_pinned: bool = False

    def lines(self, env: str) -> list[str]:
        if self.newly_pinned:
            return [f"AMI: pinned {self.pinned}, the latest image of {self.source}; it stays until you move it "
                    f"(threetier pin-ami {env}). Commit parameters/{env}.pins.json."]
        if self.pinned == self.latest:
            return [f"AMI: pinned {self.pinned}, the latest of {self.source}."]
        return [f"AMI: pinned {self.pinned}, latest {self.latest} ({self.source}). Servers keep the pinned image; "
                f"to move them, run `threetier pin-ami {env}` and deploy (a rolling replacement, like a release)."]

    def as_dict(self) -> dict:
        return {"source": self.source, "pinned": self.pinned, "latest": self.latest,
                "newly_pinned": self.newly_pinned}


def applies(template: dict) -> bool:
    """Whether the root template has the pin (older generated roots do not)."""
    declared = template.get("Parameters") or {}
    return PIN in declared and SOURCE in declared


def source_of(template: dict, values: dict[str, str]) -> str:
    return values.get(SOURCE) or (template.get("Parameters") or {}).get(SOURCE, {}).get("Default", "")


def latest(ssm, name: str) -> str:
    return ssm.get_parameter(Name=name)["Parameter"]["Value"]


def pin(ssm, template: dict, values: dict[str, str]) -> AmiPin:
    """Resolve AmiId; newly_pinned (the caller pins it) when the values have no PinnedAmiId yet."""
    source = source_of(template, values)
    newest = latest(ssm, source)
    pinned = values.get(PIN) or ""
    if pinned:
        return AmiPin(source, pinned, newest)
    return AmiPin(source, newest, newest, newly_pinned=True)


def move(project: Path, env: str, image_id: str) -> Path:
    """Pin `image_id` for the environment; the pins file's path."""
    return paramfile.save_pins(project, env, {PIN: image_id})
