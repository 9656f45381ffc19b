"""The us-east-1 companion stack against a local moto server: plan and deploy of an environment in
eu-west-1 with CloudFront, a domain and WAF create the companion in us-east-1 first and hand its
outputs to the main stack; delete removes the main stack, then the companion.

moto creates neither ACM certificates nor CloudFront web ACLs through CloudFormation (see
/work/shared/notes/moto-cloudformation.md), so the companion here is a small stand-in with the real
one's parameters and outputs; the main stack records what it was given in SSM parameters.
"""

from __future__ import annotations

import boto3
import pytest
from troposphere import Output, Parameter, Ref, Sub, Template, ssm

from tests.deploy.fixtures.project import ENV, PROJECT_NAME, STACK_NAME, app_template, write_project
from tests.deploy.test_deploy_moto import fresh_moto
from templates import edge_us_east_1
from threetier import cli

REGION = "eu-west-1"
BUCKET = "eu-templates"
COMPANION = f"{STACK_NAME}-edge"
ZONE = "Z0123456789ABCDEFGHIJ"
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
WEB_ACL = ("arn:aws:wafv2:us-east-1:123456789012:global/webacl/shop-dev-web-acl/"
           "12345678-1234-1234-1234-123456789012")
EDGE_VALUES = {"CloudFrontEnabled": "true", "WafEnabled": "true", "DomainName": "example.com", "HostedZoneId": ZONE}


def main_template() -> Template:
    t = Template(Description="threetier test root stack with CloudFront settings")
    t.set_version("2010-09-09")
    for name, default in (("ProjectName", None), ("EnvironmentName", "dev"), ("RetentionDays", "7"),
                          ("CloudFrontEnabled", "false"), ("WafEnabled", "false"), ("DomainName", ""),
                          ("SiteSubdomain", "www"), ("HostedZoneId", ""), ("CloudFrontCertificateArn", ""),
                          ("WebAclArn", "")):
        t.add_parameter(Parameter(name, Type="String", **({} if default is None else {"Default": default})))
    for title, name in (("GivenCertificate", "CloudFrontCertificateArn"), ("GivenWebAcl", "WebAclArn")):
        t.add_resource(ssm.Parameter(title, Type="String", Name=Sub(f"/${{ProjectName}}/{name}"),
                                     Value=Sub(f"given:${{{name}}}")))
    return t


def companion_template() -> Template:
    """The real companion's parameters and outputs around an SSM parameter (moto makes no certificate)."""
    real = edge_us_east_1.build().to_dict()
    t = Template(Description="threetier test us-east-1 companion")
    t.set_version("2010-09-09")
    for name, spec in real["Parameters"].items():
        t.add_parameter(Parameter(name, Type="String", **({"Default": spec["Default"]} if "Default" in spec else {})))
    t.add_resource(ssm.Parameter("Switches", Type="String", Name=Sub("/${ProjectName}/companion"),
                                 Value=Sub("${CertificateEnabled},${WafEnabled},${DomainName},${HostedZoneId}")))
    assert set(real["Outputs"]) == {"CertificateArn", "WebAclArn"}
    t.add_output(Output("CertificateArn", Value=CERTIFICATE))
    t.add_output(Output("WebAclArn", Value=WEB_ACL))
    return t


@pytest.fixture
def aws(moto_endpoint, monkeypatch):
    aws = fresh_moto(moto_endpoint, monkeypatch)
    outputs_after_a_change_set(monkeypatch)
    aws.s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    aws.east = aws.cfn
    aws.eu = boto3.client("cloudformation", endpoint_url=moto_endpoint, region_name=REGION)
    aws.eu_ssm = boto3.client("ssm", endpoint_url=moto_endpoint, region_name=REGION)
    return aws


def outputs_after_a_change_set(monkeypatch) -> None:
    """moto (in this process, serving on 127.0.0.1) leaves a stack's outputs as they were when it executes
    a change set; CloudFormation evaluates them, which the hand-over reads (DescribeStacks, Outputs)."""
    from moto.cloudformation import models

    apply = models.ChangeSet.apply

    def apply_and_evaluate_outputs(change_set) -> None:
        apply(change_set)
        change_set.stack.output_map = models.OutputMap(change_set.stack.resource_map, change_set.template_dict,
                                                       change_set.stack.stack_id)

    monkeypatch.setattr(models.ChangeSet, "apply", apply_and_evaluate_outputs)


def project_with(tmp_path, values: dict[str, str]):
    templates = {"main.yaml": main_template(), "app.yaml": app_template(),
                 "edge-us-east-1.yaml": companion_template()}
    return write_project(tmp_path, templates, {"ProjectName": PROJECT_NAME, "EnvironmentName": ENV, **values})


def threetier(project, aws, *argv, region: str = REGION) -> int:
    return cli.main(["--project-dir", str(project), *argv, "--region", region, "--endpoint-url", aws.endpoint])


def stack_names(cfn) -> list[str]:
    return sorted(s["StackName"] for s in cfn.describe_stacks()["Stacks"])


def test_deploy_creates_the_companion_in_us_east_1_first_and_passes_its_outputs(tmp_path, aws, capsys):
    project = project_with(tmp_path, EDGE_VALUES)

    assert threetier(project, aws, "deploy", ENV, "--bucket", BUCKET, "--yes") == 0

    out, err = capsys.readouterr()
    assert stack_names(aws.east) == [COMPANION]
    assert stack_names(aws.eu) == [STACK_NAME]
    # The companion first, then the main stack.
    assert out.index(f"Stack {COMPANION}: CREATE_COMPLETE") < out.index(f"Stack {STACK_NAME}: CREATE_COMPLETE")
    assert f"creating a change set (CREATE) for stack {COMPANION} (us-east-1)" in err
    assert f"WebAclArn: {WEB_ACL}, from stack {COMPANION} (us-east-1)" in err
    # What the companion was sent: both switches on, the domain and its zone.
    switches = aws.ssm.get_parameter(Name=f"/{PROJECT_NAME}/companion")["Parameter"]["Value"]
    assert switches == f"true,true,example.com,{ZONE}"
    # What the main stack was given.
    given = {name: aws.eu_ssm.get_parameter(Name=f"/{PROJECT_NAME}/{name}")["Parameter"]["Value"]
             for name in ("CloudFrontCertificateArn", "WebAclArn")}
    assert given == {"CloudFrontCertificateArn": f"given:{CERTIFICATE}", "WebAclArn": f"given:{WEB_ACL}"}


def test_only_waf_asks_the_companion_for_the_web_acl_only(tmp_path, aws, capsys):
    project = project_with(tmp_path, {"CloudFrontEnabled": "true", "WafEnabled": "true"})

    assert threetier(project, aws, "deploy", ENV, "--bucket", BUCKET, "--yes") == 0

    assert aws.ssm.get_parameter(Name=f"/{PROJECT_NAME}/companion")["Parameter"]["Value"] == "false,true,,"
    given = {name: aws.eu_ssm.get_parameter(Name=f"/{PROJECT_NAME}/{name}")["Parameter"]["Value"]
             for name in ("CloudFrontCertificateArn", "WebAclArn")}
    assert given == {"CloudFrontCertificateArn": "given:", "WebAclArn": f"given:{WEB_ACL}"}


@pytest.mark.parametrize("values,region", [
    (EDGE_VALUES, "us-east-1"),  # in us-east-1 the dns and edge stacks make both
    ({"CloudFrontEnabled": "true"}, REGION),  # no domain, no WAF: nothing from us-east-1
    ({**EDGE_VALUES, "CloudFrontCertificateArn": CERTIFICATE, "WebAclArn": WEB_ACL}, REGION),  # the file's own
])
def test_no_companion_when_nothing_needs_one(tmp_path, aws, capsys, values, region):
    project = project_with(tmp_path, values)
    if region == "us-east-1":
        bucket = "templates-bucket"
    else:
        bucket = BUCKET

    assert threetier(project, aws, "deploy", ENV, "--bucket", bucket, "--yes", region=region) == 0

    assert COMPANION not in stack_names(aws.east)
    assert "companion" not in capsys.readouterr().out


def test_plan_shows_the_companions_change_set_and_waits_for_its_outputs(tmp_path, aws, capsys):
    project = project_with(tmp_path, EDGE_VALUES)

    assert threetier(project, aws, "plan", ENV, "--bucket", BUCKET) == 0

    out, err = capsys.readouterr()
    assert f"Change set for stack {COMPANION} (CREATE):" in out
    assert "Add     Switches    AWS::SSM::Parameter" in out
    assert "it gives the main stack CloudFrontCertificateArn and WebAclArn" in out
    assert (f"The main stack's change set needs CloudFrontCertificateArn and WebAclArn from stack {COMPANION} "
            f"(us-east-1), which does not have them yet: `threetier deploy {ENV}` creates the companion first, "
            "then plans the main stack.") in err
    [stack] = aws.east.describe_stacks(StackName=COMPANION)["Stacks"]
    assert stack["StackStatus"] == "REVIEW_IN_PROGRESS"  # planned, never executed
    assert stack_names(aws.eu) == []


def test_plan_after_a_deploy_plans_the_main_stack_with_the_companions_outputs(tmp_path, aws, capsys):
    project = project_with(tmp_path, EDGE_VALUES)
    threetier(project, aws, "deploy", ENV, "--bucket", BUCKET, "--yes")
    capsys.readouterr()

    assert threetier(project, aws, "plan", ENV, "--bucket", BUCKET) == 0

    out, err = capsys.readouterr()
    assert f"Stack {COMPANION} (us-east-1): no changes." in err
    assert f"CloudFrontCertificateArn: {CERTIFICATE}, from stack {COMPANION} (us-east-1)" in err
    assert "No changes." in out


def test_delete_removes_the_main_stack_then_the_companion(tmp_path, aws, capsys):
    project = project_with(tmp_path, EDGE_VALUES)
    threetier(project, aws, "deploy", ENV, "--bucket", BUCKET, "--yes")
    capsys.readouterr()

    assert threetier(project, aws, "delete", ENV, "--yes") == 0

    out = capsys.readouterr().out
    assert out.index(f"Stack {STACK_NAME}: DELETE_COMPLETE") < out.index(f"Stack {COMPANION}: DELETE_COMPLETE")
    assert stack_names(aws.eu) == [] and stack_names(aws.east) == []


def test_delete_of_a_protected_environment_refuses_the_companion_too(tmp_path, aws, capsys):
    """A companion left without its main stack: delete guards it as it guards the main stack."""
    project = project_with(tmp_path, EDGE_VALUES)
    aws.east.create_stack(StackName=COMPANION, TemplateBody=(project / "output" / "edge-us-east-1.yaml").read_text(),
                          Parameters=[{"ParameterKey": "ProjectName", "ParameterValue": PROJECT_NAME}])
    (project / "threetier.toml").write_text("[dev]\nprotected = true\n")

    assert threetier(project, aws, "delete", ENV, "--yes") == 1

    out, err = capsys.readouterr()
    assert f"Stack {STACK_NAME} does not exist in {REGION}: nothing to delete." in out
    assert f"Not deleting stack {COMPANION}: dev is a protected environment" in err
    assert stack_names(aws.east) == [COMPANION]

    assert threetier(project, aws, "delete", ENV, "--yes", "--disable-termination-protection") == 0

    assert f"Stack {COMPANION}: DELETE_COMPLETE" in capsys.readouterr().out
    assert stack_names(aws.east) == []


def test_deploy_stops_before_the_main_stack_when_the_companion_gives_no_outputs(tmp_path, aws, capsys, monkeypatch):
    from moto.cloudformation import models

    monkeypatch.setattr(models.ChangeSet, "apply", lambda change_set: None)  # outputs never evaluated
    project = project_with(tmp_path, EDGE_VALUES)

    assert threetier(project, aws, "deploy", ENV, "--bucket", BUCKET, "--yes") == 1

    assert (f"threetier deploy: stack {COMPANION} (us-east-1) has no CloudFrontCertificateArn or WebAclArn output: "
            "nothing was sent to the main stack") in capsys.readouterr().err
    assert stack_names(aws.eu) == []


def test_plan_json_keeps_stdout_for_the_main_review_and_shows_the_companions_on_stderr(tmp_path, aws, capsys):
    import json

    project = project_with(tmp_path, EDGE_VALUES)
    threetier(project, aws, "deploy", ENV, "--bucket", BUCKET, "--yes")
    (project / "output" / "edge-us-east-1.yaml").write_text(
        (project / "output" / "edge-us-east-1.yaml").read_text().replace("Switches", "CompanionSwitches"))
    capsys.readouterr()

    assert threetier(project, aws, "plan", ENV, "--bucket", BUCKET, "--json") == 0

    out, err = capsys.readouterr()
    assert f"Change set for stack {COMPANION} (UPDATE):" in err
    assert "Add     CompanionSwitches" in err and "Remove  Switches" in err
    assert json.loads(out)["stack"] == STACK_NAME
