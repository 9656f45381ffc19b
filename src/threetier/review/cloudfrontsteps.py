"""Turning CloudFront on for a live site takes two deploys, so that no step leaves viewers without a way in.

In one deploy the load balancer would refuse everyone before anyone reaches it through
CloudFront: the security stack (before the app and edge stacks) removes the internet's rules,
the app stack's listener answers 403 to requests without the origin header, and only then does
the edge stack create the distribution and move the site's records to it. Viewers, and
resolvers that still hold the load balancer's address, get nothing or 403 in between.

    step 1  CloudFrontEnabled true, CloudFrontOnly false: the distribution and the origin
            record are created, the site's records move to the distribution, and the load
            balancer still admits and forwards everyone (its internet rules, its default action).
    step 2  CloudFrontOnly true (the next deploy): the internet's rules go and requests without
            the origin header get 403; by then every viewer reaches the site through CloudFront.

Why each step keeps a working path:
- Step 1: the load balancer answers everyone throughout, with or without the header, so
  whichever address a resolver holds, the old (the load balancer) or the new (CloudFront),
  leads to the app. The records name the distribution (Fn::GetAtt DomainName), so CloudFormation
  changes them only after it has created the distribution: a GetAtt makes the dependency
  (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html).
  CloudFront serves a distribution from the edges once its status is Deployed
  (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/distribution-web-values-returned.html).
- Between the steps: Route 53 applies a record change on all its name servers within about
  60 seconds (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html),
  and resolvers keep an alias answer for the target's TTL, which an alias record cannot set:
  60 seconds for a load balancer
  (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resource-record-sets-choosing-alias-non-alias.html).
  The next deploy (packaging, a change set, a review) comes later than that.
- Step 2: CloudFront's own rule (its origin-facing prefix list) and the listener rule that
  forwards requests with the header exist since step 1; the listener tries its rules before the
  default action that becomes 403
  (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-rules.html).
  Without a domain there are no records to move: users of the load balancer's own name move to
  the site URL (CloudFront's name) before step 2, after which that name answers 403.

Turning CloudFront off needs no second step: the same order opens the load balancer first
(security and app stacks) and moves the records back after (edge stack); the distribution and
the origin record are deleted last, in the cleanup phase after every stack has updated
(UPDATE_COMPLETE_CLEANUP_IN_PROGRESS: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-monitor-stack.html).

A new stack starts closed: nobody uses it yet, so there is nothing to stage.
"""

from __future__ import annotations

from dataclasses import dataclass

CLOUDFRONT = "CloudFrontEnabled"
ONLY = "CloudFrontOnly"


@dataclass(frozen=True)
class Step:
    """One of the two deploys: `number` 1 or 2 of 2, and the values that deploy sends."""

    number: int
    values: dict[str, str]

    def lines(self, env: str) -> list[str]:
        """What the review says about this step."""
        if self.number == 1:
            return [
                (f"CloudFront on, step 1 of 2: this deploy sends {ONLY}=false. It creates the distribution and "
                 "moves the site's records to it, while the load balancer still answers everyone directly, so "
                 "viewers whose resolvers still hold its address keep working."),
                (f"Step 2: run `threetier deploy {env}` again once this one is complete: it sends {ONLY}=true, and "
                 "the load balancer then answers CloudFront only (403 without the origin header)."),
            ]
        return [
            (f"CloudFront on, step 2 of 2: this deploy sends {ONLY}=true: the load balancer stops answering "
             "anyone but CloudFront (403 without the origin header) and its security group admits CloudFront's "
             "addresses only. Step 1 moved the site's records to the distribution."),
        ]

    def finished(self, env: str) -> str:
        """What deploy says once this step's update is complete."""
        if self.number == 1:
            return (f"CloudFront step 1 of 2 is done: the site is served through CloudFront and the load balancer "
                    f"still answers directly. Run `threetier deploy {env}` again to finish: the load balancer will "
                    "then answer CloudFront only.")
        return "CloudFront step 2 of 2 is done: the load balancer answers CloudFront only."

    def as_dict(self) -> dict:
        return {"step": self.number, "of": 2, ONLY: self.values[ONLY]}


def step(deployed: dict[str, str] | None, wanted: dict[str, str]) -> Step | None:
    """The step of turning CloudFront on that deploying `wanted` over `deployed` is, with the values to
    send; None when it is no such step. Both with the template's defaults filled in; `deployed` None
    for a stack that does not exist yet."""
    if deployed is None or not _closed(wanted):
        return None
    if not _on(deployed):
        return Step(1, {**wanted, ONLY: "false"})
    if not _closed(deployed):
        return Step(2, dict(wanted))
    return None


def halfway(deployed: dict[str, str], env: str) -> str | None:
    """What `status` says of a stack that step 1 left open to everyone (None otherwise)."""
    if not _on(deployed) or _closed(deployed):
        return None
    return (f"CloudFront step 1 of 2: the load balancer still answers everyone directly ({ONLY}=false); "
            f"`threetier deploy {env}` finishes it, unless parameters/{env}.json sets {ONLY} false.")


def _on(values: dict[str, str]) -> bool:
    return values.get(CLOUDFRONT) == "true"


def _closed(values: dict[str, str]) -> bool:
    """CloudFront on and the load balancer answering it only."""
    return _on(values) and values.get(ONLY, "true") == "true"
