"""Who is at the door: OpenID Connect tokens, checked against their issuer."""
