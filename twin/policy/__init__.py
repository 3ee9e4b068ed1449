"""Policies as evaluation sees them: ``Policy.infer(obs) -> {"actions": (K, D), ...}``.

Implementations: ``CallablePolicy`` (a Python function), ``WebsocketClientPolicy`` (openpi's
websocket + msgpack protocol), ``OraclePolicy`` (scripted, privileged state; the tests'
reference). ``serve_policy`` wraps any ``Policy`` (or callable) in a websocket server.
``ActionChunk`` executes chunks in a Gymnasium env.
"""

from twin.policy.base import Policy, PolicyError, validate_policy_output
from twin.policy.callable import CallablePolicy
from twin.policy.chunk import ActionChunk

__all__ = ["ActionChunk", "CallablePolicy", "Policy", "PolicyError", "validate_policy_output"]
