/** @odoo-module **/
/**
 * Screens that keep up, in a real browser (run by tests/test_screens_tour.py): a
 * delivery and a Sale Order Report change state through a cron that the test runs
 * while the tour waits, and the open form shows the new state without a reload; an
 * empty filter says that no order matches, and every dashboard card shows its
 * schedules' runs.
 *
 * Odoo disables its websocket in test mode: the tour reads the bus through Odoo's own
 * /websocket/peek_notifications (the server's channels, the bus.bus rows our commits
 * wrote) and hands the notifications to the bus service, as its worker does.
 */
import { registry } from "@web/core/registry";
import { jsonrpc } from "@web/core/network/rpc_service";

function startBusPolling() {
    if (window.amazonScreensPolling) {
        return;
    }
    window.amazonScreensPolling = true;
    const busService = odoo.__WOWL_DEBUG__.root.env.services.bus_service;
    let last = 0;
    let first = true;
    const poll = async () => {
        try {
            const result = await jsonrpc("/websocket/peek_notifications", {
                channels: [],
                last,
                is_first_poll: first,
            });
            first = false;
            const notifications = result.notifications || [];
            if (notifications.length) {
                last = Math.max(last, ...notifications.map((n) => n.id));
                busService.trigger(
                    "notification",
                    notifications.map((n) => ({ ...n.message, id: n.id }))
                );
            }
        } finally {
            setTimeout(poll, 500);
        }
    };
    poll();
}

function status(label) {
    return `.o_form_view .o_statusbar_status button[aria-checked="true"]:contains("${label}")`;
}

registry.category("web_tour.tours").add("amazon_fbm_screens_delivery", {
    test: true,
    steps: () => [
        {
            content: "The delivery, ready, with carrier and tracking number",
            trigger: '.o_form_view .o_field_widget[name="amazon_time_to_ship"]',
            extra_trigger: status("Ready"),
            run: startBusPolling,
        },
        {
            content: "Validate: Amazon is to be told, by the confirmation cron",
            trigger: '.o_statusbar_buttons button[name="button_validate"]',
        },
        {
            content: "Done, To Send",
            trigger: '.o_form_view .o_field_widget[name="amazon_confirm_state"]:contains("To Send")',
            extra_trigger: status("Done"),
            isCheck: true,
        },
        {
            content: "The cron confirmed it to Amazon: the open form shows Sent, with no reload",
            trigger: '.o_form_view .o_field_widget[name="amazon_confirm_state"]:contains("Sent")',
            timeout: 60000,
            isCheck: true,
        },
    ],
});

registry.category("web_tour.tours").add("amazon_fbm_screens_report", {
    test: true,
    steps: () => [
        {
            content: "A Done Sale Order Report",
            trigger: '.o_form_view .o_field_widget[name="report_type_name"]',
            extra_trigger: status("Done"),
            run: startBusPolling,
        },
        {
            content: "Process File hands it to the scheduler",
            trigger: '.o_statusbar_buttons button[name="action_process_file"]',
        },
        {
            content: "Still Done: the click imported nothing itself",
            trigger: '.o_form_view .o_field_widget[name="auto_process"] input:checked',
            extra_trigger: status("Done"),
            isCheck: true,
        },
        {
            content: "The scheduler processed it: the open form shows Processed and its orders",
            trigger: status("Processed"),
            extra_trigger: '.o_form_view .o_data_row:contains("Created")',
            timeout: 60000,
            isCheck: true,
        },
    ],
});

registry.category("web_tour.tours").add("amazon_fbm_screens_wording", {
    test: true,
    url: "/web#action=amazon_fbm_connector.action_amazon_dashboard",
    steps: () => [
        {
            content: "Every card shows its schedules' last and next runs",
            trigger: ".o_amazon_dashboard_card .o_amazon_run_confirmations:not(:empty)",
            extra_trigger: ".o_amazon_dashboard_card .o_amazon_run_status_sync:not(:empty)",
            run() {
                const cards = document.querySelectorAll(".o_amazon_dashboard_card");
                const withRuns = document.querySelectorAll(
                    ".o_amazon_dashboard_card .o_amazon_flows .o_amazon_run_confirmations span"
                );
                if (!cards.length || cards.length !== withRuns.length) {
                    throw new Error(`cards: ${cards.length}, with run times: ${withRuns.length}`);
                }
                for (const el of withRuns) {
                    if (!el.textContent.includes("/")) {
                        throw new Error(`no last / next run: ${el.textContent}`);
                    }
                }
            },
        },
        {
            content: "Open the FBM orders of a card",
            trigger: ".o_amazon_dashboard_card .o_primary a",
        },
        {
            content: "Orders exist: open the filters",
            trigger: ".o_searchview_dropdown_toggler",
            extra_trigger: ".o_list_view .o_data_row",
        },
        {
            content: "Late: no order is late",
            trigger: '.o_filter_menu .o_menu_item:contains("Late")',
        },
        {
            content: "The empty list says no order matches, not that there is no order yet",
            trigger: '.o_view_nocontent:contains("No order matches these filters")',
            run() {
                const text = document.querySelector(".o_view_nocontent").textContent;
                if (text.includes("yet")) {
                    throw new Error(`misleading empty state: ${text}`);
                }
            },
        },
    ],
});
