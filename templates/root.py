"""Root stack (output/main.yaml): the parameters a user fills in, and the nested stacks.

Each nested stack's TemplateURL is the relative path of its generated file, the
form `aws cloudformation package` (and `threetier package`) rewrites into an S3
URL. Outputs of one stack reach the next as parameters.
"""

from __future__ import annotations

from troposphere import GetAtt, Output, Ref, Template, cloudformation

from threetier import naming
from threetier import parameters as P
from threetier.suppressions import cfn_lint

# Outputs of the network stack the root republishes.
NETWORK_OUTPUTS = ("VpcId", "PublicSubnetIds", "AppSubnetIds", "DataSubnetIds")


def build() -> Template:
    t = naming.new_template(
        "threetier: highly available three-tier web application (root stack)"
    )
    P.use(t, *P.NETWORK)

    network = _nested_stack(t, "NetworkStack", "network", P.PROJECT + P.NETWORK)

    for name in NETWORK_OUTPUTS:
        t.add_output(
            Output(
                name,
                Description=f"{name} from the network stack",
                Value=GetAtt(network, f"Outputs.{name}"),
            )
        )
    return t


def _nested_stack(
    t: Template, title: str, stack: str, params: tuple[P.Param, ...], **values
) -> cloudformation.Stack:
    """A nested stack fed with the root parameters it shares plus `values` from other stacks."""
    parameters = {param.name: Ref(param.name) for param in params}
    parameters.update(values)
    return t.add_resource(
        cloudformation.Stack(
            title,
            TemplateURL=f"{stack}.yaml",
            Parameters=parameters,
            # Deleting the root deletes the nested stacks; their stateful
            # resources carry their own Retain/Snapshot policies.
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
            Tags=naming.tags(),
            Metadata=cfn_lint(
                "W3002",
                "Relative TemplateURL on purpose: `threetier package` or "
                "`aws cloudformation package` rewrites it to S3, and cfn-lint "
                "checks the parameters against the nested file (E3043).",
            ),
        )
    )
