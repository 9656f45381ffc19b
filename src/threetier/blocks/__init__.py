"""Building blocks the stack templates share: names and tags, IAM policy builders, log stores,
secrets, user data, scanner suppressions, the database engine mapping; and the result cache
(resultcache), which the deployer role's actions (deployeractions) and the gates keep results in.
"""
