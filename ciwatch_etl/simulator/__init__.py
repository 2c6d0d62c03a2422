"""Stand-ins for the providers' APIs over real HTTP on loopback, one package per provider
(`circleci/`, `sourcecraft/`, `gocdnext/`); `http_base`, `faults` and `rate_limit` are shared."""
