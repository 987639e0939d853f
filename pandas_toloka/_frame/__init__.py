"""The frame room: what ``df.toloka`` does with a pandas frame.

Aggregation on the server joined back onto the frame's rows (remote, strategies),
aggregation on this machine (local, inputs), and one-line descriptions of a frame's
provenance (captions).
"""
