"""`python -m ciwatch_etl`: the same command line as `ciwatch-etl`."""

from ciwatch_etl.cli import main

main()
