"""The compiler: graph units rendered into training examples, incrementally and with provenance."""
