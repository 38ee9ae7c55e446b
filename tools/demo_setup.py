# Run by tools/run.sh inside ``odoo-bin shell``: a demo seller wired to the emulator.
import os

url = os.environ["AMAZON_FBM_EMULATOR_URL"]
env["ir.config_parameter"].sudo().set_param("amazon_fbm_connector.rate_scale", "20")
env.ref("base.user_admin").write({"password": "admin"})
env.company.country_id = env.ref("base.us")
Product = env["product.product"]
products = {}
for sku, name, price in [("DEMO-MUG", "Coffee mug", 12.0), ("DEMO-TSHIRT", "T-shirt", 19.0),
                         ("DEMO-POSTER", "Poster", 9.0), ("DEMO-CAP", "Cap", 15.0),
                         ("DEMO-KIT", "Gift kit (mug + poster)", 25.0)]:
    products[sku] = Product.search([("default_code", "=", sku)], limit=1) or Product.create(
        {"name": name, "default_code": sku, "detailed_type": "product", "list_price": price})
# Stock in the demo warehouse (an inventory adjustment: a done move, so Amazon is told)
stock = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1).lot_stock_id
# (more than the demo's 40 orders reserve, so that Amazon is offered some)
for sku, qty in [("DEMO-MUG", 140), ("DEMO-TSHIRT", 120), ("DEMO-POSTER", 110), ("DEMO-CAP", 90)]:
    if products[sku].qty_available < qty / 2:
        env["stock.quant"].with_context(inventory_mode=True).create({
            "product_id": products[sku].id, "location_id": stock.id,
            "inventory_quantity": qty})._apply_inventory()
kit = products["DEMO-KIT"]
if not env["mrp.bom"].search([("product_tmpl_id", "=", kit.product_tmpl_id.id)]):
    env["mrp.bom"].create({"product_tmpl_id": kit.product_tmpl_id.id, "type": "phantom",
                           "bom_line_ids": [(0, 0, {"product_id": products["DEMO-MUG"].id, "product_qty": 1}),
                                            (0, 0, {"product_id": products["DEMO-POSTER"].id, "product_qty": 1})]})
workflow = env["amazon.sale.workflow"].search([("name", "=", "Confirm + invoice + post")], limit=1) or \
    env["amazon.sale.workflow"].create({"name": "Confirm + invoice + post", "confirm_order": True,
                                        "create_invoice": True, "validate_invoice": True})
seller = env["amazon.seller"].search([("name", "=", "Demo Seller (emulator)")], limit=1)
vals = {"name": "Demo Seller (emulator)", "region": "na", "merchant_id": "A1DEMOSELLER",
        "lwa_client_id": "amzn1.application-oa2-client.demo", "lwa_client_secret": "demo-secret",
        "refresh_token": "Atzr|demo-refresh-token", "api_endpoint": url, "lwa_endpoint": url,
        "workflow_id": workflow.id, "order_prefix": "AMZ-",
        # Authorize with Amazon: the emulator's Seller Central and its demo app (tools/spapi_emulator/authorization.py)
        "seller_central_url": url, "spapi_app_id": "amzn1.sp.solution.5f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f"}
if seller:
    seller.write(vals)
else:
    seller = env["amazon.seller"].create(vals)
if not seller.marketplace_ids:
    env["amazon.marketplace"].create({
        "seller_id": seller.id, "reference_id": env.ref("amazon_fbm_connector.marketplace_us").id,
        "warehouse_id": env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1).id})
seller.marketplace_ids.filtered(lambda m: m.warehouse_id and not m.export_stock).export_stock = True
seller.action_test_connection()
env.cr.commit()
print("demo seller ready:", seller.name, "->", url)

# Order notifications: a queue on the local SQS server (tools/sqs.sh) and the seller
# subscribed to ORDER_CHANGE; the emulator publishes there (live mode: AMAZON_FBM_DEMO_LIVE).
sqs_endpoint = os.environ.get("AMAZON_FBM_SQS_ENDPOINT")
if sqs_endpoint:
    import boto3
    sqs = boto3.session.Session().client("sqs", region_name="us-east-1", endpoint_url=sqs_endpoint,
                                         aws_access_key_id="demo", aws_secret_access_key="demo")
    queue_url = sqs.create_queue(QueueName="amazon-orders-demo")["QueueUrl"]
    seller.write({"sqs_queue_url": queue_url, "sqs_region": "us-east-1", "sqs_endpoint": sqs_endpoint,
                  "aws_access_key_id": "demo", "aws_secret_access_key": "demo",
                  "notification_state": "off"})
    seller.action_subscribe_notifications()
    env.cr.commit()
    print("demo seller subscribed to order notifications:", seller.notification_state, queue_url)
