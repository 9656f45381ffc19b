"""The project's Secrets Manager rotation function (issue 29): `lambda_function.py` and
`requirements.txt` are the Lambda zip's content, at its root.

A leaf of the package layers (docs/architecture.md): it imports nothing of threetier, since in the
zip it stands alone.
"""
