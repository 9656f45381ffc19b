import importlib

import pytest
import yaml
from cfn_tools import load_yaml
from cfn_tools.odict import ODict

import templates
from threetier import parameters as P
from threetier.deploy import package as packaging
from threetier.parameters.evaluate import Evaluation, rules_refusing_a_create


def test_root_parameters_have_groups(root_template):
    root = root_template.to_dict()
    interface = root["Metadata"]["AWS::CloudFormation::Interface"]
    grouped = [name for group in interface["ParameterGroups"] for name in group["Parameters"]]
    assert sorted(grouped) == sorted(root["Parameters"]), "every parameter is in exactly one group"
    assert len(grouped) == len(set(grouped))
    assert "ParameterLabels" not in interface, "the console shows the names (threetier.parameters.param)"

    assert [g["Label"]["default"] for g in interface["ParameterGroups"]] == [
        P.GROUP_PROJECT, P.GROUP_SIZE, P.GROUP_EDGE, P.GROUP_NOTIFICATIONS, P.GROUP_APP, P.GROUP_BASTION,
        P.GROUP_IAM, P.GROUP_ADVANCED_SERVERS, P.GROUP_ADVANCED_DATA, P.GROUP_ADVANCED_ALARMS]


def test_essentials_come_first_and_bastion_settings_together(root_template):
    groups = {g["Label"]["default"]: g["Parameters"]
              for g in root_template.to_dict()["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]}
    assert groups[P.GROUP_PROJECT] == ["ProjectName", "EnvironmentName"]
    assert groups[P.GROUP_NOTIFICATIONS] == ["MonitoringEnabled", "AlarmEmail"]
    assert groups[P.GROUP_BASTION] == ["BastionCount", "AdminCidr", "BastionKeyPairName", "BastionInstanceType"]
    assert {"DomainName", "HostedZoneId", "CloudFrontEnabled"} <= set(groups[P.GROUP_EDGE])
    assert set(groups[P.GROUP_ADVANCED_ALARMS]) == {p.name for p in P.THRESHOLDS}


def test_root_parameters_are_short_and_their_long_text_is_in_the_readme(root_template, project):
    """The root shows a hint under each console label; the full description is in parameters/README.md.
    A ConstraintDescription only where CloudFormation would otherwise print a regular expression."""
    readme = (project / "parameters" / "README.md").read_text()
    for name, spec in root_template.to_dict()["Parameters"].items():
        assert len(spec.get("Description", "")) <= 90, name
        assert ("ConstraintDescription" in spec) == ("AllowedPattern" in spec), name
        assert f"| `{name}` |" in readme, name


def test_nested_stacks_repeat_no_root_description(network_dict):
    parameters = network_dict["Parameters"]
    assert all("Description" not in parameters[p.name] for p in (P.VPC_PREFIX_LENGTH, *P.NETWORK_SHARED)), \
        "the root and parameters/README.md explain them"
    # Wired, not a root parameter: the root joins VpcNetworkAddress/VpcPrefixLength.
    assert "Description" in parameters["VpcCidr"]


# Issue 18: at most 40,000 bytes (from 61,827), so that the root keeps well under the
# request limit below however it is packaged. Short console hints, constraint text only
# for patterns, the AWS documentation's YAML style (threetier.emit.cfnyaml), and the Rules of
# advanced settings in the network stack (threetier.parameters.rules) keep it there.
ROOT_SIZE_LIMIT = 40_000
# `aws cloudformation deploy` without --s3-bucket sends the template in the request,
# which CloudFormation limits to 51,200 bytes.
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
TEMPLATE_BODY_LIMIT = 51_200
# The longest URL a nested stack can get: 63-character bucket, a prefix, a sha256 key.
LONGEST_URL = "https://s3.ap-southeast-2.amazonaws.com/" + "b" * 63 + "/threetier/app-" + "0" * 64 + ".yaml"


def test_the_root_stays_small(project):
    text = (project / "output" / "main.yaml").read_text()
    assert len(text.encode()) <= ROOT_SIZE_LIMIT
    template = load_yaml(text)
    urls = {resource["Properties"]["TemplateURL"]: LONGEST_URL for resource in template["Resources"].values()}
    packaged = packaging.rewrite_template_urls(text, template, urls)
    assert len(packaged.encode()) <= TEMPLATE_BODY_LIMIT, "as `threetier package` writes it"
    # `aws cloudformation package` parses and re-dumps the root: PyYAML block style, long-form functions.
    for resource in template["Resources"].values():
        resource["Properties"]["TemplateURL"] = LONGEST_URL
    assert len(aws_cli_dump(template).encode()) <= TEMPLATE_BODY_LIMIT, "as `aws cloudformation package` writes it"


def aws_cli_dump(template) -> str:
    """What the AWS CLI's `cloudformation package` writes (awscli customizations yamlhelper.yaml_dump)."""
    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data):
            return True

    Dumper.add_representer(ODict, lambda dumper, data: dumper.represent_dict(data.items()))
    return yaml.dump(template, default_flow_style=False, Dumper=Dumper)


def test_defaults_are_one_cheap_environment_and_the_description_says_where_the_others_are(root_template):
    root = root_template.to_dict()
    defaults = {name: spec.get("Default") for name, spec in root["Parameters"].items()}
    assert defaults["EnvironmentName"] == "dev"
    assert (defaults["NumberOfAzs"], defaults["SingleNatGateway"], defaults["DbMultiAz"]) == ("2", "true", "false")
    assert (defaults["AsgMinSize"], defaults["AsgMaxSize"]) == ("1", "2") and "AsgDesiredCapacity" not in defaults
    assert defaults["DbInstanceClass"] == "db.t4g.micro" and defaults["DbReplicaEnabled"] == "false"
    assert "parameters/prod.json" in root["Description"]


def test_nested_stacks_use_relative_paths_of_generated_files(root_template, project):
    stacks = {k: r for k, r in root_template.to_dict()["Resources"].items()
              if r["Type"] == "AWS::CloudFormation::Stack"}
    assert stacks
    for logical_id, stack in stacks.items():
        url = stack["Properties"]["TemplateURL"]
        assert url in templates.STACKS and url != "main.yaml", logical_id
        assert (project / "output" / url).is_file()
    # Every root resource is such a stack, so W3002 is suppressed once for the template.
    assert set(stacks) == set(root_template.to_dict()["Resources"])
    assert root_template.to_dict()["Metadata"]["cfn-lint"] == {"config": {"ignore_checks": ["W3002"]}}
    for logical_id, stack in stacks.items():
        assert (stack.get("DeletionPolicy"), stack.get("UpdateReplacePolicy")) == ("Delete", "Delete"), logical_id


def test_root_passes_every_parameter_the_network_stack_declares(root_template, network_dict):
    network = network_dict
    passed = root_template.to_dict()["Resources"]["NetworkStack"]["Properties"]["Parameters"]
    required = {name for name, spec in network["Parameters"].items() if "Default" not in spec}
    assert required <= set(passed)
    assert set(passed) <= set(network["Parameters"])
    assert set(passed) == {p.name for p in P.PROJECT + P.NETWORK_STACK} | {"VpcCidr"}
    # The root joins the block from its two parts; the prefix (and InstanceType,
    # CpuCredits) come along for the network stack's Rules.
    assert passed["VpcCidr"] == {"Fn::Sub": "${VpcNetworkAddress}/${VpcPrefixLength}"}


@pytest.mark.parametrize("prefix,bits,ok", [
    ("16", "12", True), ("20", "8", True), ("23", "5", True),
    ("17", "12", False), ("20", "9", False), ("23", "6", False),
])
def test_nine_subnets_must_fit_the_vpc(network_dict, prefix, bits, ok):
    """Refused by the first nested stack before any resource is created (the root has no room)."""
    assert rule_holds(network_dict, "NineSubnetsFitTheVpc", VpcPrefixLength=prefix, SubnetCidrBits=bits) is ok


def test_root_outputs_are_what_a_person_needs_after_a_deploy(root_template):
    outputs = root_template.to_dict()["Outputs"]
    assert {"SiteUrl", "NextSteps", "AppSecretArn", "DbEndpointAddress", "AlarmTopicArn",
            "NameServers"} <= set(outputs)
    assert outputs["AppSecretArn"]["Value"] == {"Fn::GetAtt": ["DataStack", "Outputs.AppSecretArn"]}


def test_next_steps_name_the_site_and_how_to_set_the_api_key(root_template):
    root = root_template.to_dict()
    values = {"DomainName": "example.com", "HostedZoneId": "Z0123456789ABCDEFGHIJ", "SiteSubdomain": "www"}
    text, variables = Evaluation(root, values).resolve(root["Outputs"]["NextSteps"]["Value"])["Fn::Sub"]
    # The console lists SiteUrl beside it; its value is not repeated (the root's size, issue 18).
    assert "Open SiteUrl" in text and "SiteUrl" in root["Outputs"]
    assert "API_KEY" in text and "Secrets Manager console" in text and "keep SECRET_KEY" in text
    assert "secret ${Secret}" in text
    assert variables["Secret"] == {"Fn::GetAtt": ["DataStack", "Outputs.AppSecretArn"]}


def test_stacks_are_wired_outputs_to_parameters(root_template):
    resources = root_template.to_dict()["Resources"]
    security = resources["SecurityStack"]["Properties"]["Parameters"]
    data = resources["DataStack"]["Properties"]["Parameters"]
    assert security["VpcId"] == {"Fn::GetAtt": ["NetworkStack", "Outputs.VpcId"]}
    assert data["DataSubnetIds"] == {"Fn::GetAtt": ["NetworkStack", "Outputs.DataSubnetIds"]}
    assert data["AppSubnetIds"] == {"Fn::GetAtt": ["NetworkStack", "Outputs.AppSubnetIds"]}
    assert data["DbSecurityGroupId"] == {"Fn::GetAtt": ["SecurityStack", "Outputs.DbSecurityGroupId"]}
    assert data["EfsSecurityGroupId"] == {"Fn::GetAtt": ["SecurityStack", "Outputs.EfsSecurityGroupId"]}


@pytest.mark.parametrize("module", ["network", "security", "data", "app", "admin"])
def test_root_passes_exactly_the_parameters_each_nested_stack_declares(root_template, module):
    nested = importlib.import_module(f"templates.{module}").build().to_dict()
    stack = next(r for r in root_template.to_dict()["Resources"].values()
                 if r["Type"] == "AWS::CloudFormation::Stack" and r["Properties"]["TemplateURL"] == f"{module}.yaml")
    passed = set(stack["Properties"]["Parameters"])
    required = {name for name, spec in nested["Parameters"].items() if "Default" not in spec}
    assert required <= passed <= set(nested["Parameters"])


def rule_holds(root: dict, rule: str, **values) -> bool:
    return not Evaluation(root, values).broken_assertions(root["Rules"][rule])


@pytest.mark.parametrize("count,cidr,ok", [
    ("0", "", True),
    ("1", "203.0.113.0/24", True),
    ("1", "", False),
    ("2", "0.0.0.0/0", False),
])
def test_bastions_need_a_restricted_admin_cidr(root_template, count, cidr, ok):
    root = root_template.to_dict()
    assert rule_holds(root, "BastionsNeedARestrictedAdminCidr", BastionCount=count, AdminCidr=cidr) is ok
    assert "AdminCidr" in root["Rules"]["BastionsNeedARestrictedAdminCidr"]["Assertions"][0]["AssertDescription"]


@pytest.mark.parametrize("instance_type,credits,ok", [
    ("t3.small", "unlimited", True),
    ("t4g.medium", "standard", True),
    ("m6i.large", "", True),
    ("m6i.large", "unlimited", False),
    ("c7g.xlarge", "standard", False),
])
def test_cpu_credits_only_for_t_instance_types(network_dict, instance_type, credits, ok):
    """A Rule of the first nested stack: it refuses before any resource is created."""
    assert rule_holds(network_dict, "CpuCreditsOnlyForTInstanceTypes", InstanceType=instance_type,
                      CpuCredits=credits) is ok


def test_the_launch_template_sends_the_credit_option_only_when_one_is_chosen():
    app = importlib.import_module("templates.app").build().to_dict()

    def credits(value):
        resources = Evaluation(app, {"CpuCredits": value}).resources()
        return resources["AppLaunchTemplate"]["Properties"]["LaunchTemplateData"].get("CreditSpecification")

    assert credits("standard") == {"CpuCredits": "standard"}
    assert credits("") is None


@pytest.mark.parametrize("region,logs,ok", [
    ("eu-west-1", "true", True),
    ("eu-south-2", "true", True),  # a newer region: the log delivery service principal
    ("us-gov-west-1", "true", False),
    ("cn-north-1", "true", False),
    ("cn-north-1", "false", True),
])
def test_access_logs_are_refused_where_the_log_delivery_table_has_no_answer(root_template, network_dict,
                                                                           region, logs, ok):
    refused = rules_refusing_a_create(root_template.to_dict(), network_dict, {"AlbAccessLogs": logs}, region)
    assert (refused == []) is ok
    assert refused in ([], ["AccessLogsNeedACommercialRegion"])


@pytest.mark.parametrize("values,region,broken", [
    ({"NumberOfAzs": "3"}, "us-west-1", "ThreeAzsNeedARegionWithThree"),
    ({"DbEngine": "mysql", "DbPerformanceInsights": "true", "DbInstanceClass": "db.t4g.micro"}, "us-east-1",
     "PerformanceInsightsNeedsALargerMySqlClass"),
    ({"DbEngine": "mysql", "DbPerformanceInsights": "true", "DbInstanceClass": "db.m6g.large",
      "DbReplicaEnabled": "true", "DbReplicaInstanceClass": "db.t3.small"}, "us-east-1",
     "PerformanceInsightsNeedsALargerMySqlClass"),
    ({"InstanceType": "m6i.large", "CpuCredits": "unlimited"}, "us-east-1", "CpuCreditsOnlyForTInstanceTypes"),
    ({"VpcPrefixLength": "20", "SubnetCidrBits": "9"}, "us-east-1", "NineSubnetsFitTheVpc"),
])
def test_the_network_stack_s_rules_get_their_values_from_the_root(root_template, network_dict, values, region, broken):
    """The checks that do not fit in the root refuse in the first nested stack, with what the root passes."""
    assert rules_refusing_a_create(root_template.to_dict(), network_dict, values, region) == [broken]
    assert broken in network_dict["Rules"] and broken not in root_template.to_dict()["Rules"]


def test_the_rules_of_what_a_console_user_fills_in_are_the_root_s(root_template, network_dict):
    """They refuse at once in the console; the network stack's only after the create has started."""
    assert set(root_template.to_dict()["Rules"]) == {
        "BastionsNeedARestrictedAdminCidr", "BastionsNeedAKeyPair", "CloudFrontNeedsItsPrefixList",
        "CloudFrontCertificateOutsideUsEast1", "CloudFrontWithoutDomainUsesHttpOrigin",
        "WafNeedsCloudFront", "InstanceTypeMatchesTheDefaultAmi"}
    assert not set(root_template.to_dict()["Rules"]) & set(network_dict["Rules"])


def test_rule_messages_say_where_a_console_user_finds_the_value(root_template):
    rules = root_template.to_dict()["Rules"]
    messages = {name: rule["Assertions"][0]["AssertDescription"] for name, rule in rules.items()}
    assert "VPC console, Managed prefix lists" in messages["CloudFrontNeedsItsPrefixList"]
    assert "EC2 console, Key pairs" in messages["BastionsNeedAKeyPair"]
    assert "ACM console of us-east-1" in messages["CloudFrontCertificateOutsideUsEast1"]
    assert not any("threetier" in message for message in messages.values()), "no CLI in the console"


def test_no_template_names_an_iam_resource_so_capability_iam_is_enough(project):
    """CAPABILITY_NAMED_IAM is needed only for named IAM resources; the wrapper and README ask
    for CAPABILITY_IAM only (no template uses a macro, so no CAPABILITY_AUTO_EXPAND)."""
    from threetier.deploy.changeset import CAPABILITIES

    naming_keys = {"RoleName", "InstanceProfileName", "ManagedPolicyName", "GroupName", "UserName"}
    # Not deployer-role.yaml: an administrator deploys it once per account, not the wrapper, and its
    # names are what people pass and attach (`${ProjectName}.deployer`, its caller policy).
    for path in sorted(set((project / "output").glob("*.yaml")) - {project / "output" / "deployer-role.yaml"}):
        for name, resource in load_yaml(path.read_text())["Resources"].items():
            if resource["Type"].startswith("AWS::IAM::"):
                assert not naming_keys & set(resource.get("Properties", {})), f"{path.name}: {name}"
    assert CAPABILITIES == ["CAPABILITY_IAM"]
    assert not any("Transform" in load_yaml(path.read_text()) for path in (project / "output").glob("*.yaml"))
