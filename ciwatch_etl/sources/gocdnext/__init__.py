"""The gocdnext API clients: HTTP in, plain records out."""
