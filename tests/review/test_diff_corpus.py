"""`threetier diff` agrees with the change set CloudFormation returns, edit by edit.

Each edit changes the committed templates the way a pull request would, and
names the change set AWS returns for it, shaped like DescribeChangeSet's
`Changes` (ResourceChange: Action, LogicalResourceId, ResourceType,
Replacement, Details[].Target.RequiresRecreation). The behaviour of each
property is the "Update requires" of the CloudFormation reference page cited
with it. Where the offline diff cannot know (a value read from a parameter),
it may say less than "in place", never more.
"""

import copy

import pytest

from threetier.review import templatediff

REFERENCE = "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"


def change(action, logical_id, resource_type, replacement=None, source="DirectModification", **requires):
    """One entry of a DescribeChangeSet `Changes` list. A resource that names a replaced one
    is listed too, with ChangeSource ResourceReference: its new id is known only when the
    change set runs (Evaluation Dynamic), so a create-only property is Conditionally recreated."""
    resource_change = {"Action": action, "LogicalResourceId": logical_id, "ResourceType": resource_type}
    if action == "Modify":
        resource_change.update(Replacement=replacement, Scope=["Properties"], Details=[
            {"Target": {"Attribute": "Properties", "Name": name, "RequiresRecreation": level},
             "Evaluation": "Static" if source == "DirectModification" else "Dynamic", "ChangeSource": source}
            for name, level in requires.items()])
    return {"Type": "Resource", "ResourceChange": resource_change}


def reference(logical_id, resource_type, replacement, **requires):
    return change("Modify", logical_id, resource_type, replacement, source="ResourceReference", **requires)


DB_DEPENDENTS = [
    reference("DbAppSecretAttachment", "AWS::SecretsManager::SecretTargetAttachment", "False", TargetId="Never"),
    reference("DbMasterSecretAttachment", "AWS::SecretsManager::SecretTargetAttachment", "False", TargetId="Never"),
    reference("DbReplica", "AWS::RDS::DBInstance", "Conditional", SourceDBInstanceIdentifier="Conditionally"),
]


def set_property(file, logical_id, name, before, after):
    """An edit of one property, from a literal `before` to a literal `after`."""
    def edit(templates, which):
        properties = templates[file]["Resources"][logical_id].setdefault("Properties", {})
        value = before if which == "before" else after
        if value is None:
            properties.pop(name, None)
        else:
            properties[name] = value
    return edit


def remove_resource(file, logical_id):
    def edit(templates, which):
        if which == "after":
            del templates[file]["Resources"][logical_id]
    return edit


def add_nested_stack(templates, which):
    if which == "after":
        templates["main.yaml"]["Resources"]["AuditStack"] = {
            "Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "audit.yaml"}}
        templates["audit.yaml"] = {"Resources": {"AuditTopic": {"Type": "AWS::SNS::Topic", "Properties": {}}}}


def remove_output(templates, which):
    if which == "after":
        del templates["main.yaml"]["Outputs"]["AlbDnsName"]


LAUNCH_DATA_BEFORE = {"UserData": "IyEvYmluL2Jhc2gKZWNobyB2MQ==", "InstanceType": "t3.small"}
LAUNCH_DATA_AFTER = {"UserData": "IyEvYmluL2Jhc2gKZWNobyB2Mg==", "InstanceType": "t3.small"}

# (edit, file, the changes of its stack's change set, the page that says so); an edit
# that touches several stacks gives {file: changes} and no file.
CORPUS = {
    "database name": (
        set_property("data.yaml", "DbInstance", "DBName", "appdb", "shop"), "data.yaml",
        [change("Modify", "DbInstance", "AWS::RDS::DBInstance", "True", DBName="Always"), *DB_DEPENDENTS],
        REFERENCE + "aws-resource-rds-dbinstance.html#cfn-rds-dbinstance-dbname"),
    "engine version": (
        set_property("data.yaml", "DbInstance", "EngineVersion", "8.0", "8.4"), "data.yaml",
        [change("Modify", "DbInstance", "AWS::RDS::DBInstance", "False", EngineVersion="Never")],
        REFERENCE + "aws-resource-rds-dbinstance.html#cfn-rds-dbinstance-engineversion"),
    "database subnet group": (
        set_property("data.yaml", "DbInstance", "DBSubnetGroupName", "old-group", "new-group"), "data.yaml",
        [change("Modify", "DbInstance", "AWS::RDS::DBInstance", "True", DBSubnetGroupName="Always"),
         *DB_DEPENDENTS],
        REFERENCE + "aws-resource-rds-dbinstance.html#cfn-rds-dbinstance-dbsubnetgroupname"),
    "storage type": (
        set_property("data.yaml", "DbInstance", "StorageType", "gp2", "gp3"), "data.yaml",
        [change("Modify", "DbInstance", "AWS::RDS::DBInstance", "False", StorageType="Never")],
        REFERENCE + "aws-resource-rds-dbinstance.html#cfn-rds-dbinstance-storagetype"),
    "database storage size": (
        set_property("data.yaml", "DbInstance", "AllocatedStorage", "20", "50"), "data.yaml",
        [change("Modify", "DbInstance", "AWS::RDS::DBInstance", "False", AllocatedStorage="Never")],
        REFERENCE + "aws-resource-rds-dbinstance.html#cfn-rds-dbinstance-allocatedstorage"),
    "EFS performance mode": (
        set_property("data.yaml", "EfsFileSystem", "PerformanceMode", "generalPurpose", "maxIO"), "data.yaml",
        [change("Modify", "EfsFileSystem", "AWS::EFS::FileSystem", "True", PerformanceMode="Always"),
         *[reference(name, resource_type, "Conditional", FileSystemId="Conditionally")
           for name, resource_type in (("EfsAppAccessPoint", "AWS::EFS::AccessPoint"),
                                       ("EfsMountTarget1", "AWS::EFS::MountTarget"),
                                       ("EfsMountTarget2", "AWS::EFS::MountTarget"),
                                       ("EfsMountTarget3", "AWS::EFS::MountTarget"))]],
        REFERENCE + "aws-resource-efs-filesystem.html#cfn-efs-filesystem-performancemode"),
    "security group description": (
        set_property("security.yaml", "DbSecurityGroup", "GroupDescription", "Database", "Database tier"),
        "security.yaml",
        [change("Modify", "DbSecurityGroup", "AWS::EC2::SecurityGroup", "True", GroupDescription="Always"),
         reference("AppSecurityGroup", "AWS::EC2::SecurityGroup", "False", SecurityGroupEgress="Never"),
         reference("DbRotationSecurityGroup", "AWS::EC2::SecurityGroup", "False", SecurityGroupEgress="Never"),
         reference("DbFromAppIngress", "AWS::EC2::SecurityGroupIngress", "Conditional", GroupId="Conditionally"),
         reference("DbFromRotationIngress", "AWS::EC2::SecurityGroupIngress", "Conditional",
                   GroupId="Conditionally")],
        REFERENCE + "aws-resource-ec2-securitygroup.html#cfn-ec2-securitygroup-groupdescription"),
    "an ingress rule's port": (
        set_property("security.yaml", "AlbHttpIngress", "FromPort", 80, 8080), "security.yaml",
        [change("Modify", "AlbHttpIngress", "AWS::EC2::SecurityGroupIngress", "True", FromPort="Always")],
        REFERENCE + "aws-resource-ec2-securitygroupingress.html#cfn-ec2-securitygroupingress-fromport"),
    "launch template user data": (
        set_property("app.yaml", "AppLaunchTemplate", "LaunchTemplateData", LAUNCH_DATA_BEFORE, LAUNCH_DATA_AFTER),
        "app.yaml",
        [change("Modify", "AppLaunchTemplate", "AWS::EC2::LaunchTemplate", "False", LaunchTemplateData="Never")],
        REFERENCE + "aws-resource-ec2-launchtemplate.html#cfn-ec2-launchtemplate-launchtemplatedata"),
    "Auto Scaling group sizes": (
        set_property("app.yaml", "AppAutoScalingGroup", "MaxSize", "6", "8"), "app.yaml",
        [change("Modify", "AppAutoScalingGroup", "AWS::AutoScaling::AutoScalingGroup", "False", MaxSize="Never")],
        REFERENCE + "aws-resource-autoscaling-autoscalinggroup.html#cfn-autoscaling-autoscalinggroup-maxsize"),
    "load balancer scheme": (
        set_property("app.yaml", "LoadBalancer", "Scheme", "internet-facing", "internal"), "app.yaml",
        [change("Modify", "LoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer", "True", Scheme="Always"),
         *[reference(name, "AWS::ElasticLoadBalancingV2::Listener", "Conditional", LoadBalancerArn="Conditionally")
           for name in ("HttpListener", "HttpsListener")]],
        REFERENCE + "aws-resource-elasticloadbalancingv2-loadbalancer.html#cfn-elasticloadbalancingv2-loadbalancer-scheme"),
    "KMS key policy": (
        set_property("monitoring.yaml", "AlarmTopicKey", "KeyPolicy", {"Version": "2012-10-17", "Statement": []},
                     {"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}), "monitoring.yaml",
        [change("Modify", "AlarmTopicKey", "AWS::KMS::Key", "False", KeyPolicy="Never")],
        REFERENCE + "aws-resource-kms-key.html#cfn-kms-key-keypolicy"),
    "a secret's name": (
        set_property("data.yaml", "AppSecret", "Name", "shop/app", "shop/app-v2"), "data.yaml",
        [change("Modify", "AppSecret", "AWS::SecretsManager::Secret", "True", Name="Always")],
        REFERENCE + "aws-resource-secretsmanager-secret.html#cfn-secretsmanager-secret-name"),
    "log retention": (
        set_property("network.yaml", "FlowLogGroup", "RetentionInDays", 30, 90), "network.yaml",
        [change("Modify", "FlowLogGroup", "AWS::Logs::LogGroup", "False", RetentionInDays="Never")],
        REFERENCE + "aws-resource-logs-loggroup.html#cfn-logs-loggroup-retentionindays"),
    "a log group's name": (
        set_property("network.yaml", "FlowLogGroup", "LogGroupName", "/flow/a", "/flow/b"), "network.yaml",
        [change("Modify", "FlowLogGroup", "AWS::Logs::LogGroup", "True", LogGroupName="Always"),
         reference("FlowLogRole", "AWS::IAM::Role", "False", Policies="Never"),
         reference("VpcFlowLog", "AWS::EC2::FlowLog", "Conditional", LogGroupName="Conditionally")],
        REFERENCE + "aws-resource-logs-loggroup.html#cfn-logs-loggroup-loggroupname"),
    "a removed alarm": (
        remove_resource("monitoring.yaml", "DbCpuAlarm"), "monitoring.yaml",
        [change("Remove", "DbCpuAlarm", "AWS::CloudWatch::Alarm")],
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-changesets.html"),
    "a new nested stack": (
        add_nested_stack, None,
        {"main.yaml": [change("Add", "AuditStack", "AWS::CloudFormation::Stack")],
         # the nested stack's own change set
         "audit.yaml": [change("Add", "AuditTopic", "AWS::SNS::Topic")]},
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/change-sets-for-nested-stacks.html"),
    "a removed output": (
        remove_output, "main.yaml", [],
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/outputs-section-structure.html"),
}

# What the offline answer may be for what AWS answers: the same, or more cautious.
AT_LEAST = {"True": {"True"}, "Conditional": {"Conditional", "True"}, "False": {"False"}}


@pytest.fixture(scope="module")
def committed(project):
    return templatediff.templates_now(project)


def run_edit(committed, edit):
    before, after = copy.deepcopy(committed), copy.deepcopy(committed)
    edit(before, "before")
    edit(after, "after")
    return templatediff.diff_templates(before, after)


def test_the_corpus_is_large_enough_and_cites_its_sources():
    assert len(CORPUS) >= 15
    assert all(source.startswith("https://docs.aws.amazon.com/") for *_, source in CORPUS.values())


@pytest.mark.parametrize("title", sorted(CORPUS))
def test_diff_agrees_with_the_change_set(committed, title):
    edit, file, expected, _source = CORPUS[title]
    change_sets = expected if isinstance(expected, dict) else {file: expected}
    diff = run_edit(committed, edit)
    found = {(r.file, r.change.logical_id): r for r in diff.resources}
    wanted = [(stack_file, entry) for stack_file, entries in change_sets.items() for entry in entries]
    assert sorted(found) == sorted((f, e["ResourceChange"]["LogicalResourceId"]) for f, e in wanted), title
    for stack_file, entry in wanted:
        aws = entry["ResourceChange"]
        ours = found[(stack_file, aws["LogicalResourceId"])]
        assert (ours.change.action, ours.change.resource_type) == (aws["Action"], aws["ResourceType"])
        if aws["Action"] != "Modify":
            continue
        assert ours.change.replacement in AT_LEAST[aws["Replacement"]], title
        levels = {p.name: p.requires_recreation for p in ours.properties}
        for detail in aws["Details"]:
            target = detail["Target"]
            assert levels[target["Name"]] == target["RequiresRecreation"], (title, target["Name"])


def test_a_removed_output_is_a_section_change_not_a_resource(committed):
    diff = run_edit(committed, remove_output)
    assert diff.resources == [] and diff.sections == ["main.yaml Outputs: removed AlbDnsName"]


def test_a_value_read_from_a_parameter_is_only_conditionally_replaced(committed):
    """The change set knows the parameter values; the offline diff does not, so it says Conditional."""
    diff = run_edit(committed, set_property("data.yaml", "DbInstance", "DBName", {"Ref": "DbName"}, "shop"))
    (db,) = diff.resources
    assert db.change.replacement == "Conditional"
    assert {p.name: p.requires_recreation for p in db.properties} == {"DBName": "Conditionally"}


def test_a_changed_parameter_default_reaches_the_properties_that_read_it(committed):
    def new_default(templates, which):
        if which == "after":
            for file in ("main.yaml", "data.yaml"):
                templates[file]["Parameters"]["DbName"]["Default"] = "shop"
    diff = run_edit(committed, new_default)
    db = next(r for r in diff.resources if r.change.logical_id == "DbInstance")
    assert db.change.replacement == "Conditional" and db.properties[0].name == "DBName"


def test_a_type_without_a_schema_is_unknown_never_in_place(committed):
    def odd(templates, which):
        templates["monitoring.yaml"]["Resources"]["Legacy"] = {
            "Type": "AWS::Example::NoSchema", "Properties": {"Size": "1" if which == "before" else "2"}}
    (legacy,) = run_edit(committed, odd).resources
    assert legacy.change.replacement == "Unknown"


def test_who_names_a_replaced_resource_may_be_replaced_too(committed):
    diff = run_edit(committed, set_property("security.yaml", "DbSecurityGroup", "GroupDescription", "a", "b"))
    rows = {r.change.logical_id: r.change.replacement for r in diff.resources}
    assert rows["DbSecurityGroup"] == "True"
    # GroupId of an ingress rule is create-only: a new group means a new rule.
    assert rows["DbFromAppIngress"] == "Conditional"
