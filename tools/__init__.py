"""Scripts, benchmarks and the SP-API emulator (not loaded by the addon)."""
