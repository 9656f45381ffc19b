"""Exit codes of the deploy commands, and the error for bad input found before any AWS call."""

EXIT_OK = 0
EXIT_FAILURE = 1  # AWS said no, the stack operation failed, or the user did not confirm
EXIT_USAGE = 2  # bad options or input files; nothing was sent to AWS
EXIT_DANGER = 3  # the change set replaces or removes stateful resources (or opens a port to the world)
EXIT_DETACHED = 4  # stopped following (credentials expired, too many errors): the operation goes on in AWS


def aws_said(error, operation: bool = True) -> str:
    """`AWS said Code: Message (Operation)`: how every deploy command quotes a botocore ClientError."""
    details = error.response.get("Error", {})
    said = f"AWS said {details.get('Code', '')}: {details.get('Message', str(error))}"
    return f"{said} ({error.operation_name})" if operation else said


class InputError(Exception):
    """A problem with options or local files, reported as exit code 2."""


class AwsError(Exception):
    """AWS refused a call; the message names the thing (e.g. the bucket) and the remedy. Exit code 1."""
