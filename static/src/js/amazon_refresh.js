/** @odoo-module **/
/**
 * Open screens follow the server (models/amazon_refresh_mixin.py): when the bus says
 * that records of a model changed ({model, ids}), the form showing one of them and the
 * lists and kanbans of that model reload. A form with unsaved edits, and a list row
 * being edited or a selection, are left alone.
 */
import { EventBus, useEnv } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useBus } from "@web/core/utils/hooks";
import { patch } from "@web/core/utils/patch";
import { FormController } from "@web/views/form/form_controller";
import { KanbanController } from "@web/views/kanban/kanban_controller";
import { ListController } from "@web/views/list/list_controller";

export const REFRESH_TYPE = "amazon_fbm_connector/refresh";

export const amazonRefreshService = {
    dependencies: ["bus_service"],
    start(env, { bus_service: busService }) {
        const bus = new EventBus();
        busService.addEventListener("notification", ({ detail: notifications }) => {
            for (const { type, payload } of notifications || []) {
                if (type === REFRESH_TYPE && payload && payload.model) {
                    bus.trigger("refresh", payload);
                }
            }
        });
        busService.start();
        return { bus };
    },
};
registry.category("services").add("amazon_fbm_refresh", amazonRefreshService);

/**
 * Calls ``reload`` when the server changed records of ``getModel()`` (``ids`` given),
 * one reload at a time: messages arriving during a reload cause one more after it.
 */
function useAmazonRefresh(getModel, reload) {
    const env = useEnv();
    const service = env.services.amazon_fbm_refresh;
    if (!service) {
        return;
    }
    let running = false;
    let again = null;
    const run = async (ids) => {
        if (running) {
            again = ids;
            return;
        }
        running = true;
        try {
            await reload(ids);
        } finally {
            running = false;
            if (again) {
                const next = again;
                again = null;
                run(next);
            }
        }
    };
    useBus(service.bus, "refresh", ({ detail }) => {
        if (detail.model === getModel()) {
            run(detail.ids || []);
        }
    });
}

patch(FormController.prototype, {
    setup() {
        super.setup(...arguments);
        useAmazonRefresh(
            () => this.props.resModel,
            async (ids) => {
                const record = this.model.root;
                if (!record || !record.resId || !ids.includes(record.resId)) {
                    return;
                }
                if (await record.isDirty()) {
                    return; // unsaved edits win: the seller saves or discards them first
                }
                await record.load();
            }
        );
    },
});

function listIsBusy(root) {
    return Boolean(root && (root.editedRecord || (root.selection && root.selection.length)));
}

const reloadList = () => ({
    setup() {
        super.setup(...arguments);
        useAmazonRefresh(
            () => this.props.resModel,
            async () => {
                if (listIsBusy(this.model.root)) {
                    return;
                }
                await this.model.load();
            }
        );
    },
});
patch(ListController.prototype, reloadList());
patch(KanbanController.prototype, reloadList());
