"""Workflows: the code that calls several stages in one go (repair through the compiler, ...)."""
