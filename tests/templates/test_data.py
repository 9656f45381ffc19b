import importlib
import json
import re

import pytest

import templates
from templates import data
from threetier.parameters import paramfile
from threetier.parameters.evaluate import Evaluation


@pytest.fixture(scope="module")
def data_dict():
    return data.build().to_dict()


def env_values(project, template: dict, env: str) -> dict:
    values = paramfile.load(paramfile.path_for(project, env))
    return {k: v for k, v in values.items() if k in template["Parameters"]}


def resources(template: dict, **values) -> dict:
    return Evaluation(template, values).resources()


def test_prod_database_is_multi_az_encrypted_protected_and_private(project, data_dict):
    db = resources(data_dict, **env_values(project, data_dict, "prod"))["DbInstance"]
    props = db["Properties"]
    assert props["MultiAZ"] == "true"
    assert props["DeletionProtection"] == "true"
    assert props["StorageEncrypted"] is True
    assert props["StorageType"] == "gp3"
    assert int(props["MaxAllocatedStorage"]) > int(props["AllocatedStorage"])
    assert props["PubliclyAccessible"] is False
    assert props["CopyTagsToSnapshot"] is True and props["AutoMinorVersionUpgrade"] is True
    assert int(props["BackupRetentionPeriod"]) >= 7
    assert props["DBSubnetGroupName"] == {"Ref": "DbSubnetGroup"}
    assert props["VPCSecurityGroups"] == [{"Ref": "DbSecurityGroupId"}]
    assert db["DeletionPolicy"] == db["UpdateReplacePolicy"] == "Snapshot"
    assert "AvailabilityZone" not in props, "a Multi-AZ primary lets RDS place the pair"


def test_subnet_group_uses_the_data_subnets(data_dict):
    group = data_dict["Resources"]["DbSubnetGroup"]["Properties"]
    assert group["SubnetIds"] == {"Ref": "DataSubnetIds"}


@pytest.mark.parametrize("engine,port,version,logs", [
    ("mysql", "3306", "8.4", ["error", "slowquery"]),
    ("postgres", "5432", "16", ["postgresql", "upgrade"]),
])
def test_engine_choice_sets_engine_version_port_and_logs(data_dict, engine, port, version, logs):
    props = resources(data_dict, DbEngine=engine)["DbInstance"]["Properties"]
    assert (props["Engine"], props["EngineVersion"], props["Port"]) == (engine, version, port)
    assert props["EnableCloudwatchLogsExports"] == logs


def test_master_password_is_generated_in_a_secret_and_reaches_rds_by_dynamic_reference(data_dict):
    # Not ManageMasterUserPassword: RDS cannot create a replica of a source whose
    # password Secrets Manager manages (lint rule E9010).
    props = data_dict["Resources"]["DbInstance"]["Properties"]
    assert "ManageMasterUserPassword" not in props
    # A new database (no DbRestoreSnapshot); a restored one keeps the snapshot's users (test_backup.py).
    assert props["MasterUserPassword"] == {"Fn::If": ["RestoresSnapshot", {"Ref": "AWS::NoValue"}, {
        "Fn::Sub": "{{resolve:secretsmanager:${DbMasterSecret}:SecretString:password}}"}]}
    assert props["MasterUsername"] == {"Fn::If": ["RestoresSnapshot", {"Ref": "AWS::NoValue"},
                                                  {"Ref": "DbMasterUsername"}]}
    secret = data_dict["Resources"]["DbMasterSecret"]
    assert secret["DeletionPolicy"] == secret["UpdateReplacePolicy"] == "Retain", "the final snapshot needs it"
    generated = secret["Properties"]["GenerateSecretString"]
    assert generated["SecretStringTemplate"] == {"Fn::Sub": '{"username": "${DbMasterUsername}"}'}
    assert generated["GenerateStringKey"] == "password"
    assert generated["PasswordLength"] >= 32 and generated["ExcludePunctuation"] is True
    attachment = data_dict["Resources"]["DbMasterSecretAttachment"]["Properties"]
    assert attachment == {"SecretId": {"Ref": "DbMasterSecret"}, "TargetId": {"Ref": "DbInstance"},
                          "TargetType": "AWS::RDS::DBInstance"}
    # Consumers get the ARN once the connection details are attached.
    assert data_dict["Outputs"]["DbMasterSecretArn"]["Value"] == {"Ref": "DbMasterSecretAttachment"}


def values_of(node, key: str) -> list:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == key] + [x for v in node.values() for x in values_of(v, key)]
    if isinstance(node, list):
        return [x for v in node for x in values_of(v, key)]
    return []


def keys_anywhere(node) -> set:
    if isinstance(node, dict):
        return set(node) | set().union(*(keys_anywhere(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(keys_anywhere(v) for v in node))
    return set()


@pytest.mark.parametrize("module", sorted(templates.STACKS.values()))
def test_no_parameter_or_property_carries_a_password(module):
    template = importlib.import_module(f"templates.{module}").build().to_dict()
    assert not {"SecretString", "Password", "NoEcho"} & keys_anywhere(template)
    # A password property holds only a dynamic reference, resolved by CloudFormation at deploy time.
    for value in values_of(template, "MasterUserPassword"):
        if isinstance(value, dict) and "Fn::If" in value:  # a restored database takes no password (NoValue)
            _, restored, value = value["Fn::If"]
            assert restored == {"Ref": "AWS::NoValue"}
        text = value["Fn::Sub"] if isinstance(value, dict) else value
        assert re.fullmatch(r"\{\{resolve:secretsmanager:\$\{\w+\}:SecretString:password\}\}", text), value
    for name in template.get("Parameters", {}):
        assert not any(word in name.lower() for word in ("password", "secretkey", "apikey")), name


def test_replica_exists_only_when_asked_and_stays_in_the_second_az(data_dict):
    assert "DbReplica" not in resources(data_dict, DbReplicaEnabled="false")
    azs = "eu-west-1a,eu-west-1b,eu-west-1c"
    for count in ("2", "3"):
        # The AZ is fixed at create: following NumberOfAzs would replace the replica.
        found = resources(data_dict, DbReplicaEnabled="true", NumberOfAzs=count, AvailabilityZones=azs)
        assert found["DbReplica"]["Properties"]["AvailabilityZone"] == "eu-west-1b", count
    replica, primary = found["DbReplica"], found["DbInstance"]
    assert replica["Properties"]["SourceDBInstanceIdentifier"] == {"Ref": "DbInstance"}
    assert replica["Properties"]["VPCSecurityGroups"] == primary["Properties"]["VPCSecurityGroups"]
    assert replica["Properties"]["PubliclyAccessible"] is False
    # CloudFormation ignores deletion policies on replicas; the template says what happens.
    assert replica["DeletionPolicy"] == replica["UpdateReplacePolicy"] == "Delete"
    # The DBInstance reference: a replica sets none of BackupRetentionPeriod, DBName, MasterUsername,
    # MasterUserPassword, PreferredBackupWindow (backups are disabled for read replicas).
    for inherited in ("StorageEncrypted", "MasterUsername", "MasterUserPassword", "DBSubnetGroupName",
                      "BackupRetentionPeriod", "DBName", "PreferredBackupWindow"):
        assert inherited not in replica["Properties"], f"a replica inherits {inherited} from its source"


@pytest.mark.parametrize("multi_az", ["true", "false"])
def test_the_primary_never_names_its_az_so_switching_multi_az_updates_in_place(data_dict, multi_az):
    primary = resources(data_dict, DbMultiAz=multi_az)["DbInstance"]["Properties"]
    assert "AvailabilityZone" not in primary
    assert primary["MultiAZ"] == multi_az


def test_the_replica_grows_with_the_primary_and_follows_its_engine_version(data_dict):
    found = resources(data_dict, DbReplicaEnabled="true", DbAllocatedStorage="100", DbMaxAllocatedStorage="500")
    primary, replica = found["DbInstance"]["Properties"], found["DbReplica"]["Properties"]
    for props in (primary, replica):
        assert (props["StorageType"], props["AllocatedStorage"], props["MaxAllocatedStorage"]) == ("gp3", "100", "500")
        assert props["AllowMajorVersionUpgrade"] is True
    assert replica["EngineVersion"] == primary["EngineVersion"]


def test_replica_class_defaults_to_the_primary_class(data_dict):
    same = resources(data_dict, DbReplicaEnabled="true", DbInstanceClass="db.r6g.large")
    assert same["DbReplica"]["Properties"]["DBInstanceClass"] == "db.r6g.large"
    other = resources(data_dict, DbReplicaEnabled="true", DbReplicaInstanceClass="db.t4g.large")
    assert other["DbReplica"]["Properties"]["DBInstanceClass"] == "db.t4g.large"


def test_enhanced_monitoring_is_optional_and_its_interval_always_sent(data_dict):
    off = resources(data_dict, DbMonitoringInterval="0")
    assert "DbMonitoringRole" not in off
    # 0 is sent, not left out: RDS keeps the last interval when the property vanishes.
    assert off["DbInstance"]["Properties"]["MonitoringInterval"] == "0"
    assert "MonitoringRoleArn" not in off["DbInstance"]["Properties"]
    on = resources(data_dict, DbMonitoringInterval="60")
    assert on["DbInstance"]["Properties"]["MonitoringInterval"] == "60"
    assert on["DbInstance"]["Properties"]["MonitoringRoleArn"] == {"Fn::GetAtt": ["DbMonitoringRole", "Arn"]}
    trust = on["DbMonitoringRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}


def test_app_secret_is_generated_never_written(data_dict):
    secret = data_dict["Resources"]["AppSecret"]
    props = secret["Properties"]
    assert "SecretString" not in props
    generated = props["GenerateSecretString"]
    assert generated["GenerateStringKey"] == "SECRET_KEY"
    assert json.loads(generated["SecretStringTemplate"]) == {"API_KEY": ""}
    assert generated["PasswordLength"] >= 32
    assert secret["DeletionPolicy"] == secret["UpdateReplacePolicy"] == "Retain"
    assert data_dict["Outputs"]["AppSecretArn"]["Value"] == {"Ref": "AppSecret"}


def test_file_system_is_encrypted_backed_up_tiered_and_tls_only(data_dict):
    fs = data_dict["Resources"]["EfsFileSystem"]
    props = fs["Properties"]
    assert fs["DeletionPolicy"] == fs["UpdateReplacePolicy"] == "Retain"
    assert props["Encrypted"] is True
    # EFS's automatic backups only without the project's AWS Backup plan, which would keep a second set.
    assert props["BackupPolicy"] == {"Status": {"Fn::If": ["HasBackup", "DISABLED", "ENABLED"]}}
    assert {"TransitionToIA": {"Ref": "EfsTransitionToIa"}} in props["LifecyclePolicies"]
    assert props["ThroughputMode"] == {"Ref": "EfsThroughputMode"}
    allow, deny = props["FileSystemPolicy"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Principal"] == {"AWS": "*"} and deny["Action"] == ["*"]
    # The policy replaces EFS's default allow-all: this account may mount and
    # write through access points and mount targets, never as root.
    assert allow["Effect"] == "Allow"
    assert allow["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
    assert allow["Action"] == ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
    assert allow["Condition"] == {
        "ArnLike": {"elasticfilesystem:AccessPointArn": {"Fn::Sub": (
            "arn:${AWS::Partition}:elasticfilesystem:${AWS::Region}:${AWS::AccountId}:access-point/*")}},
        "Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"},
    }


def test_the_app_writes_to_efs_through_an_access_point_as_the_app_user(data_dict):
    point = data_dict["Resources"]["EfsAppAccessPoint"]["Properties"]
    assert point["FileSystemId"] == {"Ref": "EfsFileSystem"}
    # Every client acts as uid/gid 1500, the app user the boot script creates.
    assert point["PosixUser"] == {"Uid": "1500", "Gid": "1500"}
    assert point["RootDirectory"] == {"Path": "/app", "CreationInfo": {
        "OwnerUid": "1500", "OwnerGid": "1500", "Permissions": "0750"}}
    assert data_dict["Outputs"]["EfsAccessPointArn"]["Value"] == {"Fn::GetAtt": ["EfsAppAccessPoint", "Arn"]}


@pytest.mark.parametrize("azs", ["2", "3"])
def test_a_mount_target_per_az_in_the_app_subnets(data_dict, azs):
    active = resources(data_dict, NumberOfAzs=azs)
    targets = [r["Properties"] for r in active.values() if r["Type"] == "AWS::EFS::MountTarget"]
    assert len(targets) == int(azs)
    assert [t["SubnetId"] for t in targets] == [
        {"Fn::Select": [i, {"Ref": "AppSubnetIds"}]} for i in range(int(azs))]
    assert all(t["SecurityGroups"] == [{"Ref": "EfsSecurityGroupId"}] for t in targets)


def test_outputs(data_dict):
    assert {"DbEndpointAddress", "DbEndpointPort", "DbReplicaEndpointAddress", "DbMasterSecretArn",
            "AppSecretArn", "EfsFileSystemId"} <= set(data_dict["Outputs"])


@pytest.mark.parametrize("engine,version,family,logs,settings", [
    ("mysql", "8.4", "mysql8.4", ["error", "slowquery"],
     {"slow_query_log": "1", "long_query_time": "1", "log_output": "FILE", "require_secure_transport": "1"}),
    ("postgres", "16", "postgres16", ["postgresql", "upgrade"],
     {"log_min_duration_statement": "1000", "rds.force_ssl": "1"}),
])
def test_each_engine_exports_only_logs_its_parameter_group_turns_on(data_dict, engine, version, family,
                                                                    logs, settings):
    active = resources(data_dict, DbEngine=engine, DbReplicaEnabled="true")
    for instance in ("DbInstance", "DbReplica"):
        props = active[instance]["Properties"]
        assert props["EnableCloudwatchLogsExports"] == logs
        group_id = props["DBParameterGroupName"]["Ref"]
        group = active[group_id]["Properties"]
        assert group["Family"] == family and group["Parameters"] == settings
    assert active["DbInstance"]["Properties"]["EngineVersion"] == version
    groups = [r for r in active.values() if r["Type"] == "AWS::RDS::DBParameterGroup"]
    assert len(groups) == 1, "only the chosen engine's parameter group exists"


# The parameter that makes each engine refuse a connection without TLS, as RDS names it.
REQUIRES_TLS = {"mysql": ("require_secure_transport", "1"), "postgres": ("rds.force_ssl", "1")}


@pytest.mark.parametrize("engine", sorted(REQUIRES_TLS))
def test_every_engine_refuses_connections_without_tls(data_dict, engine):
    active = resources(data_dict, DbEngine=engine, DbReplicaEnabled="true")
    for instance in ("DbInstance", "DbReplica"):
        group = active[active[instance]["Properties"]["DBParameterGroupName"]["Ref"]]["Properties"]
        name, value = REQUIRES_TLS[engine]
        assert group["Parameters"][name] == value
        assert "CKV2_AWS_69" not in json.dumps(active[instance].get("Metadata", {})), "nothing to excuse any more"


def test_database_engine_is_supported_and_never_enrols_in_extended_support_silently(data_dict):
    props = resources(data_dict)["DbInstance"]["Properties"]
    assert (props["Engine"], props["EngineVersion"]) == ("mysql", "8.4")
    assert props["EngineLifecycleSupport"] == "open-source-rds-extended-support-disabled"


@pytest.mark.parametrize("replica", ["true", "false"])
def test_rds_log_groups_exist_before_the_instances_with_retention_and_our_key(data_dict, replica):
    active = resources(data_dict, DbReplicaEnabled=replica, DbLogRetentionDays="90",
                       ProjectName="shop", EnvironmentName="qa")
    expected = {"DbInstance": "shop-qa-db", "DbReplica": "shop-qa-db-replica"}
    if replica == "false":
        del expected["DbReplica"]
    for instance, identifier in expected.items():
        db = active[instance]
        assert db["Properties"]["DBInstanceIdentifier"] == identifier
        names = set()
        for group_id in db["DependsOn"]:
            group = active[group_id]
            assert group["Type"] == "AWS::Logs::LogGroup"
            assert group["Properties"]["RetentionInDays"] == "90"
            assert group["Properties"]["KmsKeyId"] == {"Ref": "LogKeyArn"}
            names.add(group["Properties"]["LogGroupName"])
        assert names == {f"/aws/rds/instance/{identifier}/{log}" for log in ("error", "slowquery")}
    assert ("DbReplicaLogGroup1" in active) is (replica == "true")


def test_every_engine_exports_two_logs_one_group_each():
    from threetier.facts import engines
    assert all(len(row["LogExports"]) == 2 for row in engines.ENGINES.values())


def test_the_replica_can_be_turned_off_under_deletion_protection(data_dict):
    """The replica holds no data of its own; protecting it would make DbReplicaEnabled
    true -> false fail (CloudFormation cannot delete a protected instance)."""
    active = resources(data_dict, DbReplicaEnabled="true", DbDeletionProtection="true")
    assert active["DbReplica"]["Properties"]["DeletionProtection"] is False
    assert active["DbInstance"]["Properties"]["DeletionProtection"] == "true"
