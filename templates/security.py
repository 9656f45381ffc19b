"""Security stack: every security group, wired only to each other.

Who may reach what:
    internet  -> ALB      80, 443   (CloudFront off, or on with CloudFrontOnly false)
    CloudFront-> ALB      80-443, in a group of its own (CloudFront on): 443
                          with a domain, else 80; the ALB listens on nothing else
    ALB       -> app      AppPort
    app       -> EFS      2049 (NFS)
    app       -> DB       3306 (MySQL) or 5432 (PostgreSQL)
    admin IP  -> bastion  22, bastion -> app 22   (only when bastions are on)

Egress rules are inline on each group (declaring any replaces the default
allow-all), ingress rules are separate resources: that is what keeps the
group-to-group references free of cycles.
"""

from __future__ import annotations

from troposphere import Condition, If, Not, Output, Ref, Template, ec2

from threetier import parameters as P
from threetier.blocks import engine_mapping, naming
from threetier.blocks.suppressions import cfn_lint, checkov
from threetier.parameters import conditions
from threetier.parameters.conditions import CLOUDFRONT_ONLY, HAS_BASTIONS, USE_CLOUDFRONT

ALB_OPEN_TO_INTERNET = "AlbOpenToInternet"
ANYWHERE = "0.0.0.0/0"
HTTP, HTTPS, SSH, NFS = 80, 443, 22, 2049
TCP = "tcp"
# A group that must not start connections: a rule to the loopback range
# matches nothing and removes the default allow-all egress.
NO_EGRESS = ec2.SecurityGroupRule(
    IpProtocol="-1",
    CidrIp="127.0.0.1/32",
    Description="No outbound traffic: this tier only answers",
)


def build() -> Template:
    t = naming.new_template(
        "threetier security groups: ALB, app, EFS, database and optional bastion, "
        "each reachable only from the tier in front of it"
    )
    P.use(t, P.VPC_ID, *P.SECURITY, P.DB_ENGINE)
    P.use(t, P.CLOUDFRONT_ENABLED, P.CLOUDFRONT_ONLY, P.CLOUDFRONT_PREFIX_LIST_ID)
    engine_mapping.add_mapping(t, "Port")
    conditions.add(t, HAS_BASTIONS, USE_CLOUDFRONT, CLOUDFRONT_ONLY)
    # Open while CloudFront is off, and in the first step of turning it on for a live
    # site (CloudFrontOnly false), when viewers still reach the load balancer directly
    # until the site's records point at the distribution (threetier.review.cloudfrontsteps).
    t.add_condition(ALB_OPEN_TO_INTERNET, Not(Condition(CLOUDFRONT_ONLY)))
    app_port, db_port = Ref(P.APP_PORT.name), engine_mapping.lookup("Port")

    db = _group(t, "DbSecurityGroup", "db-sg", "Database: engine port from the app tier only",
                [NO_EGRESS])
    efs = _group(t, "EfsSecurityGroup", "efs-sg", "EFS mount targets: NFS from the app tier only",
                 [NO_EGRESS])
    app = _group(t, "AppSecurityGroup", "app-sg", "App instances: app port from the load balancer only", [
        _egress(HTTPS, cidr=ANYWHERE, why="HTTPS out via NAT: SSM, Secrets Manager, packages, app repository"),
        _egress(HTTP, cidr=ANYWHERE, why="HTTP out via NAT: package mirrors and the app's news API"),
        _egress(db_port, group=db, why="Database connections"),
        _egress(NFS, group=efs, why="NFS to the EFS mount targets"),
    ])
    # The project's rotation function (app stack) runs in the app subnets: HTTPS through NAT to
    # the Secrets Manager API and for the region's RDS CA bundle, and the database.
    rotation = _group(t, "DbRotationSecurityGroup", "db-rotation-sg",
                      "Database password rotation functions: the database and HTTPS only", [
                          _egress(HTTPS, cidr=ANYWHERE,
                                  why="HTTPS out via NAT: the Secrets Manager API, the RDS CA bundle"),
                          _egress(db_port, group=db, why="Database connections to rotate passwords"),
                      ])
    # GroupDescription is create-only: its words stay as shipped (CloudFront now
    # comes in through AlbCloudFrontSecurityGroup), since a new one would replace the group.
    alb = _group(t, "AlbSecurityGroup", "alb-sg", "Load balancer: HTTP and HTTPS from the internet or CloudFront", [
        _egress(app_port, group=app, why="Forward requests and health checks to the app instances"),
    ])
    bastion = _group(t, "BastionSecurityGroup", "bastion-sg", "Bastion hosts: SSH from the admin CIDR only", [
        _egress(SSH, group=app, why="SSH on to the app instances"),
        _egress(HTTPS, cidr=ANYWHERE, why="HTTPS out: SSM agent and package updates"),
    ], condition=HAS_BASTIONS)

    http_from_anywhere = _ingress(t, "AlbHttpIngress", alb, HTTP, cidr=ANYWHERE, why="HTTP from the internet",
                                  condition=ALB_OPEN_TO_INTERNET)
    http_from_anywhere.Metadata = checkov((
        "CKV_AWS_260",
        "A public website: port 80 answers everyone so it can redirect to HTTPS (or serve "
        "HTTP when no domain gives a certificate); once the load balancer answers CloudFront only "
        "(CloudFrontOnly) this rule is gone.",
    ))
    _ingress(t, "AlbHttpsIngress", alb, HTTPS, cidr=ANYWHERE, why="HTTPS from the internet",
             condition=ALB_OPEN_TO_INTERNET)
    # CloudFront's origin-facing prefix list weighs 55 rules against a group's
    # default quota of 60 (VPC User Guide, "AWS-managed prefix list weight":
    # https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html#aws-managed-prefix-list-weights;
    # quota: https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups),
    # so a group holds one reference to it, never two. FromPort, ToPort,
    # IpProtocol and SourcePrefixListId of a SecurityGroupIngress are
    # create-only, and CloudFormation creates a replacement before it deletes
    # the old rule: a rule whose port followed the domain (443 with one, else
    # 80) held two references for a moment on the domain's second pass and on
    # its removal, and the update failed. Hence one rule that never changes:
    # 80-443 covers both ways CloudFront reaches the origin (edge.py's
    # OriginProtocolPolicy) and opens nothing more, as a load balancer accepts
    # connections on its listener ports only (app.py: 80 and 443). It lives in
    # a group of its own, which nothing else can push over the quota, and
    # which moved it out of AlbSecurityGroup safely: the new rule is created
    # in this group while the old one still counts in the other. (A group per
    # port, swapped with the domain, would keep each group under the quota too,
    # but it would change the ALB's groups on every domain change and admit
    # nothing less in effect: with a domain port 80 only redirects, without
    # one nothing listens on 443.) E9011 (gates/lintrules) guards the pattern.
    cloudfront = _group(t, "AlbCloudFrontSecurityGroup", "alb-cloudfront-sg",
                        "Load balancer: HTTP and HTTPS from CloudFront origin-facing servers only",
                        [NO_EGRESS], condition=USE_CLOUDFRONT)
    _ingress(t, "AlbFromCloudFrontIngress", cloudfront, HTTP, to_port=HTTPS,
             prefix_list=Ref(P.CLOUDFRONT_PREFIX_LIST_ID.name),
             why="Origin requests from CloudFront edge locations only", condition=USE_CLOUDFRONT)
    _ingress(t, "AppFromAlbIngress", app, app_port, source=alb, why="App port from the load balancer")
    _ingress(t, "EfsFromAppIngress", efs, NFS, source=app, why="NFS from the app instances")
    _ingress(t, "DbFromAppIngress", db, db_port, source=app, why="Database port from the app instances")
    _ingress(t, "DbFromRotationIngress", db, db_port, source=rotation,
             why="Database port from the password rotation functions")
    ssh_from_admin = _ingress(t, "BastionSshIngress", bastion, SSH, cidr=Ref(P.ADMIN_CIDR.name),
                              why="SSH from the admin CIDR", condition=HAS_BASTIONS)
    ssh_from_admin.Metadata = cfn_lint(
        "W1030",
        "AdminCidr defaults to empty because bastions are off by default; this rule "
        "exists only with bastions, and the root Rule BastionsNeedARestrictedAdminCidr "
        "refuses an empty or 0.0.0.0/0 AdminCidr then.",
    )
    _ingress(t, "AppFromBastionSshIngress", app, SSH, source=bastion,
             why="SSH from the bastion hosts", condition=HAS_BASTIONS)

    for title, group in (("Alb", alb), ("App", app), ("Efs", efs), ("Db", db), ("DbRotation", rotation)):
        t.add_output(Output(f"{title}SecurityGroupId", Description=f"{title} security group id",
                            Value=Ref(group)))
    t.add_output(Output("AlbCloudFrontSecurityGroupId",
                        Description="Security group admitting CloudFront to the load balancer "
                                    "(empty without CloudFront)",
                        Value=If(USE_CLOUDFRONT, Ref(cloudfront), "")))
    t.add_output(Output("BastionSecurityGroupId",
                        Description="Bastion security group id (empty without bastions)",
                        Value=If(HAS_BASTIONS, Ref(bastion), "")))
    return t


def _group(t: Template, title: str, thing: str, description: str, egress: list,
           condition: str | None = None) -> ec2.SecurityGroup:
    group = ec2.SecurityGroup(
        title,
        GroupDescription=description,
        VpcId=Ref(P.VPC_ID.name),
        SecurityGroupEgress=egress,
        Tags=naming.tags(thing),
    )
    if condition is not None:
        group.Condition = condition
    return t.add_resource(group)


def _egress(port, *, why: str, cidr=None, group=None) -> ec2.SecurityGroupRule:
    destination = {"CidrIp": cidr} if cidr is not None else {"DestinationSecurityGroupId": Ref(group)}
    return ec2.SecurityGroupRule(IpProtocol=TCP, FromPort=port, ToPort=port, Description=why, **destination)


def _ingress(t: Template, title: str, group, port, *, why: str, cidr=None, source=None,
             prefix_list=None, to_port=None, condition: str | None = None) -> ec2.SecurityGroupIngress:
    if cidr is not None:
        origin = {"CidrIp": cidr}
    elif prefix_list is not None:
        origin = {"SourcePrefixListId": prefix_list}
    else:
        origin = {"SourceSecurityGroupId": Ref(source)}
    rule = ec2.SecurityGroupIngress(
        title, GroupId=Ref(group), IpProtocol=TCP, FromPort=port, ToPort=port if to_port is None else to_port,
        Description=why, **origin
    )
    if condition is not None:
        rule.Condition = condition
    return t.add_resource(rule)
