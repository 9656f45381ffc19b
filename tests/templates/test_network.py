import ipaddress
import itertools

import pytest

from threetier.parameters.evaluate import Evaluation

SHAPES = list(itertools.product(("2", "3"), ("true", "false")))


def resources_of(template: dict, type_: str, **values) -> dict:
    active = Evaluation(template, values, region="us-east-1").resources()
    return {k: r for k, r in active.items() if r["Type"] == type_}


def tier_of(subnet: dict) -> str:
    return next(tag["Value"] for tag in subnet["Properties"]["Tags"] if tag["Key"] == "Tier")


@pytest.mark.parametrize("azs,single_nat", SHAPES)
def test_one_subnet_per_tier_per_az(network_dict, azs, single_nat):
    subnets = resources_of(network_dict, "AWS::EC2::Subnet", NumberOfAzs=azs, SingleNatGateway=single_nat)

    tiers = sorted(tier_of(s) for s in subnets.values())
    assert tiers == sorted(["public", "app", "data"] * int(azs))
    for tier in ("public", "app", "data"):
        zones = {s["Properties"]["AvailabilityZone"] for s in subnets.values() if tier_of(s) == tier}
        assert len(zones) == int(azs), f"{tier} subnets must be in {azs} different AZs"


@pytest.mark.parametrize("azs,single_nat", SHAPES)
def test_nat_gateway_per_az_or_one_shared(network_dict, azs, single_nat):
    values = {"NumberOfAzs": azs, "SingleNatGateway": single_nat}
    nats = resources_of(network_dict, "AWS::EC2::NatGateway", **values)
    eips = resources_of(network_dict, "AWS::EC2::EIP", **values)
    routes = resources_of(network_dict, "AWS::EC2::Route", **values)

    expected = 1 if single_nat == "true" else int(azs)
    assert len(nats) == len(eips) == expected
    app_routes = {k: r["Properties"] for k, r in routes.items() if k.startswith("AppDefaultRoute")}
    assert len(app_routes) == int(azs)
    used = {route["NatGatewayId"]["Ref"] for route in app_routes.values()}
    assert used == set(nats), "every NAT gateway serves its AZ and every app route uses one that exists"
    for az in range(1, int(azs) + 1):
        nat = app_routes[f"AppDefaultRoute{az}"]["NatGatewayId"]["Ref"]
        assert nat == ("NatGateway1" if single_nat == "true" else f"NatGateway{az}")


@pytest.mark.parametrize(
    "vpc_cidr,bits",
    [("10.0.0.0/16", "12"), ("10.20.0.0/16", "8"), ("172.16.0.0/20", "8"), ("192.168.4.0/23", "5")],
)
def test_subnets_inside_vpc_and_disjoint(network_dict, vpc_cidr, bits):
    subnets = resources_of(network_dict, "AWS::EC2::Subnet", VpcCidr=vpc_cidr, SubnetCidrBits=bits, NumberOfAzs="3")
    blocks = [ipaddress.ip_network(s["Properties"]["CidrBlock"]) for s in subnets.values()]

    vpc = ipaddress.ip_network(vpc_cidr)
    assert len(blocks) == 9
    assert all(block.subnet_of(vpc) for block in blocks)
    assert all(block.prefixlen == 32 - int(bits) for block in blocks)
    for a, b in itertools.combinations(blocks, 2):
        assert not a.overlaps(b), f"{a} overlaps {b}"


def test_switching_to_three_azs_keeps_existing_subnet_blocks(network_dict):
    two = resources_of(network_dict, "AWS::EC2::Subnet", NumberOfAzs="2")
    three = resources_of(network_dict, "AWS::EC2::Subnet", NumberOfAzs="3")
    for logical_id, subnet in two.items():
        assert three[logical_id]["Properties"]["CidrBlock"] == subnet["Properties"]["CidrBlock"]


def test_vpc_has_dns_and_cidr_parameter(network_dict):
    vpc = network_dict["Resources"]["Vpc"]["Properties"]
    assert vpc["CidrBlock"] == {"Ref": "VpcCidr"}
    assert vpc["EnableDnsSupport"] is True and vpc["EnableDnsHostnames"] is True
    assert network_dict["Parameters"]["VpcCidr"]["Default"] == "10.0.0.0/16"


def test_only_app_subnets_route_to_nat_and_data_subnets_stay_private(network_dict):
    active = Evaluation(network_dict, {"NumberOfAzs": "3"}).resources()
    routes = [r["Properties"] for r in active.values() if r["Type"] == "AWS::EC2::Route"]
    by_table = {r["RouteTableId"]["Ref"]: r for r in routes}

    assert by_table["PublicRouteTable"]["GatewayId"] == {"Ref": "InternetGateway"}
    assert "DataRouteTable" not in by_table, "the data tier has no route to the internet"
    associations = {
        r["Properties"]["SubnetId"]["Ref"]: r["Properties"]["RouteTableId"]["Ref"]
        for r in active.values() if r["Type"] == "AWS::EC2::SubnetRouteTableAssociation"
    }
    assert len(associations) == 9
    for az in (1, 2, 3):
        assert associations[f"PublicSubnet{az}"] == "PublicRouteTable"
        assert associations[f"AppSubnet{az}"] == f"AppRouteTable{az}"
        assert associations[f"DataSubnet{az}"] == "DataRouteTable"
    subnets = [r["Properties"] for r in active.values() if r["Type"] == "AWS::EC2::Subnet"]
    assert all(s["MapPublicIpOnLaunch"] is False for s in subnets)


@pytest.mark.parametrize("azs", ["2", "3"])
def test_s3_gateway_endpoint_on_private_route_tables(network_dict, azs):
    endpoint = resources_of(network_dict, "AWS::EC2::VPCEndpoint", NumberOfAzs=azs)["S3GatewayEndpoint"]
    props = endpoint["Properties"]
    assert props["VpcEndpointType"] == "Gateway"
    assert props["ServiceName"] == "com.amazonaws.us-east-1.s3"
    tables = [r["Ref"] for r in props["RouteTableIds"]]
    assert tables == [f"AppRouteTable{az}" for az in range(1, int(azs) + 1)] + ["DataRouteTable"]


def test_flow_logs_capture_all_vpc_traffic_with_retention(network_dict):
    resources = network_dict["Resources"]
    flow_log = resources["VpcFlowLog"]["Properties"]
    assert flow_log["ResourceId"] == {"Ref": "Vpc"} and flow_log["ResourceType"] == "VPC"
    assert flow_log["TrafficType"] == "ALL"
    assert flow_log["LogGroupName"] == {"Ref": "FlowLogGroup"}
    assert flow_log["DeliverLogsPermissionArn"] == {"Fn::GetAtt": ["FlowLogRole", "Arn"]}
    group = resources["FlowLogGroup"]
    assert group["Properties"]["RetentionInDays"] == {"Ref": "FlowLogRetentionDays"}
    assert group["DeletionPolicy"] == group["UpdateReplacePolicy"] == "Retain"


def test_flow_log_role_is_least_privilege(network_dict):
    role = network_dict["Resources"]["FlowLogRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": {"Fn::Sub": "vpc-flow-logs.${AWS::URLSuffix}"}}
    assert trust["Action"] == ["sts:AssumeRole"]
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Fn::Sub": "${AWS::AccountId}"}}
    assert "aws:SourceArn" in trust["Condition"]["ArnLike"]

    (policy,) = role["Policies"]
    grants = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert set(grants) == {"WriteFlowLogs", "ListLogGroups"}
    assert all(s["Effect"] == "Allow" for s in grants.values())
    assert sorted(grants["WriteFlowLogs"]["Action"]) == [
        "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    assert grants["WriteFlowLogs"]["Resource"] == [{"Fn::GetAtt": ["FlowLogGroup", "Arn"]}]
    assert grants["ListLogGroups"]["Action"] == ["logs:DescribeLogGroups"]
    assert grants["ListLogGroups"]["Resource"] != ["*"]
    assert "logs:CreateLogGroup" not in str(policy), "the stack creates the group itself"


def test_outputs_list_per_tier_ids(network_dict):
    outputs = network_dict["Outputs"]
    for name in ("VpcId", "PublicSubnetIds", "AppSubnetIds", "DataSubnetIds",
                 "PublicRouteTableId", "AppRouteTableIds", "DataRouteTableId", "AvailabilityZones"):
        assert name in outputs
    two = Evaluation(network_dict, {"NumberOfAzs": "2"}).resolve(outputs["AppSubnetIds"]["Value"])
    three = Evaluation(network_dict, {"NumberOfAzs": "3"}).resolve(outputs["AppSubnetIds"]["Value"])
    assert two == {"Fn::Join": [",", [{"Ref": "AppSubnet1"}, {"Ref": "AppSubnet2"}]]}
    assert len(three["Fn::Join"][1]) == 3
