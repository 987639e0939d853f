"""The client's reading room: from a pool or an operation to typed Arrow pages.

Argument checks, starting and waiting for operations, keyset pages decoded to Arrow
(aggregated solutions, assignments), the one prefetch thread and the progress bars.
"""
