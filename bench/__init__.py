"""`make bench`: how fast and how big bird.ai is, measured in one run on this machine.

Every figure is compared with the compute floor: the time the model's arithmetic
would take if the CPU ran at its measured matrix-multiply peak. A figure near the
floor cannot get much better without a smaller model; a figure far above it points
at overhead worth finding (decoding, copying, Python, the network).

Each measurement is a function `measure(context) -> list[Row]` listed in
bench/__main__.py; a new figure is a new function there.
"""
