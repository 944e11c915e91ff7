"""papo: a serverless WebSocket chat with a ChatGPT bot in the room."""

__version__ = "0.1.0"
