from . import amazon_operation_wizard
from . import amazon_shipping_check_wizard
from . import amazon_order_cancel_wizard
