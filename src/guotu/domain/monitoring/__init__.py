"""Implementation supervision: indicator status and forecasts, change-patch cases."""
