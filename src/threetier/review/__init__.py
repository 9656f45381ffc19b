"""Offline review: what a change does to deployed stacks, judged from the templates alone
(`threetier diff`, the transitions table), and the change-set review table `plan` and `deploy` print.
"""
