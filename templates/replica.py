"""Replica stack (parallel layout): the database's read replica, beside the app stack.

In the chain layout the replica is in the data stack, and everything after the
data stack waits for it; here it starts once the data stack (the primary) is
done and nothing waits for it. The replica is built by the same function in
both places (templates.data.read_replica), from the data stack's outputs.
"""

from __future__ import annotations

from troposphere import Ref, Template

from templates import data
from threetier import parameters as P
from threetier.blocks import engine_mapping, naming


def build() -> Template:
    t = naming.new_template(
        "threetier database read replica (parallel layout): it starts when the primary is "
        "available, beside the app stack"
    )
    P.use(t, P.DB_ENGINE, P.DB_INSTANCE_CLASS, P.DB_REPLICA_INSTANCE_CLASS, P.DB_ALLOCATED_STORAGE,
          P.DB_MAX_ALLOCATED_STORAGE, P.DB_MONITORING_INTERVAL, P.DB_PERFORMANCE_INSIGHTS, P.DB_LOG_RETENTION_DAYS)
    P.use(t, P.AVAILABILITY_ZONES, P.DB_SECURITY_GROUP_ID, P.LOG_KEY_ARN, P.DB_INSTANCE_IDENTIFIER,
          P.DB_PARAMETER_GROUP_NAME, P.DB_MONITORING_ROLE_ARN)
    engine_mapping.add_mapping(t, "Engine", "EngineVersion", "LogExports")
    data.add_instance_conditions(t)

    replica = data.read_replica(t, Ref(P.DB_INSTANCE_IDENTIFIER.name), Ref(P.DB_MONITORING_ROLE_ARN.name),
                                Ref(P.DB_PARAMETER_GROUP_NAME.name), condition=None)
    naming.add_outputs(t, {
        "DbReplicaIdentifier": ("Read replica instance id", Ref(replica)),
        "DbReplicaEndpointAddress": ("Read replica endpoint host name", replica.GetAtt("Endpoint.Address")),
    })
    return t
