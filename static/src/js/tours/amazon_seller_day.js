/** @odoo-module **/
/**
 * A seller's day in the Amazon app, in a real browser (run by
 * tests/test_tour.py against the SP-API emulator): the dashboard, an unshipped
 * import from Operations to a report handed to the scheduler (Process File
 * returns at once); then, once the scheduler imported it, the processed report,
 * the FBM orders, one order and its delivery, validated with a carrier and a
 * tracking number, and confirmed to Amazon; Export Stock, and the quantities
 * Amazon accepted (Stock on Amazon); an unshipped order cancelled on Amazon with
 * Amazon's reason, and (last part) Amazon's acceptance on the order.
 */
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";


function menu(xmlid) {
    return `.o_main_navbar [data-menu-xmlid="amazon_fbm_connector.${xmlid}"]`;
}

function status(label) {
    return `.o_form_view .o_statusbar_status button[aria-checked="true"]:contains("${label}")`;
}

function offerCell(sku, field, text) {
    return `.o_list_view .o_data_row:has(.o_data_cell[name="sku"]:contains("${sku}")) .o_data_cell[name="${field}"]:contains("${text}")`;
}

/** Amazon ↣ Operations, the tour's seller chosen (its marketplace comes with it). */
function operationsFor(content) {
    return [
        {
            content,
            trigger: menu("menu_amazon_operations"),
        },
        {
            content: "Choose the seller",
            trigger: '.o_field_widget[name="seller_id"] input',
            run: "text Tour Seller",
        },
        {
            content: "Tour Seller",
            trigger: '.o-autocomplete--dropdown-menu .dropdown-item:contains("Tour Seller")',
        },
        {
            content: "Its marketplace is chosen for it",
            trigger: '.o_field_widget[name="marketplace_ids"] .badge:contains("Amazon.com — Tour Seller")',
            isCheck: true,
        },
    ];
}

registry.category("web_tour.tours").add("amazon_fbm_seller_day", {
    test: true,
    url: "/web",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the Amazon app",
            trigger: '.o_app[data-menu-xmlid="amazon_fbm_connector.menu_amazon_root"]',
        },
        {
            content: "The app opens on the dashboard: a card per marketplace, connected",
            trigger: '.o_amazon_dashboard .o_amazon_dashboard_card:contains("Amazon.com — Tour Seller"):contains("Connected to Amazon")',
            isCheck: true,
        },
        {
            content: "Nothing to ship yet",
            trigger: '.o_amazon_dashboard_card .o_amazon_unshipped:contains("0")',
            isCheck: true,
        },
        ...operationsFor("Open Operations"),
        {
            content: "Choose Import Unshipped Orders",
            trigger: '.o_field_widget[name="operation"] label:contains("Import Unshipped Orders")',
        },
        {
            content: "Execute",
            trigger: '.modal-footer button[name="action_execute"]',
        },
        {
            content: "The Unshipped Orders report is asked of Amazon",
            trigger: status("Submitted"),
            extra_trigger: '.o_field_widget[name="report_type_name"]:contains("Unshipped Orders report")',
            isCheck: true,
        },
        {
            content: "Check Status",
            trigger: '.o_statusbar_buttons button[name="action_check_status"]',
        },
        {
            content: "Amazon is preparing the report: the form says to check again",
            trigger: status("In Progress"),
            extra_trigger: '.o_amazon_state_hint:contains("press Check Status in a minute")',
            isCheck: true,
        },
        {
            content: "Check Status again",
            trigger: '.o_statusbar_buttons button[name="action_check_status"]',
        },
        {
            content: "The report is Done",
            trigger: status("Done"),
            extra_trigger: '.o_amazon_state_hint:contains("Process File")',
            isCheck: true,
        },
        {
            content: "Process File",
            trigger: '.o_statusbar_buttons button[name="action_process_file"]',
        },
        {
            content: "The click hands the report to the scheduler and returns at once",
            trigger: '.o_amazon_state_hint:contains("in the background")',
            isCheck: true,
        },
        ...operationsFor("Open Operations again"),
        {
            content: "Choose Export Stock",
            trigger: '.o_field_widget[name="operation"] label:contains("Export Stock")',
        },
        {
            content: "Execute",
            trigger: '.modal-footer button[name="action_execute"]',
            extra_trigger: '.o_field_widget[name="operation"] input[data-value="fbm_export_stock"]:checked',
        },
        {
            content: "The click wakes the stock export, returns at once and closes the wizard",
            trigger: '.o_notification:contains("The stock export sends the quantities that changed on Amazon.com in the background")',
            extra_trigger: 'body:not(:has(.modal))',
            in_modal: false,
            isCheck: true,
        },
    ],
});

// Started on the report's form once the scheduler has imported it.
registry.category("web_tour.tours").add("amazon_fbm_seller_day_orders", {
    test: true,
    steps: () => [
        {
            content: "Processed: the orders are created",
            trigger: status("Processed"),
            extra_trigger: '.o_amazon_state_hint:contains("2 created")',
            isCheck: true,
        },
        {
            content: "Open Sales",
            trigger: menu("menu_amazon_sales"),
        },
        {
            content: "Open the FBM orders",
            trigger: `.dropdown-menu [data-menu-xmlid="amazon_fbm_connector.menu_amazon_sales_fbm_orders"]`,
        },
        {
            content: "The FBM orders list shows the imported orders",
            trigger: '.o_list_view .o_data_row .o_data_cell[name="amazon_order_ref"]:contains("902-1111111-0000001")',
            extra_trigger: '.o_list_view .o_data_row:eq(1)',
            isCheck: true,
        },
        {
            content: "Filter on Unshipped",
            trigger: ".o_searchview_dropdown_toggler",
        },
        {
            content: "Unshipped",
            trigger: '.o_filter_menu .o_menu_item:contains("Unshipped")',
        },
        {
            content: "Open one order",
            trigger: '.o_list_view .o_data_row .o_data_cell[name="amazon_order_ref"]:contains("902-1111111-0000001")',
        },
        {
            content: "The order says where it came from",
            trigger: '.o-mail-Message:contains("Imported from Sale Order Report")',
            isCheck: true,
        },
        {
            content: "Open its delivery",
            trigger: '.o_form_view button[name="action_view_delivery"]',
        },
        {
            content: "The delivery is ready",
            trigger: status("Ready"),
            isCheck: true,
        },
        {
            content: "Open the delivery's Additional Info",
            trigger: '.o_notebook .nav-link:contains("Additional Info")',
        },
        {
            content: "Choose the carrier",
            trigger: '.o_field_widget[name="carrier_id"] input',
            run: "text UPS",
        },
        {
            content: "UPS Ground",
            trigger: '.o-autocomplete--dropdown-menu .dropdown-item:contains("UPS Ground")',
        },
        {
            content: "Enter the tracking number",
            trigger: '.o_field_widget[name="carrier_tracking_ref"] input',
            run: "text 1Z999AA10123456784",
        },
        {
            content: "Validate the delivery",
            trigger: '.o_statusbar_buttons button[name="button_validate"]',
        },
        {
            content: "The delivery is done; Amazon is still to be told",
            trigger: status("Done"),
            extra_trigger: '.o_field_widget[name="amazon_confirm_state"]:contains("To Send")',
            isCheck: true,
        },
        {
            content: "Send to Amazon",
            trigger: '.o_statusbar_buttons button[name="action_amazon_send_confirmation"]',
        },
        {
            content: "Amazon accepted the shipment confirmation",
            trigger: '.o_field_widget[name="amazon_confirm_state"]:contains("Sent")',
            extra_trigger: '.o_notification:contains("Amazon accepted the shipment")',
            isCheck: true,
        },
        // The stock export ran: what Amazon accepted, per SKU
        {
            content: "Open FBM",
            trigger: menu("menu_amazon_fbm"),
        },
        {
            content: "Open Stock on Amazon",
            trigger: `.dropdown-menu [data-menu-xmlid="amazon_fbm_connector.menu_amazon_stock_offer"]`,
        },
        {
            content: "Amazon accepted 48 of SKU-A (50 on hand, 2 ordered)",
            trigger: offerCell("SKU-A", "amazon_quantity", "48"),
            extra_trigger: offerCell("SKU-A", "state", "On Amazon"),
            isCheck: true,
        },
        {
            content: "and 49 of SKU-B (50 on hand, 1 ordered)",
            trigger: offerCell("SKU-B", "amazon_quantity", "49"),
            isCheck: true,
        },
        // The other order cannot ship: cancel it on Amazon
        {
            content: "Open Sales",
            trigger: menu("menu_amazon_sales"),
        },
        {
            content: "Open the FBM orders",
            trigger: `.dropdown-menu [data-menu-xmlid="amazon_fbm_connector.menu_amazon_sales_fbm_orders"]`,
        },
        {
            content: "Open the unshipped order",
            trigger: '.o_list_view .o_data_row .o_data_cell[name="amazon_order_ref"]:contains("902-1111111-0000002")',
        },
        {
            content: "Cancel on Amazon",
            trigger: '.o_form_view .o_statusbar_buttons button[name="action_amazon_cancel_on_amazon"]',
            extra_trigger: '.o_form_view .o_field_widget[name="name"]:contains("902-1111111-0000002")',
        },
        {
            content: "Amazon's reason: the address cannot be delivered",
            trigger: '.o_field_widget[name="reason"] select',
            run: "text Shipping address undeliverable",
        },
        {
            content: "Send to Amazon",
            trigger: '.modal-footer button[name="action_confirm"]',
        },
        {
            content: "Nothing is cancelled yet: the cancellation is queued for Amazon",
            trigger: '.o_form_view .alert-info:contains("on its way"):contains("Cancellation Queued")',
            extra_trigger: '.o_notification:contains("the cancellation goes to Amazon with the next feed")',
            in_modal: false,
            isCheck: true,
        },
        {
            content: "The order is still a sales order",
            trigger: status("Sales Order"),
            isCheck: true,
        },
    ],
});

// Started on the cancelled order once the cancellations cron read Amazon's report.
registry.category("web_tour.tours").add("amazon_fbm_seller_day_cancelled", {
    test: true,
    steps: () => [
        {
            content: "Open the order's Amazon page",
            trigger: '.o_notebook .nav-link:contains("Amazon")',
            extra_trigger: '.o_form_view .o_field_widget[name="name"]:contains("902-1111111-0000002")',
        },
        {
            content: "Amazon accepted the cancellation: the order is cancelled in Odoo",
            trigger: '.o_form_view .o_field_widget[name="amazon_cancel_state"]:contains("Accepted by Amazon")',
            extra_trigger: status("Cancelled"),
            isCheck: true,
        },
        {
            content: "with the reason sent",
            trigger: '.o_form_view .o_field_widget[name="amazon_cancel_code"]:contains("Shipping address undeliverable")',
            isCheck: true,
        },
        {
            content: "Open FBM",
            trigger: menu("menu_amazon_fbm"),
        },
        {
            content: "Open Stock on Amazon",
            trigger: `.dropdown-menu [data-menu-xmlid="amazon_fbm_connector.menu_amazon_stock_offer"]`,
        },
        {
            content: "The cancelled order's unit went back to Amazon: 50 of SKU-B",
            trigger: offerCell("SKU-B", "amazon_quantity", "50"),
            isCheck: true,
        },
    ],
});
