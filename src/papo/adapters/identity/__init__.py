"""Who is connecting: OpenID Connect tokens, checked against their issuer."""
