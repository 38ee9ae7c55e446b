from . import amazon_operation_wizard
