"""`papo conformance`: API Gateway's WebSocket behaviours a client can observe,
checked against any stage, papo serve's or AWS's (docs/conformance.md)."""
