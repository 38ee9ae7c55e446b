# A 100,000-line Amazon settlement (issue 19): the seconds and the memory growth of
# (1) parsing it, streamed, from the gzip document Amazon serves, and (2) importing it
# through the cron's work units: download from the emulator, store its amounts
# (amazon.settlement.line), book them as a bank statement of the settlement journal and
# close it (the orders are not in this database: every order's amounts go to the
# statement's suspense account, so this measures storing and booking, not matching).
# Targets: <= 60 s and <= 100 MB of memory growth. Then Odoo's floor: statement lines
# created by Odoo the standard way, per statement line against ours; and Odoo's bare floor,
# the same sample through Odoo's create alone as ours calls it (what no booking through it
# goes below). BENCH_SETTLEMENT_LINES
# sets the size, BENCH_SETTLEMENT_FLOOR the floor's sample (1,000; 0: none);
# BENCH_SETTLEMENT_IMPORT=0 only parses. Then a matched settlement: BENCH_SETTLEMENT_MATCHED
# orders (500; 0: none) imported, invoiced and paid into the settlement journal, and their
# settlement, every statement line matched and reconciled. BENCH_SETTLEMENT_PROFILE=1 (or
# unmatched, or matched) profiles that booking (BENCH_CALLEES: pstats expressions whose
# callees to print; BENCH_PROFILE_FILE: where to dump the profile). Run by
# ``tools/bench.sh settlement`` inside ``odoo-bin shell``.
import gc
import os
import sys

sys.path.insert(0, os.environ["AMAZON_FBM_ROOT"])
from odoo.addons.amazon_fbm_connector.services.document_stream import DocumentLines  # noqa: E402
from odoo.addons.amazon_fbm_connector.services.rate_limit import RateLimiter  # noqa: E402
from odoo.addons.amazon_fbm_connector.services.settlement_parser import read_settlement  # noqa: E402
from odoo.addons.amazon_fbm_connector.tools.spapi_emulator import Emulator, Scenario  # noqa: E402
from tools.bench_common import Measure, setup  # noqa: E402

LINES = int(os.environ.get("BENCH_SETTLEMENT_LINES", "100000"))
MATCHED = int(os.environ.get("BENCH_SETTLEMENT_MATCHED", "500"))
FLOOR = int(os.environ.get("BENCH_SETTLEMENT_FLOOR", "1000"))
IMPORT = os.environ.get("BENCH_SETTLEMENT_IMPORT", "1") != "0"
env = globals()["env"]  # given by odoo-bin shell


MEASURED = []


def db_cpu_seconds():
    """CPU seconds PostgreSQL's backend of this cursor used so far (Linux, same machine),
    or None: with the Odoo process's own CPU, the work done, whatever else runs."""
    env.cr.execute("SELECT pg_backend_pid()")
    try:
        with open("/proc/%d/stat" % env.cr.fetchone()[0], encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None


def measure(label, fn):
    db_before = db_cpu_seconds()
    with Measure() as measured:
        result = fn()
    db_after = db_cpu_seconds()
    measured.db_seconds = db_after - db_before if db_before is not None else None
    MEASURED.append(measured)
    print("| %s | %.1f s | %.1f MB%s | %.1f s + %s |" % (
        label, measured.seconds, measured.growth_mb,
        "" if measured.exact else " (peak RSS, at most)", measured.cpu_seconds,
        "%.1f s" % measured.db_seconds if measured.db_seconds is not None else "?"))
    return result


def measure_booking(label, fn, which):
    """``measure``, under cProfile when BENCH_SETTLEMENT_PROFILE names this booking
    (``unmatched``, ``matched``; ``1``: the first)."""
    wanted = os.environ.get("BENCH_SETTLEMENT_PROFILE", "")
    if wanted != which and not (wanted == "1" and which == "unmatched"):
        return measure(label, fn)
    import cProfile
    import pstats
    profiler = cProfile.Profile()
    result = measure(label, lambda: profiler.runcall(fn))
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("cumulative").print_stats("_compute_|_inverse|_check|_post|write", 60)
    stats.sort_stats("tottime").print_stats(40)
    for expr in filter(None, os.environ.get("BENCH_CALLEES", "").split(",")):
        stats.sort_stats("cumulative").print_callees(expr)
    if os.environ.get("BENCH_PROFILE_FILE"):
        profiler.dump_stats(os.environ["BENCH_PROFILE_FILE"])
    return result


# A scenario with enough shipped orders for LINES rows (about 12 rows an order).
# (and MATCHED more, which Odoo imports, invoices and pays: the matched settlement)
scenario = Scenario.generate(max(10, LINES // 10) + MATCHED, shipped_ratio=1.0, seed=19)
emulator = Emulator(scenario, rate_scale=1000.0).start()
orders = list(scenario.orders)
report_id, builder = emulator.add_settlement(orders[:1], fees=[("Subscription Fee", "-39.99")])
for oid in orders[1:]:
    if len(builder.rows) >= LINES:
        break
    builder.order(scenario.orders[oid])
del builder.rows[LINES:]
# the stored document, as Amazon serves it (gzip), with every row
document_id = emulator.reports[report_id]["reportDocumentId"]
del emulator.documents[document_id]
emulator.reports[report_id]["reportDocumentId"] = emulator._store_document(
    builder.text(), emulator.reports[report_id])
raw = emulator.documents[emulator.reports[report_id]["reportDocumentId"]]["body"]
rows_total = len(builder.rows)
print("Settlement of %d amount lines (%d orders), gzip document %.1f MB" % (
    rows_total, len({r["order-id"] for r in builder.rows}), len(raw) / 1e6))
del builder
gc.collect()

print("| step | time | memory growth | CPU: Odoo + PostgreSQL |")
print("|---|---|---|---|")


def parse():
    settlement = read_settlement(DocumentLines(raw, "GZIP", "UTF-8"))
    count = sum(1 for _row in settlement.rows())
    assert count == rows_total, (count, rows_total)
    return count


measure("parse %d lines (streamed)" % rows_total, parse)

if IMPORT:
    seller = setup(env, emulator, name=os.environ.get("BENCH_SETTLEMENT_SELLER",
                                                      "Bench settlement seller"))
    seller.settlement_cursor = False
    env.cr.commit()
    RateLimiter.reset()

    def store(report=report_id):
        seller.settlement_cursor = False
        seller._settlement_list()
        env.cr.commit()
        settlement = env["amazon.settlement"].search([("seller_id", "=", seller.id),
                                                      ("amazon_report_id", "=", report)])
        settlement._settlement_step()
        env.cr.commit()
        env.invalidate_all()
        return settlement

    settlement = measure("download + store %d amounts" % rows_total, store)

    def book(settlement=settlement):
        steps = 0
        while settlement.stage == "book":
            settlement._settlement_step()
            env.cr.commit()
            env.invalidate_all()
            steps += 1
        return steps

    steps = measure_booking("book + close (statement lines, payout)", book, "unmatched")
    # the import in all: the two steps' times, and their memory growths added (each
    # from its own start: at most the growth of the whole import)
    print("| import in all (download, store, book, close) | %.1f s | %.1f MB | %.1f s + %.1f s |" % (
        sum(m.seconds for m in MEASURED[1:]), sum(m.growth_mb for m in MEASURED[1:]),
        sum(m.cpu_seconds for m in MEASURED[1:]), sum(m.db_seconds or 0 for m in MEASURED[1:])))
    print()
    statement_lines = len(settlement.statement_id.line_ids)
    print("%d booking batches; settlement %s: %d amounts, %d statement lines, state %s" % (
        steps, settlement.settlement_ref, settlement.line_count, statement_lines, settlement.state))

    if FLOOR:
        # Odoo's own floor: posted statement lines created the standard way (each with the
        # journal's suspense line, Odoo numbering and checking each entry), 200 a batch
        # and committed like ours, in a bank journal of their own; a sample of FLOOR lines
        journal = env["account.journal"].create({"name": "Bench floor", "code": "BFLR",
                                                 "type": "bank"})
        env.cr.commit()

        def floor():
            done = 0
            while done < FLOOR:
                count = min(200, FLOOR - done)
                env["account.bank.statement.line"].create([{
                    "journal_id": journal.id, "date": settlement.date_end.date(),
                    "payment_ref": "Floor %d" % (done + i), "amount": 10.0 + i}
                    for i in range(count)])
                env.cr.commit()
                env.invalidate_all()
                done += count

        print()
        print("| step | time | memory growth | CPU: Odoo + PostgreSQL |")
        print("|---|---|---|---|")
        measure("Odoo's floor: %d statement lines created by Odoo" % FLOOR, floor)
        floor_measured = MEASURED[-1]
        ours_ms = MEASURED[2].seconds * 1000.0 / statement_lines
        floor_ms = floor_measured.seconds * 1000.0 / FLOOR
        # Odoo's bare floor: the same sample through Odoo's statement-line create alone, as
        # ours calls it (no tracking, names given, one balance check a batch) with two
        # journal items each, nothing read or matched: what no booking through Odoo's
        # create goes below, per statement line
        from odoo import Command
        from odoo.addons.amazon_fbm_connector.services.settlement_booking import SettlementBooking
        bare_journal = env["account.journal"].create({"name": "Bench bare floor", "code": "BBARE",
                                                      "type": "bank"})
        env.cr.commit()
        booking = SettlementBooking(settlement)
        day = settlement.date_end.date()

        def bare_vals(i):
            amount = 10.0 + i % 50
            label = "Bare %d" % i
            item = {"name": label, "currency_id": env.company.currency_id.id}
            return {"journal_id": bare_journal.id, "date": day, "payment_ref": label,
                    "amount": amount, "name": "BBARE/%s/%05d" % (day.strftime("%Y/%m"), i + 1),
                    "line_ids": [
                        Command.create(dict(item, account_id=bare_journal.default_account_id.id,
                                            amount_currency=amount, balance=amount)),
                        Command.create(dict(item, account_id=bare_journal.suspense_account_id.id,
                                            amount_currency=-amount, balance=-amount))]}

        def bare_floor():
            for start in range(0, FLOOR, 200):
                booking._check_balanced(booking._statement_lines().create(
                    [bare_vals(i) for i in range(start, min(start + 200, FLOOR))]))
                env.cr.commit()
                env.invalidate_all()

        measure("Odoo's bare floor: %d statement lines through Odoo's create alone" % FLOOR,
                bare_floor)
        bare_ms = MEASURED[-1].seconds * 1000.0 / FLOOR
        print()
        print("per statement line: ours %.1f ms (its amounts read, matched and marked, its entry "
              "numbered and posted), Odoo's floor %.1f ms: ours %.1f times faster" % (
                  ours_ms, floor_ms, floor_ms / ours_ms))
        print("Odoo's bare floor %.1f ms a statement line: its create alone of these %d statement "
              "lines takes %.1f s; with storing the amounts (%.1f s), %.1f s" % (
                  bare_ms, statement_lines, bare_ms * statement_lines / 1000.0,
                  MEASURED[1].seconds, bare_ms * statement_lines / 1000.0 + MEASURED[1].seconds))

    if MATCHED:
        # A settlement of orders Odoo has: MATCHED shipped orders imported by the connector,
        # invoiced and paid into the settlement journal by the auto workflow (set-up, not
        # measured against the target); then their settlement, whose every statement line
        # is matched and reconciled with its payment, fees and withheld tax on their accounts
        from odoo.addons.amazon_fbm_connector.services.auto_workflow import AutoWorkflow
        from odoo.addons.amazon_fbm_connector.services.normalize import from_orders_api
        from odoo.addons.amazon_fbm_connector.services.order_builder import OrderBuilder
        journal = seller._settlement_journal()
        seller.workflow_id = env["amazon.sale.workflow"].create({
            "name": "Bench invoice and pay", "confirm_order": True, "create_invoice": True,
            "validate_invoice": True, "register_payment": True,
            "payment_journal_id": journal.id})
        env.cr.commit()
        matched_ids = orders[-MATCHED:]

        def build_orders():
            for start in range(0, MATCHED, 50):
                chunk = [from_orders_api(scenario.orders[o]["order"], scenario.orders[o]["items"])
                         for o in matched_ids[start:start + 50]]
                results = OrderBuilder(seller, shipped=True).build(chunk)
                created = env["sale.order"].browse(
                    [r.sale_order.id for r in results if r.state == "created"])
                AutoWorkflow(seller.workflow_id, force_confirm=True).run(created)
                env.cr.commit()
                env.invalidate_all()

        print()
        print("| matched settlement | time | memory growth | CPU: Odoo + PostgreSQL |")
        print("|---|---|---|---|")
        measure("set-up: %d orders imported, invoiced and paid" % MATCHED, build_orders)
        paid = env["sale.order"].search_count([
            ("amazon_seller_id", "=", seller.id), ("amazon_order_ref", "in", matched_ids),
            ("invoice_ids.payment_state", "in", ("in_payment", "paid"))])
        report_matched, builder = emulator.add_settlement(
            matched_ids, fees=[("Subscription Fee", "-39.99")])
        matched_rows = len(builder.rows)
        del builder
        matched = measure("download + store %d amounts" % matched_rows,
                          lambda: store(report_matched))
        matched_steps = measure_booking("book + close (statement lines matched and reconciled)",
                                        lambda: book(matched), "matched")
        matched_lines = len(matched.statement_id.line_ids)
        print()
        print("%d orders paid before; %d booking batches; settlement %s: %d amounts, %d statement "
              "lines, %d not matched, state %s" % (
                  paid, matched_steps, matched.settlement_ref, matched.line_count, matched_lines,
                  matched.unmatched_count, matched.state))
        print("per statement line, matched and reconciled: %.1f ms (booking; %.1f ms with "
              "storing the amounts)" % (MEASURED[-1].seconds * 1000.0 / matched_lines,
                                        (MEASURED[-1].seconds + MEASURED[-2].seconds) * 1000.0
                                        / matched_lines))
emulator.stop()
