"""AWS facts: what AWS supports, allows and refuses, as tables the rest of the project reads.

Nothing here imports the rest of the project (tests/test_architecture.py). Each module
names where its facts come from (SOURCES) and the day they were last checked against
them (CHECKED); tests/facts/test_sources.py holds every module to that.

| module | facts | from |
|---|---|---|
| engines | database engines: versions, log exports, parameter groups, connection limits, end of standard support | RDS User Guide and release calendars |
| regions | regions with fewer AZs, without CloudFront log delivery, outside the ELB log table; partitions | CloudFront and ELB guides, botocore's endpoint data |
| ec2types | every instance type the EC2 API accepts, and which a region offers | botocore's EC2 model, cfn-lint's offerings data |
| architectures | arm64 or x86_64 per instance type and AMI parameter; burstable baselines | EC2 instance type specifications, burstable guides |
| securitygroups | inbound rules per security group; what a managed prefix list weighs against it (CloudFront's: 55 of 60) | VPC User Guide: quotas, AWS-managed prefix lists |
| lambdaruntimes | the Python runtime the project's own functions run on: the newest in AWS's lifecycle table, never a deprecated one | Lambda runtimes page, cfn-lint's runtime lifecycle data |
| schemas | the resource provider schemas (properties, create-only, handlers) | cfn-lint's copy of the CloudFormation registry |
| deployerpolicy | the IAM actions CloudFormation calls per resource type and transform | provider schema handlers, IAM quotas |
| schemabranches | the handler actions needed only when a property is set (`acm-pca:*` for a private certificate), and what a handler's wildcard stands for | provider schemas, the services' API references and user guides |
| lengths | EC2 user data's 16 KB; the longest stack, region and partition names, secret ARNs, host names, EFS ids, log group names | EC2 User Guide, CloudFormation quotas, the services' API references, botocore's partitions |
| efs | the IAM actions of EFS clients, how the file system and identity policies combine, what AWS managed policies grant of them | EFS User Guide, IAM User Guide, AWS Managed Policy reference |
| yamlreaders | how YAML 1.2, SnakeYAML and CloudFormation's reader type a plain scalar PyYAML reads as a string | the YAML 1.2 spec, SnakeYAML's resolver, aws-cli#6908 |
| durations | typical CloudFormation create, update and delete seconds per resource type; the RDS primary and replica by Multi-AZ and storage; a server's launch and boot | AWS docs where they give a figure, dated public reports, stated estimates |

A fact read from data installed with a pinned package (botocore, cfn-lint) is as new as
that package; a table written by hand is as new as its CHECKED date.
"""
