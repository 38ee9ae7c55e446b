from . import test_seller
from . import test_order_builder
from . import test_unshipped_report
from . import test_order_queues
from . import test_shared_quota
from . import test_workspace
from . import test_shipment_confirmation
from . import test_cancellations
