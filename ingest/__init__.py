"""Landing of raw market data into the `raw` schema. Nothing here computes an indicator."""
