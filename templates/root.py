"""Root stack (output/main.yaml): the parameters a user fills in, and the nested stacks.

Each nested stack's TemplateURL is the relative path of its generated file, the
form `aws cloudformation package` (and `threetier package`) rewrites into an S3
URL. Outputs of one stack reach the next as parameters.
"""

from __future__ import annotations

from troposphere import And, Equals, GetAtt, Not, Output, Ref, Sub, Template, cloudformation

from threetier import naming
from threetier import parameters as P
from threetier.suppressions import cfn_lint

# Top-level outputs: {output name: (nested stack, description)}.
OUTPUTS = {
    "VpcId": ("NetworkStack", "VPC id"),
    "PublicSubnetIds": ("NetworkStack", "Public subnet ids"),
    "AppSubnetIds": ("NetworkStack", "Private app subnet ids"),
    "DataSubnetIds": ("NetworkStack", "Private data subnet ids"),
    "DbEndpointAddress": ("DataStack", "Database endpoint host name"),
    "DbEndpointPort": ("DataStack", "Database port"),
    "DbReplicaEndpointAddress": ("DataStack", "Read replica endpoint (empty without a replica)"),
    "DbMasterSecretArn": ("DataStack", "Secret holding the database master user and password"),
    "AppSecretArn": ("DataStack", "Application secret (SECRET_KEY, API_KEY)"),
    "EfsFileSystemId": ("DataStack", "EFS file system id"),
    "AlbDnsName": ("AppStack", "Load balancer DNS name"),
    "AutoScalingGroupName": ("AppStack", "Auto Scaling group of the app servers"),
}
HAS_BASTIONS = "HasBastions"


def build() -> Template:
    t = naming.new_template(
        "threetier: highly available three-tier web application (root stack)"
    )
    P.use(t, *P.NETWORK, *P.SECURITY, *P.DATABASE, *P.FILES, *P.APP, *P.LOAD_BALANCER, *P.BASTION)
    _rules(t)
    t.add_condition(HAS_BASTIONS, _bastions_on())

    network = _nested_stack(t, "NetworkStack", "network", P.PROJECT + P.NETWORK)
    security = _nested_stack(
        t, "SecurityStack", "security", P.PROJECT + P.SECURITY + (P.DB_ENGINE,),
        VpcId=_output(network, "VpcId"),
    )
    data = _nested_stack(
        t, "DataStack", "data", P.PROJECT + P.DATABASE + P.FILES + (P.NUMBER_OF_AZS,),
        AvailabilityZones=_output(network, "AvailabilityZones"),
        DataSubnetIds=_output(network, "DataSubnetIds"),
        AppSubnetIds=_output(network, "AppSubnetIds"),
        DbSecurityGroupId=_output(security, "DbSecurityGroupId"),
        EfsSecurityGroupId=_output(security, "EfsSecurityGroupId"),
    )
    app = _nested_stack(
        t, "AppStack", "app", P.PROJECT + P.APP + P.LOAD_BALANCER + (P.APP_PORT, P.DB_NAME),
        VpcId=_output(network, "VpcId"),
        PublicSubnetIds=_output(network, "PublicSubnetIds"),
        AppSubnetIds=_output(network, "AppSubnetIds"),
        AlbSecurityGroupId=_output(security, "AlbSecurityGroupId"),
        AppSecurityGroupId=_output(security, "AppSecurityGroupId"),
        **{name: _output(data, name) for name in (
            "DbEndpointAddress", "DbEndpointPort", "DbMasterSecretArn", "AppSecretArn",
            "EfsFileSystemId", "EfsFileSystemArn")},
    )
    admin = _nested_stack(
        t, "AdminStack", "admin", P.PROJECT + (P.BASTION_COUNT, *P.BASTION, P.AMI_ID, P.ROOT_DEVICE_NAME),
        PublicSubnetIds=_output(network, "PublicSubnetIds"),
        BastionSecurityGroupId=_output(security, "BastionSecurityGroupId"),
    )
    admin.Condition = HAS_BASTIONS

    for name, (stack, description) in OUTPUTS.items():
        t.add_output(Output(name, Description=description, Value=GetAtt(stack, f"Outputs.{name}")))
    t.add_output(Output(
        "SiteUrl",
        Description="Where the application answers",
        Value=Sub("http://${Dns}", Dns=_output(app, "AlbDnsName")),
    ))
    return t


def _bastions_on():
    return Not(Equals(Ref(P.BASTION_COUNT.name), "0"))


def _rules(t: Template) -> None:
    """Combinations no single parameter constraint can catch, refused before anything is created."""
    admin_cidr = Ref(P.ADMIN_CIDR.name)
    t.add_rule("BastionsNeedARestrictedAdminCidr", {
        "RuleCondition": _bastions_on(),
        "Assertions": [{
            "Assert": And(Not(Equals(admin_cidr, "")), Not(Equals(admin_cidr, "0.0.0.0/0"))),
            "AssertDescription": "BastionCount above 0 needs AdminCidr: the one IPv4 range "
                                 "allowed to SSH in (e.g. 203.0.113.0/24), never 0.0.0.0/0.",
        }],
    })
    t.add_rule("BastionsNeedAKeyPair", {
        "RuleCondition": _bastions_on(),
        "Assertions": [{
            "Assert": Not(Equals(Ref(P.BASTION_KEY_PAIR.name), "")),
            "AssertDescription": "BastionCount above 0 needs BastionKeyPairName: an existing "
                                 "EC2 key pair in this region.",
        }],
    })


def _output(stack: cloudformation.Stack, name: str) -> GetAtt:
    return GetAtt(stack, f"Outputs.{name}")


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
