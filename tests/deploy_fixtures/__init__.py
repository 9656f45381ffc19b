"""Helpers shared by tests/test_deploy_*.py: a tiny project on disk and AWS-shaped responses."""
