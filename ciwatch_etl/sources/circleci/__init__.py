"""The circleci API clients: HTTP in, plain records out."""
