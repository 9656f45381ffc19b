"""Data stack: RDS (Multi-AZ, optional read replica), its secrets, and EFS.

No password ever passes through a template or a parameter: Secrets Manager
generates the master password when the stack is created, RDS receives it
through a dynamic reference, and the app secret's SECRET_KEY is generated too.
"""

from __future__ import annotations

from troposphere import (
    Equals,
    GetAtt,
    If,
    Not,
    NoValue,
    Ref,
    Select,
    Sub,
    Template,
    efs,
    iam,
    rds,
    secretsmanager,
)

from threetier import parameters as P
from threetier.blocks import engine_mapping, logstore, naming, policies, secrets, userdata
from threetier.blocks.suppressions import checkov
from threetier.facts import engines
from threetier.parameters import conditions
from threetier.parameters.conditions import HAS_READ_REPLICA, USE_CLOUDFRONT, USE_THREE_AZS

HAS_REPLICA_INSTANCE_CLASS = "HasReplicaInstanceClass"
HAS_ENHANCED_MONITORING = "HasEnhancedMonitoring"
HAS_PERFORMANCE_INSIGHTS = "HasPerformanceInsights"
RESTORES_SNAPSHOT = "RestoresSnapshot"

ENHANCED_MONITORING_POLICY = "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
APP_SECRET_TEMPLATE = '{"API_KEY": ""}'


def build() -> Template:
    t = naming.new_template(
        "threetier data tier: RDS primary (Multi-AZ) and optional read replica with "
        "a generated master secret, the application secret, and an encrypted EFS file system"
    )
    P.use(t, *P.DATABASE, *P.FILES, P.CLOUDFRONT_ENABLED, P.BACKUP_REGION)
    P.use(t, P.NUMBER_OF_AZS, P.AVAILABILITY_ZONES, P.DATA_SUBNET_IDS, P.APP_SUBNET_IDS,
          P.DB_SECURITY_GROUP_ID, P.EFS_SECURITY_GROUP_ID, P.LOG_KEY_ARN, *P.IAM)
    engine_mapping.add_mapping(t, "Engine", "EngineVersion", "Port", "LogExports")
    for engine in engines.ENGINES:
        t.add_condition(_engine_condition(engine), Equals(Ref(P.DB_ENGINE.name), engine))
    conditions.add(t, USE_THREE_AZS, USE_CLOUDFRONT, HAS_READ_REPLICA, conditions.HAS_PERMISSIONS_BOUNDARY)
    add_instance_conditions(t)
    conditions.add(t, conditions.HAS_BACKUP)
    t.add_condition(RESTORES_SNAPSHOT, Not(Equals(Ref(P.DB_RESTORE_SNAPSHOT.name), "")))

    monitoring_role = _monitoring_role(t)
    parameter_group = _parameter_groups(t)
    master_secret = _master_secret(t)
    db = _database(t, monitoring_role, parameter_group, master_secret)
    master_secret_attachment = _attach(t, "DbMasterSecretAttachment", master_secret, db)
    app_user_secret = _app_user_secret(t, master_secret)
    app_user_secret_attachment = _attach(t, "DbAppSecretAttachment", app_user_secret, db)
    replica = read_replica(t, Ref(db), GetAtt(monitoring_role, "Arn"), parameter_group, condition=HAS_READ_REPLICA)
    app_secret = _app_secret(t)
    origin_verify_secret = secrets.origin_verify_secret(t, condition=USE_CLOUDFRONT)
    file_system = _file_system(t)
    access_point = _app_access_point(t, file_system)

    outputs = {
        "DbInstanceIdentifier": ("Primary database instance id", Ref(db)),
        "DbReplicaIdentifier": ("Read replica instance id (empty without a replica)",
                                If(HAS_READ_REPLICA, Ref(replica), "")),
        "DbEndpointAddress": ("Database endpoint host name", GetAtt(db, "Endpoint.Address")),
        "DbEndpointPort": ("Database port", GetAtt(db, "Endpoint.Port")),
        "DbReplicaEndpointAddress": (
            "Read replica endpoint host name (empty without a replica)",
            If(HAS_READ_REPLICA, GetAtt(replica, "Endpoint.Address"), ""),
        ),
        "DbMasterSecretArn": (
            "ARN of the secret holding the master user name and password (and, once attached, the host)",
            Ref(master_secret_attachment),
        ),
        "DbAppSecretArn": ("ARN of the secret of the app's own database user (rotated)",
                           Ref(app_user_secret_attachment)),
        "AppSecretArn": ("ARN of the application secret (SECRET_KEY, API_KEY)", Ref(app_secret)),
        "OriginVerifySecretArn": (
            "ARN of the secret CloudFront sends to the load balancer (empty without CloudFront)",
            If(USE_CLOUDFRONT, Ref(origin_verify_secret), ""),
        ),
        # For the replica stack (templates/replica.py) in the parallel layout.
        "DbParameterGroupName": ("DB parameter group of the instances", parameter_group),
        "DbMonitoringRoleArn": ("Enhanced monitoring role (empty: monitoring off)",
                                If(HAS_ENHANCED_MONITORING, GetAtt(monitoring_role, "Arn"), "")),
        "EfsFileSystemId": ("EFS file system id", Ref(file_system)),
        "EfsFileSystemArn": ("EFS file system ARN", GetAtt(file_system, "Arn")),
        "EfsAccessPointId": ("EFS access point the app servers mount at /efs", Ref(access_point)),
        "EfsAccessPointArn": ("ARN of the app servers' EFS access point", GetAtt(access_point, "Arn")),
    }
    naming.add_outputs(t, outputs)
    return t


def add_instance_conditions(t: Template) -> None:
    """The conditions of a database instance's settings, the replica's in the replica stack too."""
    t.add_condition(HAS_REPLICA_INSTANCE_CLASS, Not(Equals(Ref(P.DB_REPLICA_INSTANCE_CLASS.name), "")))
    t.add_condition(HAS_ENHANCED_MONITORING, Not(Equals(Ref(P.DB_MONITORING_INTERVAL.name), "0")))
    t.add_condition(HAS_PERFORMANCE_INSIGHTS, Equals(Ref(P.DB_PERFORMANCE_INSIGHTS.name), "true"))


def _monitoring_role(t: Template) -> iam.Role:
    return t.add_resource(
        iam.Role(
            "DbMonitoringRole",
            Condition=HAS_ENHANCED_MONITORING,
            AssumeRolePolicyDocument=policies.trust("monitoring.rds"),
            ManagedPolicyArns=[Sub(ENHANCED_MONITORING_POLICY)],
            Tags=naming.tags("db-monitoring-role"),
            **policies.role_placement(),
        )
    )


def _engine_condition(engine: str) -> str:
    return f"DbEngineIs{engine.capitalize()}"


def _parameter_groups(t: Template):
    """One DB parameter group per engine (only the chosen engine's is created), turning on
    the slow query log that the stack exports: RDS publishes MySQL's slow query and
    general logs only when the parameter group enables them, to files.
    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.MySQLDB.PublishtoCloudWatchLogs.html
    Returns the name of the one in use.
    """
    chosen = None
    for engine, row in reversed(engines.ENGINES.items()):
        group = t.add_resource(
            rds.DBParameterGroup(
                f"DbParameterGroup{engine.capitalize()}",
                Condition=_engine_condition(engine),
                Description=Sub(f"${{ProjectName}}-${{EnvironmentName}} {row['Label']}: slow query log on"),
                Family=row["ParameterGroupFamily"],
                Parameters=engines.PARAMETER_GROUP_SETTINGS[engine],
                Tags=naming.tags(f"db-{engine}-parameters"),
            )
        )
        chosen = Ref(group) if chosen is None else If(_engine_condition(engine), Ref(group), chosen)
    return chosen


def log_groups(t: Template, title: str, identifier: Sub, condition: str | None = None) -> list[str]:
    """The log groups RDS exports an instance's logs to, made before the instance.

    RDS writes to /aws/rds/instance/<identifier>/<log>; a group it creates itself
    keeps logs forever and is not encrypted with our key.
    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.Procedural.UploadtoCloudWatch.html
    Every engine exports two logs (engines.ENGINES), so two groups named by position.
    Deleted with the stack: RDS fixes their names, and a kept group would stop
    the same environment from being created again.
    """
    titles = []
    for index in range(2):
        group = logstore.log_group(
            f"{title}LogGroup{index + 1}", f"{title.lower()}-logs-{index + 1}",
            retention_days=Ref(P.DB_LOG_RETENTION_DAYS.name), kms_key_arn=Ref(P.LOG_KEY_ARN.name), keep=False,
        )
        group.LogGroupName = Sub("/aws/rds/instance/${Id}/${Log}", Id=identifier,
                                 Log=Select(index, engine_mapping.lookup("LogExports")))
        if condition is not None:
            group.Condition = condition
        titles.append(t.add_resource(group).title)
    return titles


def _master_secret(t: Template) -> secretsmanager.Secret:
    """The master user and password, generated by Secrets Manager when the stack is created.

    Not ManageMasterUserPassword: RDS cannot create a read replica of a source
    whose master password Secrets Manager manages ("Limitations",
    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html;
    project lint rule E9010). Instead, as CloudFormation documents: a generated
    secret, the password passed by dynamic reference
    (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references-secretsmanager.html),
    and a SecretTargetAttachment. Kept on delete: the final snapshot needs it.
    """
    return _database_user_secret(t, "DbMasterSecret", "db-master-secret", "database master user",
                                 Sub('{"username": "${DbMasterUsername}"}'))


def _database_user_secret(t: Template, title: str, thing: str, what: str, template: Sub) -> secretsmanager.Secret:
    """A database user's secret with a generated password. Kept on delete, like the
    database's final snapshot, which still has the user."""
    return t.add_resource(
        secretsmanager.Secret(
            title,
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
            Description=Sub("${ProjectName}-${EnvironmentName} " + what),
            GenerateSecretString=secretsmanager.GenerateSecretString(
                SecretStringTemplate=template,
                GenerateStringKey="password",
                # Letters and digits only: nothing RDS refuses (/ " @ space) or a shell mangles.
                PasswordLength=32,
                ExcludePunctuation=True,
            ),
            Tags=naming.tags(thing),
            Metadata=checkov(secrets.SECRET_KEY_REASON),
        )
    )


def _app_user_secret(t: Template, master_secret: secretsmanager.Secret) -> secretsmanager.Secret:
    """The app's own database user, not the master: what the app connects with.

    The app secret's first rotation creates the user with the grants the app
    needs (as the master user; app stack, threetier.blocks.rotationfunction), and
    later rotations alternate users: the previous user keeps working until the
    next rotation, so servers pick the new one up without an outage. `masterarn`
    is what the alternating-users rotation reads to log in as the master.
    https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotation-strategy.html
    """
    return _database_user_secret(
        t, "DbAppSecret", "db-app-secret", "database user of the app (rotated)",
        Sub('{"username": "%s", "dbname": "${DbName}", "masterarn": "${%s}"}'
            % (engines.APP_DB_USER, master_secret.title)))


def _attach(t: Template, title: str, secret: secretsmanager.Secret, db: rds.DBInstance):
    """Adds the engine, host, port and instance id to a database secret, as rotation expects."""
    return t.add_resource(secretsmanager.SecretTargetAttachment(
        title, SecretId=Ref(secret), TargetId=Ref(db), TargetType="AWS::RDS::DBInstance",
    ))


def _database(t: Template, monitoring_role: iam.Role, parameter_group,
              master_secret: secretsmanager.Secret) -> rds.DBInstance:
    subnet_group = t.add_resource(
        rds.DBSubnetGroup(
            "DbSubnetGroup",
            DBSubnetGroupDescription=Sub("${ProjectName}-${EnvironmentName} database: private data subnets"),
            SubnetIds=Ref(P.DATA_SUBNET_IDS.name),
            Tags=naming.tags("db-subnets"),
        )
    )
    identifier = naming.name(naming.DB_INSTANCE)
    return t.add_resource(
        rds.DBInstance(
            "DbInstance",
            # Deleting or replacing the stack's database leaves a final snapshot.
            DeletionPolicy="Snapshot",
            UpdateReplacePolicy="Snapshot",
            DependsOn=log_groups(t, "Db", identifier),
            # Named, so its log groups can be made before it.
            DBInstanceIdentifier=identifier,
            Engine=engine_mapping.lookup("Engine"),
            EngineVersion=engine_mapping.lookup("EngineVersion"),
            EngineLifecycleSupport=engines.EXTENDED_SUPPORT_DISABLED,
            DBParameterGroupName=parameter_group,
            Port=engine_mapping.lookup("Port"),
            DBInstanceClass=Ref(P.DB_INSTANCE_CLASS.name),
            # A restore (threetier restore) takes the name, the users and their passwords from the
            # snapshot: CloudFormation says not to set these three with DBSnapshotIdentifier, and a
            # different DBSnapshotIdentifier later restores a new instance and deletes this one.
            # https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-rds-dbinstance.html#cfn-rds-dbinstance-dbsnapshotidentifier
            DBSnapshotIdentifier=If(RESTORES_SNAPSHOT, Ref(P.DB_RESTORE_SNAPSHOT.name), NoValue),
            DBName=If(RESTORES_SNAPSHOT, NoValue, Ref(P.DB_NAME.name)),
            MasterUsername=If(RESTORES_SNAPSHOT, NoValue, Ref(P.DB_MASTER_USERNAME.name)),
            MasterUserPassword=If(RESTORES_SNAPSHOT, NoValue, Sub(
                "{{resolve:secretsmanager:${%s}:SecretString:password}}" % master_secret.title)),
            MultiAZ=Ref(P.DB_MULTI_AZ.name),
            # No AvailabilityZone, in either mode: RDS picks one in the subnet group.
            # A Multi-AZ primary may not name one, and switching DbMultiAz would
            # otherwise add or remove it: AvailabilityZone is a conditional
            # create-only property of the resource schema, and the RDS handler
            # applies that change by replacing the instance (a new, empty database).
            # https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-rds-dbinstance.html#cfn-rds-dbinstance-availabilityzone
            **storage(),
            # A major version upgrade (a new EngineVersion in engines.py) is applied
            # in place; without this RDS refuses it. docs/environments.md "What each change costs".
            AllowMajorVersionUpgrade=True,
            StorageEncrypted=True,
            DeletionProtection=Ref(P.DB_DELETION_PROTECTION.name),
            BackupRetentionPeriod=Ref(P.DB_BACKUP_RETENTION_DAYS.name),
            CopyTagsToSnapshot=True,
            AutoMinorVersionUpgrade=True,
            DBSubnetGroupName=Ref(subnet_group),
            VPCSecurityGroups=[Ref(P.DB_SECURITY_GROUP_ID.name)],
            PubliclyAccessible=False,
            EnableIAMDatabaseAuthentication=True,
            EnableCloudwatchLogsExports=engine_mapping.lookup("LogExports"),
            **monitoring_settings(GetAtt(monitoring_role, "Arn")),
            Tags=naming.tags("db"),
            Metadata=checkov((
                "CKV_AWS_118",
                "Enhanced monitoring is the DbMonitoringInterval parameter: every 60 s in "
                "prod.json, off in dev.json to save cost.",
            ), (
                "CKV_AWS_157",
                "Multi-AZ is the DbMultiAz parameter: on in prod.json, off by default and in dev.json "
                "(the defaults are the cheap dev environment).",
            )),
        )
    )


def read_replica(t: Template, source, monitoring_role_arn, parameter_group, condition: str | None) -> rds.DBInstance:
    """The read replica of the primary `source` (its identifier), in this stack (the chain layout,
    condition HasReadReplica) or in the replica stack (templates/replica.py, no condition).

    The replica starts when its source is available ("Creating a read replica":
    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.Create.html), so it adds
    its whole create time after the primary's wherever it is; in its own stack nothing waits for it.
    """
    # Encryption, storage, subnet group and master secret are inherited from
    # the source; a replica must not set them.
    identifier = naming.name(naming.DB_REPLICA)
    replica = t.add_resource(
        rds.DBInstance(
            "DbReplica",
            # "Read replicas don't support deletion policies. CloudFormation ignores
            # any deletion policy that's associated with a read replica": it is
            # deleted without a final snapshot whatever the policy says, so the
            # policy says Delete. The replica holds nothing the primary does not.
            # https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-rds-dbinstance.html#cfn-rds-dbinstance-sourcedbinstanceidentifier
            DeletionPolicy="Delete",
            UpdateReplacePolicy="Delete",
            DependsOn=log_groups(t, "DbReplica", identifier, condition=condition),
            DBInstanceIdentifier=identifier,
            SourceDBInstanceIdentifier=source,
            Engine=engine_mapping.lookup("Engine"),
            # The same version as the primary, so a major upgrade names both.
            EngineVersion=engine_mapping.lookup("EngineVersion"),
            AllowMajorVersionUpgrade=True,
            DBParameterGroupName=parameter_group,
            # Not protected: it holds no data of its own, and protection would stop
            # DbReplicaEnabled true -> false (CloudFormation cannot delete it).
            DeletionProtection=False,
            DBInstanceClass=If(
                HAS_REPLICA_INSTANCE_CLASS,
                Ref(P.DB_REPLICA_INSTANCE_CLASS.name),
                Ref(P.DB_INSTANCE_CLASS.name),
            ),
            # Always the second AZ, which exists with 2 and with 3 AZs: the AZ is
            # fixed at create, so one that followed NumberOfAzs would replace the
            # replica (new identifier, new endpoint) when a third AZ is added.
            AvailabilityZone=Select(1, Ref(P.AVAILABILITY_ZONES.name)),
            # Grows with the primary: a full replica stops replicating.
            **storage(),
            VPCSecurityGroups=[Ref(P.DB_SECURITY_GROUP_ID.name)],
            PubliclyAccessible=False,
            # No BackupRetentionPeriod (nor DBName, MasterUsername, MasterUserPassword,
            # PreferredBackupWindow): "Don't set the BackupRetentionPeriod, DBName, MasterUsername,
            # MasterUserPassword, and PreferredBackupWindow properties. The database attributes are
            # inherited from the source DB instance, and backups are disabled for read replicas."
            # https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-rds-dbinstance.html#cfn-rds-dbinstance-sourcedbinstanceidentifier
            # (lint rule E9018).
            CopyTagsToSnapshot=True,
            AutoMinorVersionUpgrade=True,
            EnableCloudwatchLogsExports=engine_mapping.lookup("LogExports"),
            **monitoring_settings(monitoring_role_arn),
            Tags=naming.tags("db-replica"),
            Metadata=checkov((
                "CKV_AWS_118",
                "Enhanced monitoring is the DbMonitoringInterval parameter, as the primary's: every 60 s "
                "in prod.json, off in dev.json to save cost.",
            ), (
                "CKV_AWS_157",
                "A read replica is one instance in the second AZ by design; the primary is the Multi-AZ one.",
            ), (
                "CKV_AWS_16",
                "A replica takes the source's encryption and may not set StorageEncrypted: the primary "
                "is encrypted, so the replica is (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/"
                "Overview.Encryption.html, read replicas).",
            )),
        )
    )
    if condition is not None:
        replica.Condition = condition
    return replica


def storage() -> dict:
    """gp3 storage with autoscaling, the same for the primary and the replica.

    The limit must be at least 10 % above the allocated storage (validate checks).
    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.Autoscaling.html
    """
    return {
        "StorageType": "gp3",
        "AllocatedStorage": Ref(P.DB_ALLOCATED_STORAGE.name),
        "MaxAllocatedStorage": Ref(P.DB_MAX_ALLOCATED_STORAGE.name),
    }


def monitoring_settings(role_arn) -> dict:
    """Enhanced monitoring and Performance Insights settings, each on only when asked for."""
    return {
        # Always sent, 0 included: the RDS handler sends only what changed, so a
        # property that vanished (NoValue) would leave RDS monitoring every 60 s
        # while the role it uses is deleted. 0 needs no role.
        "MonitoringInterval": Ref(P.DB_MONITORING_INTERVAL.name),
        "MonitoringRoleArn": If(HAS_ENHANCED_MONITORING, role_arn, NoValue),
        "EnablePerformanceInsights": Ref(P.DB_PERFORMANCE_INSIGHTS.name),
        "PerformanceInsightsRetentionPeriod": If(HAS_PERFORMANCE_INSIGHTS, 7, NoValue),
    }


def _app_secret(t: Template) -> secretsmanager.Secret:
    return t.add_resource(
        secretsmanager.Secret(
            "AppSecret",
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
            Description=Sub(
                "${ProjectName}-${EnvironmentName} application secret: SECRET_KEY is "
                "generated; set API_KEY after the first deploy (see NextSteps)"
            ),
            GenerateSecretString=secretsmanager.GenerateSecretString(
                SecretStringTemplate=APP_SECRET_TEMPLATE,
                GenerateStringKey="SECRET_KEY",
                PasswordLength=64,
                ExcludePunctuation=True,
            ),
            Tags=naming.tags("app-secret"),
            Metadata=checkov(secrets.SECRET_KEY_REASON),
        )
    )


def _file_system(t: Template) -> efs.FileSystem:
    file_system = t.add_resource(
        efs.FileSystem(
            "EfsFileSystem",
            DeletionPolicy="Retain",
            UpdateReplacePolicy="Retain",
            Encrypted=True,
            PerformanceMode=Ref(P.EFS_PERFORMANCE_MODE.name),
            ThroughputMode=Ref(P.EFS_THROUGHPUT_MODE.name),
            # EFS's automatic backups (a default plan: daily, kept 35 days, in EFS's default vault) only
            # without the project's plan (templates/backup.py), which backs the file system up already:
            # both would keep two sets of backups. Turning them off keeps the backups already taken.
            # https://docs.aws.amazon.com/efs/latest/ug/awsbackup.html
            BackupPolicy=efs.BackupPolicy(Status=If(conditions.HAS_BACKUP, "DISABLED", "ENABLED")),
            LifecyclePolicies=[
                efs.LifecyclePolicy(TransitionToIA=Ref(P.EFS_TRANSITION_TO_IA.name)),
                efs.LifecyclePolicy(TransitionToPrimaryStorageClass="AFTER_1_ACCESS"),
            ],
            # troposphere types this property as a plain dict.
            FileSystemPolicy=policies.document(
                policies.mount_through_access_points(),
                policies.deny_insecure_transport(),
            ).JSONrepr(),
            FileSystemTags=naming.tags("efs"),
        )
    )
    for az in (1, 2, 3):
        target = efs.MountTarget(
            f"EfsMountTarget{az}",
            FileSystemId=Ref(file_system),
            SubnetId=Select(az - 1, Ref(P.APP_SUBNET_IDS.name)),
            SecurityGroups=[Ref(P.EFS_SECURITY_GROUP_ID.name)],
        )
        if az == 3:
            target.Condition = USE_THREE_AZS
        t.add_resource(target)
    return file_system


def _app_access_point(t: Template, file_system: efs.FileSystem) -> efs.AccessPoint:
    """Where the app servers mount EFS: /app on the file system, /efs on the server.

    IAM mounts without ClientRootAccess squash root, and the file system's root
    directory is root-owned 755, so without an access point nobody could write.
    The access point acts as the app user for every client and creates its
    directory owned by that user on first use.
    https://docs.aws.amazon.com/efs/latest/ug/efs-access-points.html
    """
    app_user = str(userdata.APP_USER_ID)
    return t.add_resource(
        efs.AccessPoint(
            "EfsAppAccessPoint",
            FileSystemId=Ref(file_system),
            PosixUser=efs.PosixUser(Uid=app_user, Gid=app_user),
            RootDirectory=efs.RootDirectory(
                Path="/app",
                CreationInfo=efs.CreationInfo(OwnerUid=app_user, OwnerGid=app_user, Permissions="0750"),
            ),
            AccessPointTags=naming.tags("efs-app"),
        )
    )
