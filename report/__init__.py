from . import sale_report
from . import amazon_import_failure
