/** @odoo-module **/
/**
 * A seller's day in the Amazon app, in a real browser (run by
 * tests/test_tour.py against the SP-API emulator): the dashboard, an unshipped
 * import from Operations to a report handed to the scheduler (Process File
 * returns at once); then, once the scheduler imported it, the processed report,
 * the FBM orders, one order and its delivery, validated with a carrier and a
 * tracking number, and confirmed to Amazon.
 */
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";


function menu(xmlid) {
    return `.o_main_navbar [data-menu-xmlid="amazon_fbm_connector.${xmlid}"]`;
}

function status(label) {
    return `.o_form_view .o_statusbar_status button[aria-checked="true"]:contains("${label}")`;
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
        {
            content: "Open Operations",
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
    ],
});
