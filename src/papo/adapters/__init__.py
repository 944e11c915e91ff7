"""The adapters behind the core's ports: stores, delivery, the bot."""
