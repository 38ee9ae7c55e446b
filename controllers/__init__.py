from . import amazon_authorize
