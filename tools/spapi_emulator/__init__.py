"""A real HTTP SP-API emulator on loopback, for tests, the demo and benchmarks.

It answers the LWA token endpoint and the Reports 2021-06-30, Tokens
2021-03-01, Sellers v1 and Orders v0 operations the addon uses, with the
official paths and JSON shapes, Amazon's usage plans (scalable) answered by
real 429 QuotaExceeded bodies, NextToken pagination, restricted data tokens,
reports that move IN_QUEUE -> IN_PROGRESS -> DONE over polls (or FATAL /
CANCELLED), gzip documents, and fault injection; and Seller Central's consent page
of the website authorization workflow with LWA's authorization_code grant.
"""
from .scenario import MARKETPLACES, Scenario  # noqa: F401
from .server import Emulator  # noqa: F401
