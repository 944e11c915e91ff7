"""papo's local emulator of API Gateway's WebSocket API (`papo serve`).

It knows nothing of chat: it runs any Python WebSocket Lambda handler the way
API Gateway and Lambda would, routes, events, limits, error frames and the
`@connections` Management API included.
"""
