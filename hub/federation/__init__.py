"""ActivityPub federation: actors, WebFinger, NodeInfo, outbox, inbox, HTTP Signatures, delivery.

Framework-free; the HTTP routes are in ``hub.api._federation``, the CLI in ``hub.cli._federation``.
Privacy model: catalogue data (orgs, sessions, courses, classes, library items) is public;
personal data (users, enrollments, demographics) only goes through the ``<tenant>.roster`` actor,
to followers a tenant admin approved, addressed to them only, and fetches of it must be signed
by such a follower. See docs/federation.md.
"""

from hub.federation._delivery import DeliveryQueue, FederationWorker, publish_changes, run_federation_worker
from hub.federation._fetch import Fetcher, RemoteActor, check_url, is_activitystreams
from hub.federation._follows import (
    FollowerRecord,
    FollowingRecord,
    approve,
    follow_remote,
    list_followers,
    list_following,
    received_objects,
    reject,
)
from hub.federation._inbox import receive
from hub.federation._keys import LocalActor, generate_key_pair
from hub.federation._objects import ActivityPart
from hub.federation._service import Federation, ResolvedActor
from hub.federation._signatures import (
    ParsedSignature,
    content_digest,
    digest_header,
    http_date,
    parse_signature,
    sign_request,
    sign_request_rfc9421,
)
from hub.federation._urls import INSTANCE_USERNAME, ActorName, base_url, parse_username

__all__ = [
    "INSTANCE_USERNAME",
    "ActivityPart",
    "ActorName",
    "DeliveryQueue",
    "Federation",
    "FederationWorker",
    "Fetcher",
    "FollowerRecord",
    "FollowingRecord",
    "LocalActor",
    "ParsedSignature",
    "RemoteActor",
    "ResolvedActor",
    "approve",
    "base_url",
    "check_url",
    "content_digest",
    "digest_header",
    "follow_remote",
    "generate_key_pair",
    "http_date",
    "is_activitystreams",
    "list_followers",
    "list_following",
    "parse_signature",
    "parse_username",
    "publish_changes",
    "receive",
    "received_objects",
    "reject",
    "run_federation_worker",
    "sign_request",
    "sign_request_rfc9421",
]
