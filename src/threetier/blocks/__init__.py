"""Building blocks the stack templates share: names and tags, IAM policy builders, log stores,
secrets, user data, scanner suppressions, the database engine mapping.
"""
