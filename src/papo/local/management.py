"""The `@connections` Management API: POST, GET and DELETE a connection."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from papo.local import ids
from papo.local.config import ApiConfig
from papo.local.connections import Registry


def _error(status: int, error_type: str, message: str | None) -> Response:
    """An error in the shape boto3 maps to `client.exceptions.<error_type>`."""
    return JSONResponse(
        {"message": message}, status_code=status, headers={"x-amzn-ErrorType": error_type}
    )


class ManagementApi:
    def __init__(self, config: ApiConfig, registry: Registry) -> None:
        self.config = config
        self.registry = registry

    async def endpoint(self, request: Request) -> Response:
        if request.path_params["stage"] != self.config.stage:
            return _error(403, "ForbiddenException", "Forbidden")
        connection_id = request.path_params["connection_id"]
        connection = self.registry.get(connection_id)
        if connection is None:
            return _error(410, "GoneException", None)
        if request.method == "POST":
            data = await request.body()
            if len(data) > self.config.limits.max_message_bytes:
                return _error(413, "PayloadTooLargeException", "Payload too large")
            try:
                frame: str | bytes = data.decode()
            except UnicodeDecodeError:
                frame = data
            if not await connection.send(frame):
                return _error(410, "GoneException", None)
            return Response(status_code=200)
        if request.method == "DELETE":
            await connection.close(1000)
            return Response(status_code=204)
        return JSONResponse(
            {
                "connectedAt": ids.iso8601(connection.peer.connected_at),
                "identity": {
                    "sourceIp": connection.peer.source_ip,
                    "userAgent": connection.peer.user_agent,
                },
                "lastActiveAt": ids.iso8601(connection.last_active_at),
            }
        )
