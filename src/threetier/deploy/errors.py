"""Exit codes of the deploy commands, and the error for bad input found before any AWS call."""

EXIT_OK = 0
EXIT_FAILURE = 1  # AWS said no, the stack operation failed, or the user did not confirm
EXIT_USAGE = 2  # bad options or input files; nothing was sent to AWS
EXIT_DANGER = 3  # the change set replaces or removes stateful resources (or opens a port to the world)


class InputError(Exception):
    """A problem with options or local files, reported as exit code 2."""


class AwsError(Exception):
    """AWS refused a call; the message names the thing (e.g. the bucket) and the remedy. Exit code 1."""
