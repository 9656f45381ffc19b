"""Quality gates: cfn-lint with the project's own rules, the checkov scan, the secrets check, and
`threetier check`, which runs them all with `generate --check` (check.py).
"""

# Six regions on four continents: resource and property support differs by region.
# Here rather than in lint.py: the command line shows them in its help, and
# `generate` should not import the lint gate to build its parser.
DEFAULT_REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "ap-northeast-1")
