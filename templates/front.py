"""Front stack (parallel layout): the Application Load Balancer, its target group and
listeners, and the origin secret CloudFront proves itself with.

None of it needs the database, so in the parallel layout it builds while RDS
does, and the edge stack (CloudFront) and the monitoring stack start as soon as
it is done instead of after the app servers. In the chain layout the app stack
builds the same load balancer with the same functions (add_load_balancer with
only_if), and the data stack the same secret (threetier.blocks.secrets).
"""

from __future__ import annotations

from typing import NamedTuple

from awacs import s3
from awacs.aws import Allow, Principal, Statement
from troposphere import (
    And,
    Condition,
    Equals,
    FindInMap,
    GetAtt,
    If,
    Not,
    NoValue,
    Or,
    Output,
    Ref,
    Sub,
    Template,
    elasticloadbalancingv2 as elb,
    s3 as bucket,
)

from threetier import parameters as P
from threetier.blocks import logstore, naming, policies, secrets
from threetier.blocks.suppressions import checkov
from threetier.parameters import conditions
from threetier.parameters.conditions import (
    CLOUDFRONT_ONLY,
    HAS_ORIGIN_VERSION,
    HAS_PREVIOUS_ORIGIN_VERSION,
    USE_CLOUDFRONT,
)

HAS_CERTIFICATE = "HasCertificate"
HAS_ACCESS_LOGS = "HasAccessLogs"
USE_ELB_ACCOUNT = "UseElbAccountForLogDelivery"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"

# Regions opened before August 2022 deliver ALB access logs from a regional
# Elastic Load Balancing account; newer ones from the log delivery service
# principal. https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021", "us-east-2": "033677994240",
    "us-west-1": "027434742980", "us-west-2": "797873946194",
    "af-south-1": "098369216593", "ap-east-1": "754344448648",
    "ap-south-1": "718504428378", "ap-northeast-1": "582318560864",
    "ap-northeast-2": "600734575887", "ap-northeast-3": "383597477331",
    "ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266",
    "ap-southeast-3": "589379963580", "ca-central-1": "985666609251",
    "eu-central-1": "054676820928", "eu-west-1": "156460612806",
    "eu-west-2": "652711504416", "eu-west-3": "009996457667",
    "eu-south-1": "635631232127", "eu-north-1": "897822967062",
    "me-south-1": "076674570225", "sa-east-1": "507241528517",
}
LOG_DELIVERY_SERVICE = policies.service_principal("logdelivery.elasticloadbalancing")


class LoadBalancer(NamedTuple):
    alb: elb.LoadBalancer
    target_group: elb.TargetGroup


def build() -> Template:
    t = naming.new_template(
        "threetier front (parallel layout): Application Load Balancer, target group, listeners "
        "and the CloudFront origin secret, built while the database is"
    )
    P.use(t, *P.LOAD_BALANCER, P.APP_PORT, P.HEALTH_CHECK_PATH, P.CLOUDFRONT_ENABLED, P.CLOUDFRONT_ONLY,
          P.ORIGIN_VERIFY_VERSION, P.ORIGIN_VERIFY_PREVIOUS_VERSION)
    P.use(t, P.VPC_ID, P.PUBLIC_SUBNET_IDS, P.ALB_SECURITY_GROUP_ID, P.ALB_CLOUDFRONT_SECURITY_GROUP_ID)
    origin_secret = secrets.origin_verify_secret(t, condition=USE_CLOUDFRONT)
    front = add_load_balancer(t, origin_secret=origin_secret.title, only_if=None)
    naming.add_outputs(t, {
        **outputs(front),
        "OriginVerifySecretArn": (
            "ARN of the secret CloudFront sends to the load balancer (empty without CloudFront)",
            If(USE_CLOUDFRONT, Ref(origin_secret), ""),
        ),
    })
    return t


def add_load_balancer(t: Template, origin_secret: str, only_if: str | None) -> LoadBalancer:
    """The load balancer, its target group and listeners, and their conditions and mappings.

    `origin_secret` names the parameter or resource whose value (`${...}` in a Sub) is the origin
    secret's ARN. With `only_if`, every resource here exists only when that condition holds: the app
    stack makes them in the chain layout only.
    """
    conditions.add(t, USE_CLOUDFRONT, CLOUDFRONT_ONLY, HAS_ORIGIN_VERSION, HAS_PREVIOUS_ORIGIN_VERSION)
    t.add_condition(HAS_CERTIFICATE, Not(Equals(Ref(P.ALB_CERTIFICATE_ARN.name), "")))
    t.add_condition(HAS_ACCESS_LOGS, Equals(Ref(P.ALB_ACCESS_LOGS.name), "true"))
    # The account's root principal, not its bare id: a tool that writes the template back
    # (`aws cloudformation package`) writes a 1.1 string such as 054676820928 unquoted, and
    # CloudFormation then reads a number (threetier.facts.yamlreaders); iam::...:root is a
    # string to every reader, quoted or not.
    t.add_mapping("ElbLogDelivery", {region: {"AccountRoot": f"iam::{account}:root"}
                                     for region, account in ELB_LOG_ACCOUNTS.items()})
    t.add_condition(USE_ELB_ACCOUNT, _region_in(sorted(ELB_LOG_ACCOUNTS)))
    target_group = _target_group(t, only_if)
    log_bucket, log_bucket_policy = _access_log_bucket(t, only_if)
    alb = _load_balancer(t, log_bucket, log_bucket_policy, only_if)
    _listeners(t, alb, target_group, origin_secret, only_if)
    return LoadBalancer(alb, target_group)


def outputs(front: LoadBalancer) -> dict[str, tuple[str, object]]:
    return {
        "AlbDnsName": ("Load balancer DNS name", GetAtt(front.alb, "DNSName")),
        "AlbCanonicalHostedZoneId": ("Load balancer hosted zone id (for alias records)",
                                     GetAtt(front.alb, "CanonicalHostedZoneID")),
        "AlbFullName": ("Load balancer name for CloudWatch metrics", GetAtt(front.alb, "LoadBalancerFullName")),
        "TargetGroupArn": ("Target group ARN", Ref(front.target_group)),
        "TargetGroupFullName": ("Target group name for CloudWatch metrics",
                                GetAtt(front.target_group, "TargetGroupFullName")),
    }


def add_outputs_if(t: Template, condition: str, values: dict[str, tuple[str, object]]) -> None:
    for name, (description, value) in values.items():
        t.add_output(Output(name, Condition=condition, Description=description, Value=value))


def _condition(only_if: str | None) -> dict:
    return {} if only_if is None else {"Condition": only_if}


def _when(t: Template, only_if: str | None, condition: str) -> str:
    """`condition`, and with `only_if` the two together (one condition a resource can name)."""
    if only_if is None:
        return condition
    both = f"{only_if}And{condition}"
    if both not in t.conditions:
        t.add_condition(both, And(Condition(only_if), Condition(condition)))
    return both


def _access_log_bucket(t: Template, only_if: str | None) -> tuple[bucket.Bucket, bucket.BucketPolicy]:
    log_bucket = t.add_resource(logstore.log_bucket(
        "AccessLogBucket", "alb-logs", condition=_when(t, only_if, HAS_ACCESS_LOGS),
        expiration_days=Ref(P.ALB_ACCESS_LOG_RETENTION_DAYS.name),
    ))
    log_objects = Sub("arn:${AWS::Partition}:s3:::${%s}/AWSLogs/${AWS::AccountId}/*" % log_bucket.title)
    deliver = Statement(
        Sid="DeliverAlbAccessLogs",
        Effect=Allow,
        Principal=Principal("Service", LOG_DELIVERY_SERVICE),
        Action=[s3.PutObject],
        Resource=[log_objects],
    )
    deliver_from_elb_account = Statement(
        Sid="DeliverAlbAccessLogsFromElbAccount",
        Effect=Allow,
        Principal=Principal("AWS", Sub("arn:${AWS::Partition}:${AccountRoot}", AccountRoot=FindInMap(
            "ElbLogDelivery", Ref("AWS::Region"), "AccountRoot"))),
        Action=[s3.PutObject],
        Resource=[log_objects],
    )
    bucket_arn = GetAtt(log_bucket, "Arn")
    policy = t.add_resource(
        bucket.BucketPolicy(
            "AccessLogBucketPolicy",
            Condition=_when(t, only_if, HAS_ACCESS_LOGS),
            Bucket=Ref(log_bucket),
            PolicyDocument={
                "Version": policies.POLICY_VERSION,
                "Statement": [
                    If(USE_ELB_ACCOUNT, deliver_from_elb_account, deliver),
                    policies.deny_insecure_transport(bucket_arn, Sub("${%s.Arn}/*" % log_bucket.title)),
                ],
            },
        )
    )
    return log_bucket, policy


def _load_balancer(t: Template, log_bucket: bucket.Bucket, log_bucket_policy: bucket.BucketPolicy,
                   only_if: str | None) -> elb.LoadBalancer:
    attributes = [
        elb.LoadBalancerAttributes(Key=key, Value=value) for key, value in {
            "routing.http.drop_invalid_header_fields.enabled": "true",
            "deletion_protection.enabled": Ref(P.ALB_DELETION_PROTECTION.name),
            "idle_timeout.timeout_seconds": Ref(P.ALB_IDLE_TIMEOUT_SECONDS.name),
            "access_logs.s3.enabled": Ref(P.ALB_ACCESS_LOGS.name),
        }.items()
    ]
    attributes.append(If(
        HAS_ACCESS_LOGS,
        elb.LoadBalancerAttributes(Key="access_logs.s3.bucket", Value=Ref(log_bucket)),
        NoValue,
    ))
    return t.add_resource(
        elb.LoadBalancer(
            "LoadBalancer",
            **_condition(only_if),
            Type="application",
            Scheme="internet-facing",
            IpAddressType="ipv4",
            Subnets=Ref(P.PUBLIC_SUBNET_IDS.name),
            SecurityGroups=[Ref(P.ALB_SECURITY_GROUP_ID.name),
                            If(USE_CLOUDFRONT, Ref(P.ALB_CLOUDFRONT_SECURITY_GROUP_ID.name), NoValue)],
            LoadBalancerAttributes=attributes,
            Tags=naming.tags("alb"),
            Metadata={
                # ELB checks it may write to the log bucket when access logs are
                # switched on ("Access Denied for bucket"), so the load balancer
                # comes after the bucket policy. DependsOn cannot name a resource
                # whose condition is false; a Ref inside Fn::If orders it only
                # when access logs are on: a Ref makes an implicit dependency
                # (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html),
                # also from Metadata (https://cloudonaut.io/optional-dependson-with-cloudformation-metadata-to-the-rescue).
                # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
                "OrderedAfter": If(HAS_ACCESS_LOGS, Ref(log_bucket_policy), ""),
                **checkov((
                    "CKV_AWS_91",
                    "Access logs are the AlbAccessLogs parameter: on in prod.json, off in dev.json "
                    "to save cost.",
                )),
            },
        )
    )


def _target_group(t: Template, only_if: str | None) -> elb.TargetGroup:
    return t.add_resource(
        elb.TargetGroup(
            "AppTargetGroup",
            **_condition(only_if),
            VpcId=Ref(P.VPC_ID.name),
            TargetType="instance",
            Protocol="HTTP",
            Port=Ref(P.APP_PORT.name),
            HealthCheckEnabled=True,
            HealthCheckProtocol="HTTP",
            HealthCheckPath=Ref(P.HEALTH_CHECK_PATH.name),
            HealthCheckIntervalSeconds=15,
            HealthCheckTimeoutSeconds=5,
            HealthyThresholdCount=2,
            UnhealthyThresholdCount=3,
            Matcher=elb.Matcher(HttpCode="200-399"),
            TargetGroupAttributes=[
                elb.TargetGroupAttribute(Key="deregistration_delay.timeout_seconds", Value="30"),
            ],
            Tags=naming.tags("app-tg"),
        )
    )


def _listeners(t: Template, alb: elb.LoadBalancer, target_group: elb.TargetGroup, origin_secret: str,
               only_if: str | None) -> None:
    """HTTP forwards, or redirects to HTTPS when there is a certificate.

    With CloudFront on, the listener CloudFront uses answers 403 unless the
    request carries the secret origin header, so the ALB's own name is no way in.
    In the first step of turning CloudFront on for a live site (CloudFrontOnly
    false) it still forwards requests without the header: viewers reach the
    load balancer directly until the site's records point at the distribution
    (threetier.review.cloudfrontsteps). A listener tries its rules in priority
    order and takes the default action when none matches
    (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-rules.html).
    """
    forward = elb.Action(Type="forward", TargetGroupArn=Ref(target_group))
    redirect = elb.Action(
        Type="redirect",
        RedirectConfig=elb.RedirectConfig(Protocol="HTTPS", Port="443", StatusCode="HTTP_301"),
    )
    deny = elb.Action(
        Type="fixed-response",
        FixedResponseConfig=elb.FixedResponseConfig(
            StatusCode="403", ContentType="text/plain", MessageBody="Forbidden"
        ),
    )
    forward_unless_cloudfront = If(CLOUDFRONT_ONLY, deny, forward)
    http = t.add_resource(
        elb.Listener(
            "HttpListener",
            **_condition(only_if),
            LoadBalancerArn=Ref(alb),
            Protocol="HTTP",
            Port=80,
            DefaultActions=[If(HAS_CERTIFICATE, redirect, forward_unless_cloudfront)],
            Tags=naming.tags("http-listener"),
            Metadata=checkov(*(
                (check, "Port 80 only redirects to HTTPS when a certificate is given; without a "
                        "domain there is no certificate to serve, so HTTP is the only way in.")
                for check in ("CKV_AWS_2", "CKV_AWS_103")
            )),
        )
    )
    https = t.add_resource(
        elb.Listener(
            "HttpsListener",
            Condition=_when(t, only_if, HAS_CERTIFICATE),
            LoadBalancerArn=Ref(alb),
            Protocol="HTTPS",
            Port=443,
            SslPolicy=TLS_POLICY,
            Certificates=[elb.Certificate(CertificateArn=Ref(P.ALB_CERTIFICATE_ARN.name))],
            DefaultActions=[forward_unless_cloudfront],
            Tags=naming.tags("https-listener"),
        )
    )
    t.add_resource(
        elb.ListenerRule(
            "CloudFrontOriginRule",
            Condition=_when(t, only_if, USE_CLOUDFRONT),
            ListenerArn=If(HAS_CERTIFICATE, Ref(https), Ref(http)),
            Priority=1,
            Conditions=[
                elb.Condition(
                    Field="http-header",
                    HttpHeaderConfig=elb.HttpHeaderConfig(
                        HttpHeaderName=secrets.ORIGIN_VERIFY_HEADER,
                        # The current value CloudFront sends, and during a rotation the
                        # previous one, which edges still send until they have the new one.
                        Values=[
                            secrets.resolve_version(origin_secret, secrets.ORIGIN_VERIFY_KEY,
                                                    P.ORIGIN_VERIFY_VERSION.name, HAS_ORIGIN_VERSION),
                            If(HAS_PREVIOUS_ORIGIN_VERSION,
                               secrets.pinned(origin_secret, secrets.ORIGIN_VERIFY_KEY,
                                              P.ORIGIN_VERIFY_PREVIOUS_VERSION.name),
                               NoValue),
                        ],
                    ),
                )
            ],
            Actions=[elb.ListenerRuleAction(Type="forward", TargetGroupArn=Ref(target_group))],
            Tags=naming.tags("cloudfront-origin-rule"),
        )
    )


def _region_in(regions: list[str]):
    """A condition true when the stack's region is one of `regions` (Fn::Or takes at most 10)."""
    tests = [Equals(Ref("AWS::Region"), region) for region in regions]
    chunks = [Or(*tests[i:i + 10]) if len(tests[i:i + 10]) > 1 else tests[i] for i in range(0, len(tests), 10)]
    return Or(*chunks) if len(chunks) > 1 else chunks[0]
