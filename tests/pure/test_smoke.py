def test_placeholder_import():
    import services.spapi_client  # noqa: F401
