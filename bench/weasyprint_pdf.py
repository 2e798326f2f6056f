#!/usr/bin/python3
# PDFs per second from WeasyPrint's Python API in one process (its start is not counted),
# tagged as PDF/UA-1, of the HTML that bench/forms_bench.cpp writes for the same content.
# Usage: weasyprint_pdf.py HTML SECONDS OUT.pdf
import sys
import time

import weasyprint

html, seconds, out_path = sys.argv[1], float(sys.argv[2]), sys.argv[3]
source = open(html, encoding='utf-8').read()
out = weasyprint.HTML(string=source).write_pdf(variant='pdf/ua-1')  # warm up: fonts, CSS
n = 0
start = time.monotonic()
while True:
    out = weasyprint.HTML(string=source).write_pdf(variant='pdf/ua-1')
    n += 1
    if time.monotonic() - start >= seconds:
        break
took = time.monotonic() - start
open(out_path, 'wb').write(out)
print(f"pdfs={n} seconds={took:.2f} per_second={n / took:.2f} ms_per_pdf={1000 * took / n:.1f} bytes={len(out)}")
