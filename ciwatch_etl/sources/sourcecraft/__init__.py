"""The sourcecraft API clients: HTTP in, plain records out."""
