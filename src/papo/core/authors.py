"""Who may change a line: the person who said it, known by the most lasting
thing papo knows of them.

The name alone would not do: without `PAPO_AUTH`, whoever joins under a name
someone left may take it, and would then change what the other said. So a
line keeps its author: the identity papo's authorizer let in, or else the
resumable session (which a person's other device or a reconnection takes
over), or else the connection itself.
"""

from __future__ import annotations

from papo.core.ports import Connection


def author_of(connection: Connection) -> str:
    """The author a line said on `connection` keeps."""
    if connection.principal is not None:
        return f"principal:{connection.principal}"
    if connection.session is not None:
        return f"session:{connection.session}"
    return f"connection:{connection.connection_id}"
