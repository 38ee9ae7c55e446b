"""Deliver shipped Amazon orders at once.

Amazon already shipped these orders, so their deliveries are validated right
away from the marketplace's FBM warehouse. An untracked product without
stock is delivered anyway (its stock goes negative). A lot/serial-tracked
product needs real lots: its delivery waits for stock and is dispatched by a
cron once a receipt brings some.

The queue workers defer these deliveries: a batch commits its orders with
their deliveries flagged ``amazon_dispatch_pending``, then ``dispatch_pending``
validates the flagged ones, one worker at a time. Validating deliveries updates
the same stock quants whatever the order; under Odoo's repeatable read, two
workers doing it inside their batches would make each other's batches fail
(a quant another worker updated since the batch began cannot be locked). The
dispatch runs on a snapshot taken after it holds the lock, so it sees every
quant update before its own. A worker killed between the two steps leaves
flagged deliveries that the next run validates.
"""


def open_outgoing(orders):
    return orders.picking_ids.filtered(
        lambda p: p.state not in ("done", "cancel") and p.picking_type_code == "outgoing")


def deliver(orders):
    """Validate what can be validated; returns the pickings left waiting."""
    waiting = orders.env["stock.picking"]
    pickings = open_outgoing(orders)
    if not pickings:
        return waiting
    pickings.action_assign()
    ready = pickings.browse()
    for picking in pickings:
        moves = picking.move_ids.filtered(lambda m: m.state not in ("done", "cancel"))
        tracked = moves.filtered(lambda m: m.has_tracking != "none")
        if tracked and any(m.quantity < m.product_uom_qty for m in tracked):
            waiting |= picking
            continue
        for move in moves - tracked:
            if move.quantity < move.product_uom_qty:
                move.quantity = move.product_uom_qty
        moves.picked = True
        ready |= picking
    if ready:
        # Amazon shipped these: their deliveries are not confirmed back to Amazon.
        ready.with_context(skip_backorder=True, skip_sms=True, skip_expired=True,
                           cancel_backorder=True, skip_immediate=True,
                           amazon_shipped_on_amazon=True)._action_done()
    if waiting:
        waiting.amazon_waiting_stock = True
    return waiting


def deliver_quantities(orders, shipped):
    """Validate what Amazon already shipped of a partially shipped order.

    ``shipped``: ``{sale.order.line id: quantity shipped}``. Those quantities
    are delivered; the rest stays to ship in a backorder. Lot/serial-tracked
    moves are left to the seller (their lots are not known)."""
    pickings = open_outgoing(orders)
    if not pickings:
        return pickings
    pickings.action_assign()
    ready = pickings.browse()
    for picking in pickings:
        moves = picking.move_ids.filtered(lambda m: m.state not in ("done", "cancel"))
        todo = {move: min(shipped.get(move.sale_line_id.id, 0), move.product_uom_qty)
                for move in moves if move.has_tracking == "none"}
        if not any(todo.values()):
            continue
        for move in moves:
            qty = todo.get(move, 0)
            if move.quantity != qty:
                move.quantity = qty
            move.picked = bool(qty)
        ready |= picking
    if ready:
        ready.with_context(skip_sms=True, skip_expired=True, cancel_backorder=False,
                           skip_immediate=True)._action_done()
    return ready


def defer(orders):
    """Flag the open deliveries of shipped ``orders`` for ``dispatch_pending``."""
    pickings = open_outgoing(orders)
    if pickings:
        pickings.amazon_dispatch_pending = True
    return pickings


def dispatch_pending(runner, limit=500):
    """Validate up to ``limit`` flagged deliveries, one worker at a time across servers
    (a waited-for advisory lock, through ``runner``); returns how many were handled.
    Committed by the runner."""
    with runner.lock("delivery_dispatch", wait=True):
        return runner.run_batch(_dispatch_flagged, runner.env, limit)


def _dispatch_flagged(env, limit):
    pickings = env["stock.picking"].sudo().search(
        [("amazon_dispatch_pending", "=", True)], order="id", limit=limit)
    if pickings:
        deliver(pickings.sale_id)
        pickings.amazon_dispatch_pending = False
    return len(pickings)
