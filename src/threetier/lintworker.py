"""Imported by the forkserver that lint's worker processes are forked from (threetier.lint._pool).

It imports cfn-lint and loads cfn-lint's rules and the project's once; every
worker forked afterwards starts with them, instead of each paying ~0.7 s.
"""

from threetier.lint import load_rules_ahead

load_rules_ahead()
