"""AWS facts: tables of what AWS supports and allows, each with its source and the day it was checked.

Nothing here imports the rest of the project.
"""
