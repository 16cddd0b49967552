"""The LLM tier: one OpenAI-compatible client (:mod:`client`) with a response cache (:mod:`cache`)."""
