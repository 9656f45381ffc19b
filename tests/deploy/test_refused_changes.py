"""plan/deploy refuse, before anything is uploaded or created, a change AWS refuses mid-update."""

from __future__ import annotations

from troposphere import Parameter

from tests.deploy.fixtures import responses as r
from tests.deploy.fixtures.project import ENV, PROJECT_NAME, STACK_NAME, app_template, root_template, write_project
from tests.deploy.test_deploy_stubbed import aws, plan  # noqa: F401 (fixture)


def project_with_storage(tmp_path, storage: str):
    return write_project(tmp_path, {"main.yaml": _root_with_storage(), "app.yaml": app_template()},
                         {"ProjectName": PROJECT_NAME, "EnvironmentName": ENV, "DbAllocatedStorage": storage})


def deployed_with_storage(aws, storage: str):  # noqa: F811
    response = r.stack(STACK_NAME, "UPDATE_COMPLETE")
    response["Stacks"][0]["Parameters"] = [
        {"ParameterKey": "ProjectName", "ParameterValue": PROJECT_NAME},
        {"ParameterKey": "EnvironmentName", "ParameterValue": ENV},
        {"ParameterKey": "DbAllocatedStorage", "ParameterValue": storage},
    ]
    aws.cfn_stub.add_response("describe_stacks", response, {"StackName": STACK_NAME})


def test_a_storage_shrink_is_refused_before_anything_is_uploaded_or_created(tmp_path, aws, capsys):  # noqa: F811
    project = project_with_storage(tmp_path, "50")
    deployed_with_storage(aws, "100")  # the only call: no upload, no change set (the stubs hold nothing else)

    assert plan(project) == 2

    err = capsys.readouterr().err
    assert "AWS would refuse this change in the middle of the update; nothing was created:" in err
    assert f"{ENV}.json: DbAllocatedStorage 100 -> 50: RDS cannot reduce the storage of a DB instance" in err
    assert "What works: keep 100 GiB or more" in err


def test_a_storage_left_to_the_default_counts_as_the_default(tmp_path, aws, capsys):  # noqa: F811
    project = write_project(tmp_path, {"main.yaml": _root_with_storage(), "app.yaml": app_template()})
    deployed_with_storage(aws, "100")  # the file leaves it out: 20, the template's default

    assert plan(project) == 2
    assert "DbAllocatedStorage 100 -> 20: RDS cannot reduce" in capsys.readouterr().err


def _root_with_storage():
    root = root_template()
    root.add_parameter(Parameter("DbAllocatedStorage", Type="Number", Default="20"))
    return root


PIN = "0f9e8d7c-6b5a-4f3e-8d2c-1b0a9f8e7d6c"


def test_cloudfront_on_with_pins_into_the_deleted_secret_is_refused(tmp_path, aws, capsys):  # noqa: F811
    root = root_template()
    root.add_parameter(Parameter("CloudFrontEnabled", Type="String", Default="false"))
    root.add_parameter(Parameter("OriginVerifySecretVersion", Type="String", Default=""))
    project = write_project(tmp_path, {"main.yaml": root, "app.yaml": app_template()}, {
        "ProjectName": PROJECT_NAME, "EnvironmentName": ENV, "CloudFrontEnabled": "true",
        "OriginVerifySecretVersion": PIN})
    response = r.stack(STACK_NAME, "UPDATE_COMPLETE")  # deployed with CloudFront off, the pin left in place
    response["Stacks"][0]["Parameters"] = [
        {"ParameterKey": "ProjectName", "ParameterValue": PROJECT_NAME},
        {"ParameterKey": "EnvironmentName", "ParameterValue": ENV},
        {"ParameterKey": "CloudFrontEnabled", "ParameterValue": "false"},
        {"ParameterKey": "OriginVerifySecretVersion", "ParameterValue": PIN},
    ]
    aws.cfn_stub.add_response("describe_stacks", response, {"StackName": STACK_NAME})

    assert plan(project) == 2

    err = capsys.readouterr().err
    assert (f"{ENV}.json: CloudFrontEnabled false -> true: turning CloudFront on creates a new origin header "
            "secret, and OriginVerifySecretVersion pins versions of the one deleted") in err
    assert "What works: empty OriginVerifySecretVersion and OriginVerifyPreviousSecretVersion" in err


def test_the_parallel_layout_over_an_environment_deployed_before_it_is_refused(tmp_path, aws, capsys):  # noqa: F811
    """A stack deployed before StackLayout existed has no such parameter: the template's default, chain."""
    root = root_template()
    root.add_parameter(Parameter("StackLayout", Type="String", Default="chain", AllowedValues=["chain", "parallel"]))
    project = write_project(tmp_path, {"main.yaml": root, "app.yaml": app_template()},
                            {"ProjectName": PROJECT_NAME, "EnvironmentName": ENV, "StackLayout": "parallel"})
    response = r.stack(STACK_NAME, "UPDATE_COMPLETE")
    response["Stacks"][0]["Parameters"] = [{"ParameterKey": "ProjectName", "ParameterValue": PROJECT_NAME},
                                           {"ParameterKey": "EnvironmentName", "ParameterValue": ENV}]
    aws.cfn_stub.add_response("describe_stacks", response, {"StackName": STACK_NAME})

    assert plan(project) == 2

    err = capsys.readouterr().err
    assert f"{ENV}.json: StackLayout chain -> parallel: the layouts keep the load balancer" in err
    assert "What works: keep StackLayout chain in the environment file" in err
