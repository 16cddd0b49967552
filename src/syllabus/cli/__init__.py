"""The command line: thin wrappers that parse arguments, call library functions and print."""
