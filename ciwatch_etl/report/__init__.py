"""`ciwatch-etl report waste`: the monthly credit waste report for finance (HTML and XLSX).

`data` gathers the month from the marts (through the same queries as `metrics costs`, so the
numbers agree to the cent), `charts` draws them, `html` and `xlsx` write the two files.
"""
