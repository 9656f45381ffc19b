"""How following a stack operation bears the errors of its polls.

The operation runs in AWS whatever happens to the process following it. So an error while
following is never the operation's failure: a throttled or transient poll is tried again
after a longer wait (the client's adaptive retries, threetier.deploy.session, have already
been spent on it); credentials that expired, an error that will not pass by waiting, or too
many failed polls in a row stop the following, and the caller says the operation goes on in
AWS and how to re-attach (`threetier watch ENV`, exit code EXIT_DETACHED).
"""

from __future__ import annotations

from typing import Callable, TextIO

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
    SSOTokenLoadError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)

from threetier.deploy.errors import aws_said

# The error codes AWS throttles with: botocore's own list of throttling codes
# (botocore/retries/standard.py, ThrottledRetryableChecker), which its retries back off on.
THROTTLING = ("Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
              "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
              "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
              "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException")
# Credentials that no longer work: refreshing them is the user's job (`aws sso login`, a new session).
# https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html (ExpiredToken) and
# https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/CommonErrors.html
EXPIRED_CREDENTIALS = ("ExpiredToken", "ExpiredTokenException", "RequestExpired", "InvalidClientTokenId",
                       "UnrecognizedClientException")
CREDENTIAL_ERRORS = (NoCredentialsError, CredentialRetrievalError, TokenRetrievalError, SSOTokenLoadError,
                     UnauthorizedSSOTokenError)
# The network failing between us and AWS: it may come back.
NETWORK_ERRORS = (EndpointConnectionError, ConnectionClosedError, ConnectTimeoutError, ReadTimeoutError)

# Polls that may fail in a row before following stops: with the waits below, about 8 minutes
# without one answer (each poll having spent the client's own retries first).
MAX_FAILED_POLLS = 8
# The longest wait between two polls after failures: twice the poll interval each time, up to this.
MAX_WAIT_SECONDS = 120.0


class Detached(Exception):
    """Following stopped; the operation goes on in AWS."""

    def __init__(self, reason: str, credentials: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.credentials = credentials  # the credentials expired or are gone: refresh them first


def is_throttling(error: BaseException) -> bool:
    return isinstance(error, ClientError) and error.response.get("Error", {}).get("Code", "") in THROTTLING


def is_transient(error: BaseException) -> bool:
    """Throttling, a server error (5xx) or the network: the same poll may work a while later."""
    if isinstance(error, NETWORK_ERRORS):
        return True
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return is_throttling(error) or status >= 500
    return False


def has_expired_credentials(error: BaseException) -> bool:
    if isinstance(error, CREDENTIAL_ERRORS):
        return True
    return isinstance(error, ClientError) and error.response.get("Error", {}).get("Code", "") in EXPIRED_CREDENTIALS


class Patience:
    """Counts failed polls in a row and decides how long to wait before the next one, or to stop."""

    def __init__(self, poll_seconds: float, out: TextIO, sleep: Callable[[float], None],
                 max_failed_polls: int = MAX_FAILED_POLLS, max_wait: float = MAX_WAIT_SECONDS):
        self.poll_seconds = poll_seconds
        self.out = out
        self.sleep = sleep
        self.max_failed_polls = max_failed_polls
        self.max_wait = max_wait
        self.failed_polls = 0

    def answered(self) -> None:
        self.failed_polls = 0

    def failed(self, error: BaseException) -> None:
        """Wait before the next poll after `error`, saying so; Detached when following cannot go on.
        Anything that is not an error of AWS or of the way to it is raised as it is (a bug to see)."""
        if not isinstance(error, (ClientError, BotoCoreError)):
            raise error
        said = aws_said(error) if isinstance(error, ClientError) else str(error)
        if has_expired_credentials(error):
            raise Detached(f"the credentials expired or are no longer valid ({said})", credentials=True) from None
        if not is_transient(error):
            raise Detached(said) from None
        self.failed_polls += 1
        if self.failed_polls >= self.max_failed_polls:
            raise Detached(f"{self.failed_polls} polls in a row failed, the last with {said}") from None
        wait = min(self.poll_seconds * 2 ** self.failed_polls, self.max_wait)
        kind = "throttled" if is_throttling(error) else "failed"
        self.out.write(f"  (a poll {kind}: {said}; polling again in {wait:g} s)\n")
        self.out.flush()
        self.sleep(wait)

    def call(self, request: Callable[[], object]):
        """`request()`, tried again after each transient error (with the waits of failed polls). Expired
        credentials are Detached as in a poll; any other error is raised as it is: before anything is
        followed, AWS refusing (e.g. AccessDenied) is the command's failure, exit 1."""
        while True:
            try:
                answer = request()
            except (ClientError, BotoCoreError) as error:
                if not (is_transient(error) or has_expired_credentials(error)):
                    raise
                self.failed(error)
                continue
            self.answered()
            return answer
