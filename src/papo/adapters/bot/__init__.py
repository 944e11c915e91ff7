"""The bot's adapters: the OpenAI SDK, and where its API key comes from."""
