"""`papo conformance`: API Gateway's WebSocket behaviours a client can observe,
checked against any stage, papo serve's or AWS's (docs/conformance.md)."""

WAIT_S = 10.0
"""How long a check waits for an answer the stage owes it, unless told otherwise."""
