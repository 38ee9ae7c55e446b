/** @odoo-module **/
/**
 * A seller's first week, in a real browser (run by tests/test_tour.py): the FBM
 * orders show the time left to ship, "late by" and "shipped"; validating an
 * Amazon delivery asks first for the carrier and tracking number Amazon
 * requires, and the carrier is made from Amazon's carrier code in one click.
 */
import { registry } from "@web/core/registry";

function row(ref) {
    return `.o_list_view .o_data_row:contains("${ref}")`;
}

function status(label) {
    return `.o_form_view .o_statusbar_status button[aria-checked="true"]:contains("${label}")`;
}

registry.category("web_tour.tours").add("amazon_fbm_first_week", {
    test: true,
    url: "/web#action=amazon_fbm_connector.action_amazon_fbm_orders",
    steps: () => [
        {
            content: "An order to ship: the time left",
            trigger: `${row("903-1111111-0000001")} td[name="amazon_time_to_ship"]:contains("left")`,
            isCheck: true,
        },
        {
            content: "A late order says by how much",
            trigger: `${row("903-1111111-0000003")} td[name="amazon_time_to_ship"]:contains("late by")`,
            isCheck: true,
        },
        {
            content: "A shipped order says shipped, not 'ship by N days ago'",
            trigger: `${row("903-1111111-0000002")} td[name="amazon_time_to_ship"]:contains("shipped")`,
            isCheck: true,
        },
        {
            content: "Open the order to ship",
            trigger: `${row("903-1111111-0000001")} td[name="amazon_order_ref"]`,
        },
        {
            content: "Open its delivery",
            trigger: '.o_form_view button[name="action_view_delivery"]',
        },
        {
            content: "The delivery shows Amazon's ship-by date and the time left",
            trigger: '.o_form_view .o_field_widget[name="amazon_time_to_ship"]:contains("left")',
            extra_trigger: status("Ready"),
            isCheck: true,
        },
        {
            content: "Validate without carrier nor tracking number",
            trigger: '.o_statusbar_buttons button[name="button_validate"]',
        },
        {
            content: "Odoo asks first for what Amazon requires: pick Amazon's carrier",
            trigger: '.o_field_widget[name="carrier_code_id"] input',
            run: "text Royal Mail",
        },
        {
            content: "Royal Mail",
            trigger: '.o-autocomplete--dropdown-menu .dropdown-item:contains("Royal Mail")',
        },
        {
            content: "Enter the tracking number",
            trigger: '.o_field_widget[name="tracking_ref"] input',
            run: "text RM123456785GB",
        },
        {
            content: "Validate",
            trigger: '.modal-footer button[name="action_validate"]',
        },
        {
            content: "The delivery is done, its carrier made from Amazon's code; Amazon is to be told",
            trigger: status("Done"),
            extra_trigger: '.o_field_widget[name="amazon_confirm_state"]:contains("To Send")',
            isCheck: true,
        },
    ],
});
