"""Thin boto3 layer: package, plan (change-set review), deploy, status, delete."""
