"""The client's HTTP room: one request from path and body to a checked answer.

Transport (session, retry loop), one attempt (send, read, classify), retry decisions and
error mapping, credentials, the server's clock and adoption of a lost start, request
paths, request bodies and the shapes of the server's answers. Nothing here knows about
frames or pages.
"""
