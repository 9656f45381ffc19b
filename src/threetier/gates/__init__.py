"""Quality gates: cfn-lint with the project's own rules, the checkov scan, the secrets check, and
`threetier check`, which runs them all with `generate --check` (check.py).
"""
