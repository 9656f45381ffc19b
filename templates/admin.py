"""Admin stack (optional): bastion hosts in the public subnets.

Created by the root only when BastionCount is 1 or 2. SSM Session Manager is
the default way in; bastions are for teams that must use SSH. They answer SSH
only from AdminCidr (security stack) and use IMDSv2 and encrypted disks.
"""

from __future__ import annotations

from troposphere import Equals, GetAtt, If, Output, Ref, Select, Template, ec2, iam

from threetier import parameters as P
from threetier.blocks import naming, policies
from threetier.blocks.suppressions import checkov
from threetier.parameters import conditions

HAS_SECOND_BASTION = "HasSecondBastion"


def build() -> Template:
    t = naming.new_template("threetier bastion hosts (optional; SSH from the admin CIDR only)")
    P.use(t, P.BASTION_COUNT, *P.BASTION, P.as_nested(P.AMI_ID), P.ROOT_DEVICE_NAME)
    P.use(t, P.PUBLIC_SUBNET_IDS, P.BASTION_SECURITY_GROUP_ID, *P.IAM)
    conditions.add(t, conditions.HAS_PERMISSIONS_BOUNDARY)
    t.add_condition(HAS_SECOND_BASTION, Equals(Ref(P.BASTION_COUNT.name), "2"))

    role = t.add_resource(
        iam.Role(
            "BastionRole",
            AssumeRolePolicyDocument=policies.ec2_trust(),
            # Session Manager works on bastions too, so SSH is never the only way in.
            ManagedPolicyArns=[policies.aws_managed("AmazonSSMManagedInstanceCore")],
            Policies=[policies.inline("no-parameter-store", policies.deny_parameter_store_reads())],
            Tags=naming.tags("bastion-role"),
            **policies.role_placement(),
        )
    )
    profile = t.add_resource(iam.InstanceProfile("BastionInstanceProfile", Roles=[Ref(role)]))
    launch_template = t.add_resource(
        ec2.LaunchTemplate(
            "BastionLaunchTemplate",
            LaunchTemplateData=ec2.LaunchTemplateData(
                ImageId=Ref(P.AMI_ID.name),
                InstanceType=Ref(P.BASTION_INSTANCE_TYPE.name),
                KeyName=Ref(P.BASTION_KEY_PAIR.name),
                IamInstanceProfile=ec2.IamInstanceProfile(Arn=GetAtt(profile, "Arn")),
                MetadataOptions=ec2.MetadataOptions(
                    HttpEndpoint="enabled", HttpTokens="required", HttpPutResponseHopLimit=1
                ),
                BlockDeviceMappings=[
                    ec2.LaunchTemplateBlockDeviceMapping(
                        DeviceName=Ref(P.ROOT_DEVICE_NAME.name),
                        Ebs=ec2.EBSBlockDevice(VolumeType="gp3", VolumeSize=8, Encrypted=True,
                                               DeleteOnTermination=True),
                    )
                ],
                TagSpecifications=[
                    ec2.TagSpecifications(ResourceType="volume", Tags=naming.tags("bastion")),
                ],
            ),
            TagSpecifications=[
                ec2.TagSpecifications(
                    ResourceType="launch-template", Tags=naming.tags("bastion-lt")
                )
            ],
        )
    )

    addresses = []
    for number in (1, 2):
        host = ec2.Instance(
            f"BastionHost{number}",
            LaunchTemplate=ec2.LaunchTemplateSpecification(
                LaunchTemplateId=Ref(launch_template),
                Version=GetAtt(launch_template, "LatestVersionNumber"),
            ),
            # A public address on the one interface, in the public subnet of AZ n.
            NetworkInterfaces=[
                ec2.NetworkInterfaceProperty(
                    DeviceIndex="0",
                    AssociatePublicIpAddress=True,
                    SubnetId=Select(number - 1, Ref(P.PUBLIC_SUBNET_IDS.name)),
                    GroupSet=[Ref(P.BASTION_SECURITY_GROUP_ID.name)],
                    DeleteOnTermination=True,
                )
            ],
            Tags=naming.tags(f"bastion-{number}"),
            Metadata=checkov((
                "CKV_AWS_88",
                "A bastion is reached over SSH from AdminCidr only, so it needs a public "
                "address; bastions are off by default (Session Manager needs none).",
            )),
        )
        if number == 2:
            host.Condition = HAS_SECOND_BASTION
        t.add_resource(host)
        addresses.append(GetAtt(host, "PublicIp"))

    t.add_output(Output("Bastion1PublicIp", Description="Public IP of bastion host 1",
                        Value=addresses[0]))
    t.add_output(Output("Bastion2PublicIp", Description="Public IP of bastion host 2 (empty with one)",
                        Value=If(HAS_SECOND_BASTION, addresses[1], "")))
    return t
