"""What `ciwatch-etl` exits with, the same for every command.

- `OK` (0): done.
- `FAILED` (1): the request was valid but the work failed: a step of the run, a folder that cannot
  be written, the write lock still held by another process, a warehouse that is missing,
  unreadable or older than the models, a month without data, nothing configured to pull.
- `BAD_INPUT` (2): the request itself is wrong: an unknown option or command, a value that is not
  a date, month, number or selection (or is out of range), a setting such as
  `CIWATCH_CREDIT_PRICE_USD` that is not a number, a file that is not a usage export.
"""

OK, FAILED, BAD_INPUT = 0, 1, 2
