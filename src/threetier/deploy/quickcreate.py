"""A CloudFormation quick-create link: the console's create page with an environment's values.

https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cfn-console-create-stacks-quick-create-links.html
The link names the template (an S3 URL), the stack name and `param_<Name>=<value>` for each
parameter; the person opening it still reviews the values and acknowledges the capabilities.
"""

from __future__ import annotations

from urllib.parse import quote

from threetier.deploy.errors import InputError, aws_said

# Browsers take far longer URLs, but some proxies and chat tools cut links near 8 KB:
# above this the link is still printed, with a warning.
LONG_LINK = 8192


def link(region: str, template_url: str, stack_name: str, parameters: dict[str, str]) -> str:
    query = [f"templateURL={quote(template_url, safe='')}", f"stackName={quote(stack_name, safe='')}"]
    query += [f"param_{name}={quote(value, safe='')}" for name, value in sorted(parameters.items())]
    return (f"https://{region}.console.aws.amazon.com/cloudformation/home?region={region}"
            f"#/stacks/quickcreate?{'&'.join(query)}")


def bucket_region(s3, bucket: str) -> str:
    """The bucket's region: GetBucketLocation answers None for us-east-1 and EU for eu-west-1.
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLocation.html"""
    from botocore.exceptions import ClientError

    try:
        location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
    except ClientError as error:
        raise InputError(f"bucket {bucket}: {aws_said(error)}; create it in the deploy region, or check "
                         "its name and your permission s3:GetBucketLocation") from None
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)


def check_bucket_region(s3, bucket: str, region: str) -> None:
    """The template URLs are built for the deploy region (https://BUCKET.s3.REGION.amazonaws.com/KEY);
    for a bucket elsewhere S3 answers them with a redirect CloudFormation does not follow.
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html"""
    found = bucket_region(s3, bucket)
    if found != region:
        raise InputError(f"bucket {bucket} is in {found}, the stack would be in {region}: use a bucket in "
                         f"{region} (--bucket, or bucket in threetier.toml), or deploy in {found} (--region)")
