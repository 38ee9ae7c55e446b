"""Code that talks to Amazon or turns Amazon data into Odoo records.

Nothing here imports Odoo at module level except ``order_builder`` and
``auto_workflow``, which take an Odoo environment; the rest is tested with
plain pytest.
"""
